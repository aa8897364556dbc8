"""make check on the tiny pipeline: fingerprints, an untouched rerun, a tampered metric, other machines."""
import json
import shutil

import pytest

from fmnist import params
from fmnist.review import reproducibility as rep, stats
from helpers import edit_params, run

STAGES_WITH_FINGERPRINTS = ("backprop_check", "train_mlp", "train_lenet", "train_dropout", "train_bn", "evaluate")


def check(repo, rev="HEAD"):
    return run(["python", "-m", "fmnist.review.check", "--rev", rev], cwd=repo, check=False)


def listed(output: str, header: str) -> list[str]:
    """The `- ` lines under the line that starts with `header`."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header)) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("- ")), len(lines))
    return lines[start:end]


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


def test_results_committed_without_rerunning_a_changed_stage_fail_naming_what_changed(repo, tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy, symlinks=True)  # with the tiny seed study (helpers.TINY_STUDY) committed
    with open(copy / "fmnist/review/seeds.py", "a") as file:
        file.write("# changed\n")
    run(["git", "commit", "-qam", "seed study code changed, not rerun"], cwd=copy)
    result = check(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    seed_note = ("- dvc.lock: stage seeds/dvc.yaml:aggregate is out of date: "
                 "fmnist/review/seeds.py modified since it ran")
    assert listed(result.stdout, "Not counted (stages that make repro does not run):") == [seed_note]

    edit_params(copy, train_mlp={"epochs": 3})
    with open(copy / "fmnist/models.py", "a") as file:
        file.write("# changed\n")
    run(["git", "commit", "-qam", "epochs and a model changed, not rerun"], cwd=copy)
    result = check(copy)
    assert result.returncode == 1
    assert listed(result.stdout, "Not reproduced (5 problems):") == [
        "- dvc.lock: stage train@mlp is out of date: fmnist/models.py modified since it ran",
        "- dvc.lock: stage train@mlp is out of date: params.yaml train_mlp.epochs is 3, dvc.lock recorded 2",
        *(f"- dvc.lock: stage train@{m} is out of date: fmnist/models.py modified since it ran"
          for m in ("lenet", "dropout", "bn")),
    ]
    # the study's replicas read the same model code and params: noted, with the aggregate, never failed
    replica_notes = [*(f"- dvc.lock: stage seeds/dvc.yaml:replica@mlp-{seed} is out of date: {why}"
                       for seed in (0, 1) for why in ("fmnist/models.py modified since it ran",
                                                      "params.yaml train_mlp changed since it ran")),
                     *(f"- dvc.lock: stage seeds/dvc.yaml:replica@lenet-{seed} is out of date: "
                       "fmnist/models.py modified since it ran" for seed in (0, 1))]
    assert sorted(listed(result.stdout, "Not counted (stages that make repro does not run):")) == sorted(
        [*replica_notes, seed_note])


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
    # the committed tiny study gives LeNet-5 a band (the model "another machine" retrains); its seed 0 is the
    # pipeline's own run
    study = json.loads((repo / "metrics/seeds.json").read_text())
    assert {m: study["models"][m]["test_accuracy"]["n"] for m in study["models"]} == {"mlp": 2, "lenet": 2}
    assert (study["models"]["lenet"]["runs"][0]["test_accuracy"]
            == json.loads((repo / "metrics/lenet/test.json").read_text())["accuracy"])

    # LeNet-5 trains with oneDNN's kernels, which the cap changes: its weights come from "another machine".
    # evaluate reruns on this one, uncapped: the other models' results are made as they were, to the byte.
    run(["env", "ONEDNN_MAX_CPU_ISA=SSE41", "dvc", "repro", "-f", "-s", "train@lenet"], cwd=repo, data_dir=data)
    run(["dvc", "repro", "-s", "evaluate"], cwd=repo, data_dir=data)
    result = check(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    lenet = rows(result.stdout, "lenet")
    assert [row[1] for row in lenet] == ["train_accuracy", "train_loss", "val_accuracy", "val_loss", "test_accuracy",
                                         "test_loss"]
    assert [" ".join(row[-2:]) for row in lenet] == ["within noise"] * 6
    for model in ("mlp", "dropout", "bn"):
        assert [row[-1] for row in rows(result.stdout, model)] == ["identical"]

    # The same rerun against committed results shifted by more than the band: outside the noise, named.
    path = repo / "metrics/lenet/train.json"
    rerun = path.read_text()
    spread = study["models"]["lenet"]["val_accuracy"]
    shifted = dict(json.loads(rerun))
    alpha = stats.check_alphas(rep.HEADLINE_METRICS, n_models=4)["val_accuracy"]
    shifted["val_accuracy"] += stats.check_band(spread["sd"], spread["n"], alpha) + 0.01
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
