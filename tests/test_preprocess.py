"""The preprocess stage on a tiny dataset: shapes, split, scaling, labels, metrics and figures."""
import json
import shutil

import numpy as np
import pytest

from fmnist import dataset, paths
from helpers import ROOT, edit_params, tiny_arrays, write_tiny_dataset
from stages import preprocess


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    write_tiny_dataset(tmp_path / "data" / "raw", dev_per_class=20, test_per_class=5)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def load(split):
    return (np.load(paths.processed(split, "x"), allow_pickle=False),
            np.load(paths.processed(split, "y"), allow_pickle=False))


def test_unit_scaling_split_and_outputs(workdir):
    preprocess.main()
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load("train"), load("val"), load("test")
    assert x_train.shape == (160, 784) and x_val.shape == (40, 784) and x_test.shape == (50, 784)
    assert x_train.dtype == np.float32 and y_train.dtype == np.uint8
    # stratified 8:2: 16 train and 4 validation images of each class
    assert np.bincount(y_train).tolist() == [16] * 10 and np.bincount(y_val).tolist() == [4] * 10
    raw = tiny_arrays(dev_per_class=20, test_per_class=5)
    assert np.array_equal(x_test, raw["test_images"].reshape(50, 784) / np.float32(255))
    assert np.array_equal(y_test, raw["test_labels"])
    # train and validation together are the development set, each image once, with its own label
    dev = {(row.tobytes(), label) for row, label in zip(raw["dev_images"].reshape(200, 784), raw["dev_labels"])}
    back = {((row * 255).round().astype(np.uint8).tobytes(), label)
            for row, label in zip(np.vstack([x_train, x_val]), np.concatenate([y_train, y_val]))}
    assert back == dev
    metrics = json.loads((workdir / "metrics" / "preprocess.json").read_text())
    assert metrics["sizes"] == {"train": 160, "val": 40, "test": 50}
    assert metrics["class_counts"]["test"]["Ankle boot"] == 5
    for name in ("development", "test"):
        assert (workdir / "plots" / "samples" / f"{name}.png").stat().st_size > 10_000


def test_the_split_is_seeded(workdir):
    preprocess.main()
    first = load("train")[1]
    preprocess.main()
    assert np.array_equal(first, load("train")[1])
    edit_params(workdir, seed=1)
    preprocess.main()
    assert not np.array_equal(first, load("train")[1])


def test_standard_scaling_uses_train_statistics_only(workdir):
    edit_params(workdir, preprocess={"scaling": "standard"})
    preprocess.main()
    (x_train, _), (x_val, _), (x_test, _) = load("train"), load("val"), load("test")
    assert abs(x_train.mean()) < 1e-5 and abs(x_train.std() - 1) < 1e-5
    stats = json.loads((workdir / "metrics" / "preprocess.json").read_text())["scaling"]
    raw = tiny_arrays(dev_per_class=20, test_per_class=5)["test_images"].reshape(50, 784)
    assert np.allclose(x_test, (raw - stats["offset"]) / stats["divisor"], atol=1e-5)
    assert abs(x_val.mean()) > 1e-4  # validation was not used for the statistics


def test_pixel_statistics_are_exact():
    images = np.random.default_rng(0).integers(0, 256, size=(30, 28, 28), dtype=np.uint8)
    mean, std = dataset.pixel_statistics(images)
    assert np.isclose(mean, images.mean(dtype=np.float64)) and np.isclose(std, images.std(dtype=np.float64))
