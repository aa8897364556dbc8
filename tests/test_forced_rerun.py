"""`dvc repro -f` of the whole committed tiny pipeline on one core: the same bytes, and make check says so.
Apart from tests/test_check.py, so that the two run side by side under pytest-xdist."""
import json
import re
import shutil
from types import SimpleNamespace

import pytest

from helpers import linux_only, results_snapshot, run
from test_check import check, rows


@pytest.fixture(scope="module")
def repo(committed_repo):
    return committed_repo


# Measurements of this machine, not results: its speed, and the fingerprints, which record the one core.
NOT_RESULTS = re.compile(r"metrics/(\w+/timing|machine/\w+)\.json$")


@pytest.fixture(scope="module")
def forced_rerun_on_one_core(repo, data):
    """Every stage of the committed tiny pipeline rerun with `dvc repro -f` on one core: the results before and
    after, and `make check` on them."""
    if shutil.which("taskset") is None:
        pytest.fail("taskset (util-linux) is needed to emulate a one-core machine")
    before = results_snapshot(repo, NOT_RESULTS)
    run(["taskset", "-c", "0", "dvc", "repro", "-f"], cwd=repo, data_dir=data)
    return SimpleNamespace(before=before, after=results_snapshot(repo, NOT_RESULTS), check=check(repo))


@linux_only
def test_forced_reruns_give_byte_identical_results(repo, forced_rerun_on_one_core):
    before, after = forced_rerun_on_one_core.before, forced_rerun_on_one_core.after
    assert after.keys() == before.keys()
    assert [name for name in before if before[name] != after[name]] == []
    # so no metric moved either: the timing files, which did, are outs but not metrics
    assert "metrics/mlp/train.json" in run(["dvc", "metrics", "diff", "--all"], cwd=repo).stdout
    assert run(["dvc", "metrics", "diff"], cwd=repo).stdout == ""


@linux_only
def test_an_untouched_rerun_on_one_core_is_identical(repo, forced_rerun_on_one_core):
    for stage in ("train_mlp", "train_bn", "evaluate"):  # threads 1 and 2 alike
        assert json.loads((repo / f"metrics/machine/{stage}.json").read_text())["cpus_available"] == 1
    result = forced_rerun_on_one_core.check
    assert result.returncode == 0, result.stdout + result.stderr
    for model in ("mlp", "lenet", "dropout", "bn"):
        assert [row[-1] for row in rows(result.stdout, model)] == ["identical"]
    assert "Reproduced" in result.stdout
