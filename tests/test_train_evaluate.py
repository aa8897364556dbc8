"""The train and evaluate stages on a tiny dataset, run as the pipeline runs them: their outputs in the session's
tiny pipeline (conftest.py), and the cases that pipeline does not take."""
import csv
import json
import shutil
import subprocess
import sys

import pytest

from helpers import ROOT, edit_params, env_for

MODELS = ("mlp", "lenet", "dropout", "bn")


def stage(workdir, *args):
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=workdir, capture_output=True, text=True,
        env=dict(env_for(), PYTHONPATH=str(ROOT)))


@pytest.fixture(scope="module")
def workdir(repo_run):
    """A copy of the tiny pipeline after `dvc repro`: every model trained by stages.train, then stages.evaluate."""
    return repo_run[0]


@pytest.fixture(scope="module")
def one_hot(workdir, tmp_path_factory):
    """A copy where the MLP trained for 3 epochs with the one-hot loss (categorical cross-entropy)."""
    copy = tmp_path_factory.mktemp("one-hot") / "work"
    shutil.copytree(workdir, copy, symlinks=True)
    edit_params(copy, train_mlp={"loss": "categorical_crossentropy", "epochs": 3})
    result = stage(copy, "stages.train", "mlp")
    assert result.returncode == 0, result.stderr
    return copy


def read_json(path):
    return json.loads(path.read_text())


@pytest.mark.parametrize("model", MODELS)
def test_training_writes_all_its_outputs(workdir, model):
    metrics = read_json(workdir / "metrics" / model / "train.json")
    assert set(metrics) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "params", "epochs"}
    assert 0 <= metrics["val_accuracy"] <= 1 and metrics["params"] > 60_000
    timing = read_json(workdir / "metrics" / model / "timing.json")
    assert timing["seconds_per_epoch"] > 0 and timing["samples_per_second"] > 0
    # every epoch's seconds summed: the first plus the others, whose sum is at least their median
    others = timing["seconds_per_epoch"] if metrics["epochs"] > 1 else 0.0
    assert timing["seconds_all_epochs"] >= (timing["seconds_first_epoch"] + others) * (1 - 1e-9)
    with open(workdir / "plots" / model / "history.csv") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == metrics["epochs"]
    assert {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"} <= set(rows[0])
    first = read_json(workdir / "metrics" / model / "first_sample.json")
    assert abs(first["trained"]["sum"] - 1) < 1e-5 and first["trained"]["sum_is_1_to_2_decimals"] is True
    assert f"Trainable parameters: {metrics['params']:,}" in (workdir / "metrics" / model / "layers.md").read_text()
    assert (workdir / "models" / f"{model}.keras").stat().st_size > 10_000


def test_the_one_hot_loss_trains_too(one_hot):
    rows = list(csv.DictReader(open(one_hot / "plots" / "mlp" / "history.csv")))
    assert len(rows) == 3 and float(rows[-1]["loss"]) < float(rows[0]["loss"])


def test_an_unknown_model_is_a_usage_error(workdir):
    result = stage(workdir, "stages.train", "resnet")
    assert result.returncode == 1 and result.stderr.startswith("error: usage: python -m stages.train MODEL")


def test_evaluate(workdir):
    comparison = read_json(workdir / "metrics" / "comparison.json")
    assert list(comparison) == list(MODELS)
    for model in MODELS:
        test = read_json(workdir / "metrics" / model / "test.json")
        assert 0 <= test["accuracy"] <= 1 and test["loss"] > 0
        assert set(test["per_class"]["Ankle boot"]) == {"precision", "recall", "f1-score"}
        rows = list(csv.DictReader(open(workdir / "plots" / model / "confusion.csv")))
        assert len(rows) == 50 and set(rows[0]) == {"actual", "predicted"}
        assert sum(r["actual"] == r["predicted"] for r in rows) / 50 == pytest.approx(test["accuracy"])
        gap = comparison[model]["train_accuracy"] - comparison[model]["val_accuracy"]
        assert comparison[model]["train_val_gap"] == pytest.approx(gap)
        for name in ("confusion.png", "predictions.png", "loss.png", "accuracy.png"):
            assert (workdir / "plots" / model / name).stat().st_size > 5_000
    with open(workdir / "plots" / "comparison" / "test_accuracy.csv", newline="") as file:
        bars = {row["model"]: float(row["test_accuracy"]) for row in csv.DictReader(file)}
    assert bars == {title: comparison[model]["test_accuracy"] for model, title in
                    zip(MODELS, ("MLP", "LeNet-5", "LeNet-5 with dropout", "LeNet-5 with batch norm"))}
    for name in ("test_accuracy.png", "val_loss.png", "val_accuracy.png"):
        assert (workdir / "plots" / "comparison" / name).stat().st_size > 5_000


def test_evaluate_refuses_a_model_file_that_needs_project_code(workdir, tmp_path):
    """A model saved with the training layer itself would not load outside the project: evaluate says so."""
    from fmnist import models, params

    copy = tmp_path / "work"
    shutil.copytree(workdir, copy)
    models.build("bn", params.load("train_bn", copy / "params.yaml")).save(copy / "models" / "bn.keras")
    result = stage(copy, "stages.evaluate")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "error: models/bn.keras: names classes that plain Keras lacks "
        "(fmnist>FastBatchNormalization); save it with fmnist.models.standard_keras")
