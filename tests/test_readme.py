"""The README's promises: the commands it names exist, and its results table is the committed metrics'."""
import re

from fmnist.review import report
from helpers import ROOT


def test_results_table_matches_the_committed_metrics(monkeypatch):
    monkeypatch.chdir(ROOT)
    readme = (ROOT / "README.md").read_text()
    table = readme.split(report.README_START)[1].split(report.README_END)[0].strip()
    assert table == report.readme_results()


def test_make_targets_named_in_the_readme_exist():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, flags=re.M))
    for target in set(re.findall(r"make (\w+)", (ROOT / "README.md").read_text())):
        assert target in targets, f"README names make {target}, the Makefile has no such target"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / "README.md").read_text()
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), flags=re.M)
