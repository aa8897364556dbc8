"""The preprocess stage's work, in memory: data/raw/ -> the train, validation and test splits as arrays.

The preprocess stage (stages/preprocess.py) calls it and writes the arrays to data/processed/; the seed study's
replicas call it with their own seed, so that each replica draws its own split exactly as the pipeline would
with that seed in params.yaml.
"""
from dataclasses import dataclass

import numpy as np

from fmnist import paths
from fmnist.errors import UserError
from fmnist.idx import read_images_and_labels


@dataclass(frozen=True)
class Raw:
    """The development and test sets as read: N x 28 x 28 uint8 images, N uint8 class ids."""

    dev_images: np.ndarray
    dev_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


@dataclass(frozen=True)
class Prepared:
    """What preprocess makes: {split: (x, y)} for train, val and test, and the scaling (pixels - offset) / divisor."""

    arrays: dict[str, tuple[np.ndarray, np.ndarray]]
    offset: float
    divisor: float


def read_split(split: str):
    """A split's images and labels, held to the dataset's contract: 28x28 images (and labels 0 to 9, which
    read_images_and_labels checks). A well-formed IDX file of other images would otherwise train every model
    on them."""
    images_path, labels_path = (paths.RAW_DIR / paths.RAW_FILES[split, kind] for kind in ("images", "labels"))
    for path in (images_path, labels_path):
        if not path.exists():
            raise UserError(f"{path}: not found; run the download stage first (dvc repro)")
    images, labels = read_images_and_labels(images_path, labels_path)
    if images.shape[1:] != paths.IMAGE_SHAPE:
        raise UserError(f"{images_path}: images of {'x'.join(map(str, images.shape[1:]))} pixels; expected "
                        f"{'x'.join(map(str, paths.IMAGE_SHAPE))}, as in Fashion-MNIST")
    return images, labels


def check_splittable(labels) -> None:
    """The stratified split puts each class in both train and validation: it needs 2 images of each."""
    counts = np.bincount(labels, minlength=len(paths.CLASS_NAMES))
    for label, count in enumerate(counts):
        if count == 1:
            raise UserError(f"{paths.RAW_DIR / paths.RAW_FILES['dev', 'labels']}: class {label} "
                            f"({paths.CLASS_NAMES[label]}) has 1 image; expected at least 2 of each class, "
                            "one for train and one for validation")


def read_raw() -> Raw:
    """The four files of data/raw/, checked: 28x28 images, each images file with its labels."""
    (dev_images, dev_labels), (test_images, test_labels) = read_split("dev"), read_split("test")
    return Raw(dev_images, dev_labels, test_images, test_labels)


def pixel_statistics(images: np.ndarray) -> tuple[float, float]:
    """Exact mean and standard deviation of uint8 pixels, from a 256-bin histogram: no float copy needed."""
    counts = np.bincount(images.ravel(), minlength=256).astype(np.float64)
    values = np.arange(256, dtype=np.float64)
    # Elementwise products summed by numpy, not a BLAS dot product, whose order of summation depends on the CPU.
    mean = np.sum(counts * values) / counts.sum()
    std = np.sqrt(np.sum(counts * (values - mean) ** 2) / counts.sum())
    return float(mean), float(std)


def scale(images: np.ndarray, offset: float, divisor: float) -> np.ndarray:
    """(pixels - offset) / divisor, flattened, in float32, computed in place."""
    x = images.reshape(len(images), -1).astype(np.float32)
    x -= np.float32(offset)
    x /= np.float32(divisor)
    return x


def split_and_scale(raw: Raw, p, seed: int) -> Prepared:
    """Development split into train and validation (`p.val_fraction`, stratified by class, drawn from `seed`),
    every split flattened and scaled as `p.scaling` says, with statistics from the train split only."""
    # scikit-learn here, not at import: a stage whose raw files are bad fails before it loads (0.6 s)
    from sklearn.model_selection import train_test_split

    check_splittable(raw.dev_labels)
    try:
        train_idx, val_idx = train_test_split(np.arange(len(raw.dev_labels)), test_size=p.val_fraction,
                                              stratify=raw.dev_labels, random_state=seed)
    except ValueError as error:  # e.g. a validation split smaller than the number of classes
        raise UserError(f"{paths.RAW_DIR / paths.RAW_FILES['dev', 'labels']}: cannot split: {error}") from None

    if p.scaling == "unit":
        offset, divisor = 0.0, 255.0
    else:
        offset, divisor = pixel_statistics(raw.dev_images[train_idx])
    arrays = {
        "train": (scale(raw.dev_images[train_idx], offset, divisor), raw.dev_labels[train_idx]),
        "val": (scale(raw.dev_images[val_idx], offset, divisor), raw.dev_labels[val_idx]),
        "test": (scale(raw.test_images, offset, divisor), raw.test_labels),
    }
    return Prepared(arrays, offset, divisor)


def prepare(p, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{split: (x, y)} for train, val and test, as the preprocess stage writes them with `seed` as params.yaml's
    seed and `p` as its preprocess section: the same arrays, to the byte."""
    return split_and_scale(read_raw(), p, seed).arrays
