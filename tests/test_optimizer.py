"""FusedAdam, the training step's optimizer: Keras's Adam computed by TensorFlow's fused kernel. It must update
every variable as Keras's Adam does, and be saved as Keras's Adam. TensorFlow loads when a test needs it
(conftest's fixtures), not at collection."""
import numpy as np
import pytest

from fmnist.results import non_keras_classes


def small_model(seed=0):
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(3)])


def gradients(model, steps):
    rng = np.random.default_rng(1)
    return [[rng.normal(0, 1, v.shape).astype(np.float32) for v in model.trainable_variables] for _ in range(steps)]


def train_steps(optimizer, steps=25):
    """Weights and optimizer variables after `steps` updates with the same pseudo-random gradients."""
    import tensorflow as tf

    model = small_model()
    optimizer.build(model.trainable_variables)
    for grads in gradients(model, steps):
        optimizer.apply_gradients(zip(map(tf.constant, grads), model.trainable_variables))
    return [np.asarray(v) for v in model.trainable_variables], [np.asarray(v) for v in optimizer.variables]


def test_fused_adam_is_adam(training):
    """Against Adam written out in float64 (Kingma and Ba, with Keras's epsilon outside the square root)."""
    learning_rate, beta_1, beta_2, epsilon, steps = 0.01, 0.9, 0.999, 1e-7, 25
    fused_weights, _ = train_steps(training.FusedAdam(learning_rate), steps)
    model = small_model()
    weights = [np.asarray(v, np.float64) for v in model.trainable_variables]
    m, v = [np.zeros_like(w) for w in weights], [np.zeros_like(w) for w in weights]
    for t, grads in enumerate(gradients(model, steps), start=1):
        for i, g in enumerate(grads):
            m[i] = beta_1 * m[i] + (1 - beta_1) * g
            v[i] = beta_2 * v[i] + (1 - beta_2) * g ** 2
            alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
            weights[i] -= alpha * m[i] / (np.sqrt(v[i]) + epsilon)
    for fused, expected in zip(fused_weights, weights, strict=True):
        np.testing.assert_allclose(fused, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_fused_adam_updates_as_keras_adam(keras, training, schedule):
    learning_rate = 0.01 if schedule == "constant" else keras.optimizers.schedules.CosineDecay(0.01, decay_steps=25)
    keras_weights, keras_state = train_steps(keras.optimizers.Adam(learning_rate))
    fused_weights, fused_state = train_steps(training.FusedAdam(learning_rate))
    # The same rule, up to float32 rounding (Keras rounds 1 - beta_1 in double precision, the kernel in float).
    for fused, expected in zip(fused_weights + fused_state, keras_weights + keras_state, strict=True):
        np.testing.assert_allclose(fused, expected, rtol=2e-5, atol=1e-6)


def test_fused_adam_refuses_amsgrad(training):
    with pytest.raises(ValueError, match="AMSGrad"):
        training.FusedAdam(0.01, amsgrad=True)


def test_a_model_trained_with_fused_adam_is_saved_with_keras_adam_and_its_state(keras, models, training, tmp_path):
    model = small_model()
    model.compile(optimizer=training.FusedAdam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    model.fit(rng.random((64, 5), dtype=np.float32), rng.integers(0, 3, 64), batch_size=16, epochs=2, verbose=0)

    standard = models.standard_keras(model)
    assert type(standard.optimizer) is keras.optimizers.Adam
    standard.save(tmp_path / "model.keras")
    assert non_keras_classes(tmp_path / "model.keras") == []
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert type(loaded.optimizer) is keras.optimizers.Adam and int(loaded.optimizer.iterations) == 8
    for saved, trained in zip(loaded.optimizer.variables, model.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(saved), np.asarray(trained))
    x = rng.random((8, 5), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
