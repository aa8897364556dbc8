"""The reviewers' workflow on a tiny dataset: a queued sweep with `dvc exp`, and a shared cache through a
DVC remote, so that a fresh clone gets results and models without retraining."""
import json
import time

import pytest

from helpers import dvc, run


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
    # no FASHION_MNIST_DIR: nothing is downloaded or trained. The pipeline's outputs: the seed study's
    # (seeds/dvc.yaml), never run in the copy, have no hashes to pull, which fails a plain `dvc pull`
    dvc("pull", "dvc.yaml", cwd=clone)
    status = dvc("status", "dvc.yaml", cwd=clone).stdout  # the pipeline's (the seed study never ran in the copy)
    assert "Data and pipelines are up to date." in status
    for model in ("mlp", "lenet", "dropout", "bn"):
        assert (clone / "models" / f"{model}.keras").read_bytes() == (repo / "models" / f"{model}.keras").read_bytes()
    assert (clone / "metrics" / "comparison.json").read_text() == (repo / "metrics" / "comparison.json").read_text()
    assert "Running stage" not in dvc("repro", cwd=clone).stdout


def test_a_queued_sweep_lists_both_runs_with_metrics(repo, data):
    dvc("exp", "run", "--queue", "-S", "train_mlp.learning_rate=0.001,0.003", cwd=repo, data_dir=data)
    dvc("queue", "start", "-j", "1", cwd=repo, data_dir=data)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = dvc("queue", "status", cwd=repo).stdout
        if "Queued" not in status and "Running" not in status:
            break
        time.sleep(3)
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
