"""make check on the tiny pipeline: fingerprints, an untouched rerun, a tampered metric, other machines."""
import json
import shutil

import pytest

from fmnist import params
from fmnist.review import stats
from helpers import edit_params, run

STAGES_WITH_FINGERPRINTS = ("backprop_check", "train_mlp", "train_lenet", "train_dropout", "train_bn", "evaluate")


def check(repo, rev="HEAD"):
    return run(["python", "-m", "fmnist.review.check", "--rev", rev], cwd=repo, check=False)


def rows(output: str, model: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines() if line.startswith(f"{model} ")]


@pytest.fixture(scope="module")
def repo(committed_repo):
    return committed_repo


def test_every_float_computing_stage_writes_its_fingerprint(repo):
    for stage in STAGES_WITH_FINGERPRINTS:
        fp = json.loads((repo / "metrics" / "machine" / f"{stage}.json").read_text())
        assert fp["vector_isa"] in ("AVX-512", "AVX2", "AVX", "SSE4.2", "SSE2") and fp["python"] and fp["numpy"]
        assert fp["tensorflow"] and fp["keras"] and fp["cpus_available"] >= 1
        # the threads of the stage's params section (train_mlp, ..., evaluate); backprop_check is numpy's
        expected = None if stage == "backprop_check" else params.load(stage, repo / "params.yaml").threads
        assert fp["threads"] == expected


def test_an_untouched_rerun_on_one_core_is_identical(repo, data):
    if shutil.which("taskset") is None:
        pytest.fail("taskset (util-linux) is needed to emulate a one-core machine")
    run(["taskset", "-c", "0", "dvc", "repro", "-f", "-s", "train_mlp", "evaluate"], cwd=repo, data_dir=data)
    assert json.loads((repo / "metrics/machine/train_mlp.json").read_text())["cpus_available"] == 1
    result = check(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    for model in ("mlp", "lenet", "dropout", "bn"):
        assert rows(result.stdout, model)[0][-1] == "identical"
    assert "Reproduced" in result.stdout


def test_a_tampered_metric_fails_naming_the_model(repo):
    path = repo / "metrics/lenet/test.json"
    original = path.read_text()
    tampered = json.loads(original)
    tampered["accuracy"] += 0.015
    path.write_text(json.dumps(tampered, indent=2) + "\n")
    try:
        result = check(repo)
    finally:
        path.write_text(original)
    assert result.returncode == 1
    assert "- metrics/lenet/test.json: differs from the committed file" in result.stdout
    assert "- this run: metrics/lenet/test.json: accuracy" in result.stdout  # contradicts its predictions
    assert rows(result.stdout, "lenet")[0][-3:] == ["DIFFERENT:", "1", "file"]


def test_another_vector_isa_is_judged_against_the_seed_noise(repo, data):
    """oneDNN capped at SSE4.1 stands for another kind of CPU (every x86-64 CPU today has wider vectors): no
    byte comparison, but a band from a seed study."""
    edit_params(repo, seed_study={"seeds": [0, 1, 2]})
    run(["dvc", "repro", "seeds/dvc.yaml"], cwd=repo, data_dir=data)
    study = json.loads((repo / "metrics/seeds.json").read_text())
    assert [study["models"][m]["test_accuracy"]["n"] for m in ("mlp", "lenet", "dropout", "bn")] == [3, 3, 3, 3]
    assert study["models"]["mlp"]["runs"][0]["test_accuracy"] == json.loads((repo / "metrics/mlp/test.json").read_text())["accuracy"]
    run(["git", "add", "params.yaml", "metrics/seeds.json", "seeds"], cwd=repo)
    run(["git", "commit", "-qm", "seed study"], cwd=repo)

    # LeNet-5 trains with oneDNN's kernels, which the cap changes (the MLP's, Eigen's, it does not touch)
    run(["env", "ONEDNN_MAX_CPU_ISA=SSE41", "dvc", "repro", "-f", "-s", "train_lenet", "evaluate"], cwd=repo, data_dir=data)
    result = check(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    # evaluate reran under the cap too, so every model's test metrics come from "another machine"
    lenet = rows(result.stdout, "lenet")
    assert [row[1] for row in lenet] == ["train_accuracy", "train_loss", "val_accuracy", "val_loss", "test_accuracy", "test_loss"]
    for model in ("mlp", "lenet", "dropout", "bn"):
        model_rows = rows(result.stdout, model)
        assert model_rows[0][-1] == "identical" or all(" ".join(row[-2:]) == "within noise" for row in model_rows)

    # The same rerun against committed results shifted by more than the band: outside the noise, named.
    path = repo / "metrics/lenet/train.json"
    rerun = path.read_text()
    spread = study["models"]["lenet"]["val_accuracy"]
    shifted = dict(json.loads(rerun))
    shifted["val_accuracy"] += stats.difference_band(spread["sd"], spread["n"]) + 0.01
    path.write_text(json.dumps(shifted, indent=2) + "\n")
    run(["git", "commit", "-qm", "a stale validation accuracy", "--", "metrics/lenet/train.json"], cwd=repo)
    path.write_text(rerun)
    result = check(repo)
    assert result.returncode == 1
    assert "- lenet: val_accuracy moved by" in result.stdout and "more than the seed noise allows" in result.stdout


def test_a_missing_revision_is_one_clear_line(repo):
    result = check(repo, rev="no-such-branch")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: --rev no-such-branch: no such revision in this git repository"
