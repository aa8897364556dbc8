"""The four architectures: parameter counts and every layer's output shape, as the assignment specifies.
Keras and fmnist.models load when a test needs them (conftest's fixtures), not at collection."""
import subprocess
import sys

import numpy as np
import pytest

from fmnist import params
from helpers import ROOT

LENET_SHAPES = {"image": "28x28x1", "conv1": "28x28x6", "pool1": "14x14x6", "conv2": "10x10x16", "pool2": "5x5x16",
                "conv3": "1x1x120", "flatten": "120", "dense": "84", "output": "10"}


def shapes(model):
    from fmnist import models

    return {row["layer"]: row["output_shape"] for row in models.layer_table(model)}


def build(name):
    from fmnist import models

    return models.build(name, params.load(f"train_{name}", ROOT / "params.yaml"))


def test_mlp(models):
    model = build("mlp")
    assert models.trainable_params(model) == 109_386
    assert shapes(model) == {"dense1": "128", "dense2": "64", "output": "10"}


def test_lenet_matches_the_assignment(models):
    model = build("lenet")
    assert models.trainable_params(model) == 61_706  # a padded second conv would give 142,346
    assert shapes(model) == LENET_SHAPES


def test_dropout_follows_the_params(models):
    model = build("dropout")
    assert models.trainable_params(model) == 61_706
    dropouts = [layer for layer in model.layers if layer.__class__.__name__ == "Dropout"]
    places = params.load("train_dropout", ROOT / "params.yaml").dropout_after
    assert [d.name for d in dropouts] == [f"{place}_dropout" for place in places]
    assert all(d.rate == 0.5 for d in dropouts)
    assert {k: v for k, v in shapes(model).items() if "dropout" not in k} == LENET_SHAPES


def test_batch_norm_after_every_hidden_layer(models):
    model = build("bn")
    names = [layer.name for layer in model.layers]
    for hidden in ("conv1", "conv2", "conv3", "dense"):
        assert names[names.index(hidden) + 1] == f"{hidden}_bn"
    assert models.trainable_params(model) == 61_706 + 2 * (6 + 16 + 120 + 84)  # gamma and beta per channel


@pytest.mark.parametrize("name", ["mlp", "lenet", "dropout", "bn"])
def test_softmax_output_sums_to_one(name):
    out = build(name).predict(np.random.default_rng(0).random((3, 784), dtype=np.float32), verbose=0)
    assert out.shape == (3, 10) and np.allclose(out.sum(axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("shape", [(5, 3), (64, 4, 4, 6), (37, 12, 12, 6), (3, 1, 1, 120)])
def test_channel_sum_in_blocks_is_the_sum_over_all_but_the_channel_axis(models, shape):
    import tensorflow as tf

    # Fewer values than blocks, an exact multiple of them, and a multiple plus a remainder.
    x = np.random.default_rng(1).normal(1, 2, shape).astype(np.float32)
    expected = x.astype(np.float64).sum(axis=tuple(range(len(shape) - 1)))
    assert np.allclose(models._channel_sum(tf.constant(x)).numpy(), expected, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("shape", [(37, 12, 12, 6), (37, 84)])
def test_fast_batch_norm_equals_keras_batch_norm(models, keras, shape):
    """Outputs, gradients, moving averages and inference of the hand-written training step agree with Keras's
    own layer; the gradient also with a float64 closed form."""
    import tensorflow as tf

    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(2, 3, shape).astype(np.float32))
    weights = tf.constant(rng.normal(0, 1, shape).astype(np.float32))
    results = []
    for layer in (keras.layers.BatchNormalization(), models.FastBatchNormalization()):
        layer.build(shape)
        layer.gamma.assign(np.linspace(0.5, 2, shape[-1]))
        layer.beta.assign(np.linspace(-1, 1, shape[-1]))
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=True) * weights)
        d_x, d_gamma, d_beta = tape.gradient(loss, [x, layer.gamma, layer.beta])
        results.append({"out": layer(x, training=True), "d_x": d_x, "d_gamma": d_gamma, "d_beta": d_beta,
                        "moving_mean": layer.moving_mean, "moving_variance": layer.moving_variance,
                        "inference": layer(x, training=False)})
    keras_result, fast_result = results
    for key in keras_result:
        np.testing.assert_allclose(np.asarray(fast_result[key]), np.asarray(keras_result[key]),
                                   rtol=1e-4, atol=1e-4, err_msg=key)

    axes = tuple(range(len(shape) - 1))
    x64, w64 = np.asarray(x, np.float64), np.asarray(weights, np.float64)
    gamma, n = np.linspace(0.5, 2, shape[-1]), x64.size // shape[-1]
    inv_std = 1 / np.sqrt(x64.var(axes) + 1e-3)
    x_hat, d_x_hat = (x64 - x64.mean(axes)) * inv_std, w64 * gamma
    d_x = inv_std / n * (n * d_x_hat - d_x_hat.sum(axes) - x_hat * (d_x_hat * x_hat).sum(axes))
    np.testing.assert_allclose(np.asarray(fast_result["d_x"]), d_x, rtol=1e-4, atol=1e-5)


def test_batch_norm_model_trains_with_the_fast_layer_and_saves_plain_keras(models, keras, tmp_path):
    """The bn model trains with FastBatchNormalization; what is saved names Keras's own BatchNormalization,
    with the same weights and predictions, and loads without this project's layer."""
    from fmnist.results import non_keras_classes

    model = build("bn")
    assert all(isinstance(layer, models.FastBatchNormalization) for layer in model.layers if "_bn" in layer.name)
    model.save(tmp_path / "fast.keras")
    assert non_keras_classes(tmp_path / "fast.keras") == ["fmnist>FastBatchNormalization"]  # what the check catches

    rng = np.random.default_rng(0)
    for layer in model.layers:  # moving statistics away from their initial 0 and 1, so that copying them matters
        if "_bn" in layer.name:
            layer.moving_mean.assign(rng.normal(size=layer.moving_mean.shape))
            layer.moving_variance.assign(rng.uniform(0.5, 2, size=layer.moving_variance.shape))
    standard = models.standard_keras(model)
    assert [type(layer) for layer in standard.layers if "_bn" in layer.name] == [keras.layers.BatchNormalization] * 4
    standard.save(tmp_path / "bn.keras")
    assert non_keras_classes(tmp_path / "bn.keras") == []
    loaded = keras.saving.load_model(tmp_path / "bn.keras", safe_mode=True)
    x = rng.random((16, 784), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_models_without_the_fast_layer_are_saved_as_they_are(models):
    model = build("lenet")
    assert models.standard_keras(model) is model


def test_keras_imports_without_its_unused_integrations_which_stay_importable():
    # a fresh process: this one has loaded Keras already
    code = """
import sys
import matplotlib  # loaded before: must stay the module it is
from fmnist import import_keras
keras = import_keras()
assert sys.modules["matplotlib"] is matplotlib
assert not [name for name in ("sklearn", "scipy", "pandas") if name in sys.modules]
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
assert model(keras.ops.ones((1, 3))).shape == (1, 2)
import scipy.stats, sklearn.model_selection  # importable as ever
"""
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
