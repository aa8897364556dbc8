"""fmnist.split against scikit-learn's stratified train_test_split: the same indices, in the same order."""
import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from fmnist.split import split_sizes, stratified_split


def sklearn_split(labels, fraction, seed):
    return train_test_split(np.arange(len(labels)), test_size=fraction, stratify=labels, random_state=seed)


def label_sets():
    rng = np.random.default_rng(0)
    yield "Fashion-MNIST's balance (6,000 per class)", np.repeat(np.arange(10, dtype=np.uint8), 600)[
        rng.permutation(6000)]
    yield "unbalanced, with ties among remainders", rng.integers(0, 10, 997).astype(np.uint8)
    yield "two classes, odd sizes", np.array([0] * 7 + [1] * 5, dtype=np.uint8)
    yield "classes of 2 images", np.repeat(np.arange(10, dtype=np.uint8), 2)
    yield "non-contiguous class ids", rng.choice(np.array([3, 7, 9], dtype=np.uint8), 301)
    yield "skewed", np.array([0] * 500 + [1] * 30 + [2] * 3, dtype=np.uint8)


def possible_cases():
    """(name, labels, fraction) for every label set and fraction that leaves each set an image per class."""
    for name, labels in label_sets():
        for fraction in (0.2, 0.25, 0.5, 0.37):
            if min(split_sizes(len(labels), fraction)) >= len(np.unique(labels)):
                yield pytest.param(name, labels, fraction, id=f"{name}-{fraction}")


@pytest.mark.parametrize("name, labels, fraction", list(possible_cases()))
def test_same_indices_as_scikit_learn(name, labels, fraction):
    for seed in (0, 1, 42, 2**31):
        ours, theirs = stratified_split(labels, fraction, seed), sklearn_split(labels, fraction, seed)
        for a, b in zip(ours, theirs):
            assert np.array_equal(a, b), (name, fraction, seed)


def test_on_the_development_set_size():
    labels = np.random.default_rng(1).integers(0, 10, 60_000).astype(np.uint8)
    train, test = stratified_split(labels, 0.2, 0)
    assert (len(train), len(test)) == (48_000, 12_000)
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(60_000))
    for a, b in zip((train, test), sklearn_split(labels, 0.2, 0)):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("labels, fraction, message", [
    (np.array([0, 0, 1, 1, 2]), 0.4, r"classes \[2\] have a single image"),
    (np.repeat(np.arange(10), 2), 0.2, "validation set would have 4 images, fewer than the 10 classes"),
    (np.repeat(np.arange(10), 2), 0.8, "train set would have 4 images, fewer than the 10 classes"),
    (np.arange(4) % 2, 1.0, "strictly between 0 and 1"),
])
def test_impossible_splits_say_why(labels, fraction, message):
    with pytest.raises(ValueError, match=message):
        stratified_split(labels, fraction, 0)
    if fraction < 1:  # scikit-learn refuses them too
        with pytest.raises(ValueError):
            sklearn_split(labels, fraction, 0)
