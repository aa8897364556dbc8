"""The README's promises: its results block is the committed metrics', and CI runs its test command. (What
every page of the documentation promises, the README's included: tests/test_docs.py.)"""
import re

from fmnist.review import report
from helpers import ROOT


def test_results_table_matches_the_committed_metrics(monkeypatch):
    monkeypatch.chdir(ROOT)
    readme = (ROOT / "README.md").read_text()
    table = readme.split(report.README_START)[1].split(report.README_END)[0].strip()
    assert table == report.readme_results(), \
        "README.md's results block is stale: python -m fmnist.review.report --readme"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / "README.md").read_text()
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), flags=re.M)
