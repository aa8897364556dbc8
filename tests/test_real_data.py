"""Download and preprocess on the real Fashion-MNIST, from the folder named by FASHION_MNIST_DIR (CI sets it)."""
import os
import shutil

import numpy as np
import pytest

from fmnist import paths
from fmnist.idx import read_images_and_labels
from helpers import ROOT, require
from stages import download, preprocess

DATA_DIR = os.environ.get("FASHION_MNIST_DIR")


@pytest.fixture(autouse=True)
def real_data():
    require(bool(DATA_DIR), "FASHION_MNIST_DIR: not set; set it to a folder with the four Fashion-MNIST .gz files")


def test_download_and_preprocess_the_real_data(tmp_path, monkeypatch):
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    monkeypatch.setenv("FASHION_MNIST_DIR", os.path.abspath(DATA_DIR))
    monkeypatch.chdir(tmp_path)
    download.main()  # verifies the official md5 sums

    for split, count in (("dev", 60000), ("test", 10000)):
        images, labels = read_images_and_labels(paths.RAW_DIR / paths.RAW_FILES[split, "images"],
                                                paths.RAW_DIR / paths.RAW_FILES[split, "labels"])
        assert images.shape == (count, 28, 28) and labels.shape == (count,)
        assert np.bincount(labels).tolist() == [count // 10] * 10  # 6000 per class in development, 1000 in test

    preprocess.main()
    sizes = {split: np.load(paths.processed(split, "x"), mmap_mode="r").shape for split in paths.SPLITS}
    assert sizes == {"train": (48000, 784), "val": (12000, 784), "test": (10000, 784)}
    for split, per_class in (("train", 4800), ("val", 1200), ("test", 1000)):
        assert np.bincount(np.load(paths.processed(split, "y"))).tolist() == [per_class] * 10
    x_test = np.load(paths.processed("test", "x"))
    assert x_test.dtype == np.float32 and x_test.min() == 0 and x_test.max() == 1  # test scaled like train
