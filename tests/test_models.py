"""The four architectures: parameter counts and every layer's output shape, as the assignment specifies."""
import pytest

from fmnist import models, params
from helpers import ROOT

LENET_SHAPES = {"image": "28x28x1", "conv1": "28x28x6", "pool1": "14x14x6", "conv2": "10x10x16", "pool2": "5x5x16",
                "conv3": "1x1x120", "flatten": "120", "dense": "84", "output": "10"}


def shapes(model):
    return {row["layer"]: row["output_shape"] for row in models.layer_table(model)}


def build(name):
    return models.build(name, params.load(f"train_{name}", ROOT / "params.yaml"))


def test_mlp():
    model = build("mlp")
    assert models.trainable_params(model) == 109_386
    assert shapes(model) == {"dense1": "128", "dense2": "64", "output": "10"}


def test_lenet_matches_the_assignment():
    model = build("lenet")
    assert models.trainable_params(model) == 61_706  # a padded second conv would give 142,346
    assert shapes(model) == LENET_SHAPES


def test_dropout_follows_the_params():
    model = build("dropout")
    assert models.trainable_params(model) == 61_706
    dropouts = [layer for layer in model.layers if layer.__class__.__name__ == "Dropout"]
    places = params.load("train_dropout", ROOT / "params.yaml").dropout_after
    assert [d.name for d in dropouts] == [f"{place}_dropout" for place in places]
    assert all(d.rate == 0.5 for d in dropouts)
    assert {k: v for k, v in shapes(model).items() if "dropout" not in k} == LENET_SHAPES


def test_batch_norm_after_every_hidden_layer():
    model = build("bn")
    names = [layer.name for layer in model.layers]
    for hidden in ("conv1", "conv2", "conv3", "dense"):
        assert names[names.index(hidden) + 1] == f"{hidden}_bn"
    assert models.trainable_params(model) == 61_706 + 2 * (6 + 16 + 120 + 84)  # gamma and beta per channel


@pytest.mark.parametrize("name", ["mlp", "lenet", "dropout", "bn"])
def test_softmax_output_sums_to_one(name):
    import numpy as np

    out = build(name).predict(np.random.default_rng(0).random((3, 784), dtype=np.float32), verbose=0)
    assert out.shape == (3, 10) and np.allclose(out.sum(axis=1), 1, atol=1e-5)
