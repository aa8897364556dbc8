"""Stage `preprocess`: data/raw/ -> data/processed/{train,val,test}_{x,y}.npy

Flattens the images to 784 features, scales them (the same transform for train, validation and test, with
statistics from the training split only), splits development 8:2 into train and validation, stratified and
seeded. Labels stay integer class ids; the training stage one-hot encodes them only for a loss that needs it.
Also draws the first 25 development and test images (assignment 2.1).
"""
import numpy as np
from sklearn.model_selection import train_test_split

from fmnist import params, paths, plots
from fmnist.errors import UserError
from fmnist.stage import run_stage
from fmnist.files import atomic_path, remove_stale_tmp, write_json
from fmnist.idx import read_images_and_labels


def read_split(split: str):
    return read_images_and_labels(paths.RAW_DIR / paths.RAW_FILES[split, "images"],
                                  paths.RAW_DIR / paths.RAW_FILES[split, "labels"])


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


def class_counts(labels) -> dict:
    counts = np.bincount(labels, minlength=len(paths.CLASS_NAMES))
    return {name: int(count) for name, count in zip(paths.CLASS_NAMES, counts)}


def main():
    seed = params.load_seed()
    p = params.load("preprocess")
    dev_images, dev_labels = read_split("dev")
    test_images, test_labels = read_split("test")
    if dev_images.shape[1:] != test_images.shape[1:]:
        raise UserError(f"{paths.RAW_DIR}: development images are {dev_images.shape[1:]}, "
                        f"test images {test_images.shape[1:]}")
    print(f"x_dev {dev_images.shape}, y_dev {dev_labels.shape}, x_test {test_images.shape}, y_test {test_labels.shape}")

    try:
        train_idx, val_idx = train_test_split(np.arange(len(dev_labels)), test_size=p.val_fraction,
                                              stratify=dev_labels, random_state=seed)
    except ValueError as error:  # e.g. a class with a single image cannot be stratified
        raise UserError(f"{paths.RAW_DIR / paths.RAW_FILES['dev', 'labels']}: cannot split: {error}") from None

    if p.scaling == "unit":
        offset, divisor = 0.0, 255.0
    else:
        offset, divisor = pixel_statistics(dev_images[train_idx])
    arrays = {
        "train": (scale(dev_images[train_idx], offset, divisor), dev_labels[train_idx]),
        "val": (scale(dev_images[val_idx], offset, divisor), dev_labels[val_idx]),
        "test": (scale(test_images, offset, divisor), test_labels),
    }
    print(f"flattened: x_dev ({len(dev_images)}, {arrays['test'][0].shape[1]}), x_test {arrays['test'][0].shape}")

    paths.PROCESSED_DIR.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(paths.PROCESSED_DIR)
    for split, (x, y) in arrays.items():
        for kind, array in (("x", x), ("y", y)):
            with atomic_path(paths.processed(split, kind)) as tmp:
                np.save(tmp, array)
        print(f"{split}: x {x.shape} {x.dtype}, y {y.shape}")

    write_json(paths.METRICS_DIR / "preprocess.json", {
        "sizes": {split: len(y) for split, (_, y) in arrays.items()},
        "scaling": {"method": p.scaling, "offset": offset, "divisor": divisor},
        "class_counts": {split: class_counts(y) for split, (_, y) in arrays.items()},
    })
    for name, images, labels in (("development", dev_images, dev_labels), ("test", test_images, test_labels)):
        plots.image_grid(images[:25], [paths.CLASS_NAMES[label] for label in labels[:25]],
                         f"First 25 images of the {name} set", paths.PLOTS_DIR / "samples" / f"{name}.png")


if __name__ == "__main__":
    run_stage(main)
