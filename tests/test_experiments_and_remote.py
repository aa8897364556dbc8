"""The reviewers' workflow on a tiny dataset: a queued sweep with `dvc exp`, and a shared cache through a
DVC remote, so that a fresh clone gets results and models without retraining."""
import json
import subprocess
import time

import pytest

from helpers import VENV_BIN, dvc, env_for, run


@pytest.fixture(scope="module")
def repo(committed_repo):
    return committed_repo


def test_remote_push_then_fresh_clone_pulls_without_retraining(repo, tmp_path):
    remote = tmp_path / "remote"
    dvc("remote", "add", "-d", "shared", str(remote), cwd=repo)
    run(["git", "commit", "-qam", "shared remote"], cwd=repo)
    dvc("push", cwd=repo)

    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(repo), str(clone)], cwd=tmp_path)
    # no FASHION_MNIST_DIR: nothing is downloaded or trained. The pipeline's outputs and the seed study's
    dvc("pull", cwd=clone)
    assert "Data and pipelines are up to date." in dvc("status", cwd=clone).stdout
    for model in ("mlp", "lenet", "dropout", "bn"):
        assert (clone / "models" / f"{model}.keras").read_bytes() == (repo / "models" / f"{model}.keras").read_bytes()
    assert (clone / "metrics" / "comparison.json").read_text() == (repo / "metrics" / "comparison.json").read_text()
    assert "Running stage" not in dvc("repro", cwd=clone).stdout


def test_a_queued_sweep_lists_both_runs_with_metrics(repo, data, tmp_path):
    dvc("exp", "run", "--queue", "-S", "train_mlp.learning_rate=0.001,0.003", cwd=repo, data_dir=data)
    # Output to a file, not a pipe: the worker `queue start` leaves running inherits its output, and reading a
    # pipe to its end would wait for the worker to exit, up to 10 s after the queue is empty. One worker: DVC's
    # parallel workers can fail experiments that should not fail (github.com/treeverse/dvc/issues/10673).
    log = tmp_path / "queue-start.log"
    with open(log, "w") as out:
        started = subprocess.run([str(VENV_BIN / "dvc"), "queue", "start", "-j", "1"], cwd=repo,
                                 env=env_for(data), stdout=out, stderr=subprocess.STDOUT)
    assert started.returncode == 0, log.read_text()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = dvc("queue", "status", cwd=repo).stdout  # each call takes 1.5-3 s of its own
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(0.5)
    dvc("queue", "stop", cwd=repo)  # the idle worker exits now, not up to 10 s after this test
    assert "Failed" not in status, status
    experiments = json.loads(dvc("exp", "show", "--json", cwd=repo).stdout)
    runs = [exp for commit in experiments for exp in commit.get("experiments") or []]
    rates, accuracies = set(), []
    for exp in runs:
        revision = exp["revs"][0]["data"]
        rates.add(revision["params"]["params.yaml"]["data"]["train_mlp"]["learning_rate"])
        accuracies.append(revision["metrics"]["metrics/mlp/test.json"]["data"]["accuracy"])
    assert rates == {0.001, 0.003}
    assert len(accuracies) == 2 and all(0 <= a <= 1 for a in accuracies)
