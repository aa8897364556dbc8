"""Stage `preprocess`: data/raw/ -> data/processed/{train,val,test}_{x,y}.npy

Flattens the images to 784 features, scales them (the same transform for train, validation and test, with
statistics from the training split only), splits development 8:2 into train and validation, stratified and
seeded. Labels stay integer class ids; the training stage one-hot encodes them only for a loss that needs it.
Also draws the first 25 development and test images (assignment 2.1). The arrays come from
fmnist.dataset (which the seed study's replicas share); this stage writes them.
"""
import numpy as np

from fmnist import dataset, params, paths
from fmnist.stage import run_stage
from fmnist.files import atomic_path, remove_stale_tmp, write_json


def class_counts(labels) -> dict:
    counts = np.bincount(labels, minlength=len(paths.CLASS_NAMES))
    return {name: int(count) for name, count in zip(paths.CLASS_NAMES, counts)}


def main():
    seed = params.load_seed()
    p = params.load("preprocess")
    raw = dataset.read_raw()
    print(f"x_dev {raw.dev_images.shape}, y_dev {raw.dev_labels.shape}, "
          f"x_test {raw.test_images.shape}, y_test {raw.test_labels.shape}")
    prepared = dataset.split_and_scale(raw, p, seed)
    arrays = prepared.arrays
    print(f"flattened: x_dev ({len(raw.dev_images)}, {arrays['test'][0].shape[1]}), x_test {arrays['test'][0].shape}")

    paths.PROCESSED_DIR.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(paths.PROCESSED_DIR)
    for split, (x, y) in arrays.items():
        for kind, array in (("x", x), ("y", y)):
            with atomic_path(paths.processed(split, kind)) as tmp:
                np.save(tmp, array)
        print(f"{split}: x {x.shape} {x.dtype}, y {y.shape}")

    write_json(paths.METRICS_DIR / "preprocess.json", {
        "sizes": {split: len(y) for split, (_, y) in arrays.items()},
        "scaling": {"method": p.scaling, "offset": prepared.offset, "divisor": prepared.divisor},
        "class_counts": {split: class_counts(y) for split, (_, y) in arrays.items()},
    })
    from fmnist import plots  # matplotlib only now: bad raw files or params fail before it loads

    for name, images, labels in (("development", raw.dev_images, raw.dev_labels),
                                 ("test", raw.test_images, raw.test_labels)):
        plots.image_grid(images[:25], [paths.CLASS_NAMES[label] for label in labels[:25]],
                         f"First 25 images of the {name} set", paths.PLOTS_DIR / "samples" / f"{name}.png")


if __name__ == "__main__":
    run_stage(main)
