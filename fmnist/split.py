"""The stratified train/validation split, in numpy alone: scikit-learn's
`train_test_split(indices, test_size=fraction, stratify=labels, random_state=seed)`, index for index (the same
algorithm, StratifiedShuffleSplit's, and the same draws from numpy's RandomState). The preprocess stage used
scikit-learn itself, whose import (with the SciPy it loads) took 1.4-1.8 s of the stage's 3.6 s.
tests/test_split.py checks the indices against scikit-learn's on many label sets and seeds."""
import math

import numpy as np


def split_sizes(n_samples: int, test_fraction: float) -> tuple[int, int]:
    """(train, test) sizes: the test set rounded up, as scikit-learn does."""
    n_test = math.ceil(test_fraction * n_samples)
    return n_samples - n_test, n_test


def stratified_split(labels, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices into `labels`: every class split in proportion (within one image), then both sets
    shuffled. ValueError when a class has a single image or a set would have fewer images than classes."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"the test fraction must be strictly between 0 and 1, not {test_fraction}")
    n_train, n_test = split_sizes(len(labels), test_fraction)
    classes, class_of_row, class_counts = np.unique(labels, return_inverse=True, return_counts=True)
    if len(classes) and class_counts.min() < 2:
        raise ValueError(f"classes {classes[class_counts < 2].tolist()} have a single image: each class needs at "
                         "least 2 to be in both sets")
    for name, size in (("train", n_train), ("validation", n_test)):
        if size < len(classes):
            raise ValueError(f"the {name} set would have {size} images, fewer than the {len(classes)} classes")
    rows_by_class = np.split(np.argsort(class_of_row, kind="stable"), np.cumsum(class_counts)[:-1])
    rng = np.random.RandomState(seed)
    train_per_class = _approximate_mode(class_counts, n_train, rng)
    test_per_class = _approximate_mode(class_counts - train_per_class, n_test, rng)
    train, test = [], []
    for rows, n, t in zip(rows_by_class, train_per_class, test_per_class):
        rows = rows[rng.permutation(len(rows))]
        train.append(rows[:n])
        test.append(rows[n:n + t])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _approximate_mode(class_counts, n_draws: int, rng) -> np.ndarray:
    """Images per class among n_draws, in proportion to class_counts: each class's share rounded down, then the
    images left over go to the largest remainders, ties broken at random (scikit-learn's _approximate_mode)."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (tied,) = np.where(remainder == value)
            add_now = min(len(tied), need_to_add)
            floored[rng.choice(tied, size=add_now, replace=False)] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)
