"""The assignment's four Keras models. All take the flattened, scaled 784-pixel vector that preprocess
writes; the CNNs reshape it to 28 x 28 x 1 themselves."""
import keras
import tensorflow as tf
from keras import layers

N_FEATURES = 784
N_CLASSES = 10


# Per-channel sums in blocks: XLA's CPU code sums a (values, 6) map down six strided columns; summed first as
# 32 long rows, elementwise (vectorized, into an accumulator that stays in cache), then per channel, batch
# norm's step on conv1's map takes 11.6 instead of 16.4 ms on an AVX2 CPU (docs/speed.md).
SUM_BLOCKS = 32


def _channel_sum(x):
    """The sum over every axis but the last (channels): the first multiple of SUM_BLOCKS values of each channel
    summed in SUM_BLOCKS rows, plus the few left over."""
    channels = x.shape[-1]
    values = tf.reshape(x, (-1, channels))
    blocked = tf.shape(values)[0] // SUM_BLOCKS * SUM_BLOCKS
    rows = tf.reduce_sum(tf.reshape(values[:blocked], (SUM_BLOCKS, -1)), 0)  # each row: whole channel groups
    return tf.reduce_sum(tf.reshape(rows, (-1, channels)), 0) + tf.reduce_sum(values[blocked:], 0)


def _values_per_channel(x):
    return tf.cast(tf.size(x) // tf.shape(x)[-1], x.dtype)


# Batch norm's training step, forward and backward, each compiled by XLA into a few fused passes over the
# activation map. TensorFlow's own ops take one full pass (and a new buffer) per elementwise op, and its fused
# kernel is oneDNN's, which is slower still on maps of 6 to 16 channels (docs/speed.md).
@tf.function(jit_compile=True)
def _normalize_batch(x, gamma, beta, epsilon):
    n = _values_per_channel(x)
    mean = _channel_sum(x) / n
    centered = x - mean
    variance = _channel_sum(tf.square(centered)) / n  # biased, as Keras's (two passes: stable)
    inv_std = tf.math.rsqrt(variance + epsilon)
    return centered * (gamma * inv_std) + beta, mean, variance, inv_std


@tf.function(jit_compile=True)
def _normalize_batch_gradient(d_out, x, mean, inv_std, gamma):
    n = _values_per_channel(x)
    centered = x - mean  # recomputed inside the fused pass rather than kept from the forward pass
    d_beta = _channel_sum(d_out)
    d_gamma = _channel_sum(d_out * centered) * inv_std
    scale = gamma * inv_std
    d_x = (d_out * scale - scale * d_beta / n) - centered * (scale * d_gamma * inv_std / n)
    return d_x, d_gamma, d_beta


@keras.saving.register_keras_serializable(package="fmnist")
class FastBatchNormalization(layers.BatchNormalization):
    """Keras's BatchNormalization, same weights, moving averages and inference, with a faster training step:
    batch norm's backward pass in closed form, forward and backward each compiled by XLA. Keras differentiates
    its ~15 elementwise ops one by one, each a full pass over a memory-bound activation map. Tested against
    Keras's layer in tests/test_models.py."""

    def call(self, inputs, training=None, mask=None):
        standard = self.scale and self.center and not self.renorm and self.axis in (-1, len(inputs.shape) - 1)
        if not (training and self.trainable and standard) or mask is not None:
            return super().call(inputs, training=training, mask=mask)
        epsilon = self.epsilon

        @tf.custom_gradient
        def normalize(x, gamma, beta):
            outputs, mean, variance, inv_std = _normalize_batch(x, gamma, beta, epsilon)

            def gradient(d_out, _d_mean, _d_variance):  # mean and variance only feed the moving averages
                return _normalize_batch_gradient(d_out, x, mean, inv_std, gamma)

            return (outputs, mean, variance), gradient

        outputs, mean, variance = normalize(
            tf.cast(inputs, "float32"), tf.convert_to_tensor(self.gamma), tf.convert_to_tensor(self.beta))
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return tf.cast(outputs, self.compute_dtype)


def mlp() -> keras.Model:
    """Assignment 3.2.1: 784 -> 128 ReLU -> 64 ReLU -> 10 softmax, 109,386 parameters."""
    return keras.Sequential([
        keras.Input((N_FEATURES,)),
        layers.Dense(128, activation="relu", name="dense1"),
        layers.Dense(64, activation="relu", name="dense2"),
        layers.Dense(N_CLASSES, activation="softmax", name="output"),
    ], name="mlp")


def lenet(name="lenet", dropout_rate=0.0, dropout_after=(), batch_norm=False) -> keras.Model:
    """Assignment 4.2.1, LeNet-5 as written there (61,706 parameters): the second conv is unpadded, so the
    third sees 5 x 5 x 16 and outputs 1 x 1 x 120. Optionally batch normalization after every hidden layer
    (4.3.2) and dropout after the hidden layers named in `dropout_after` (4.3.1)."""

    def hidden(layer):
        """The hidden layer, then what regularizes it."""
        stack = [layer]
        if batch_norm:
            stack.append(FastBatchNormalization(name=f"{layer.name}_bn"))
        if layer.name in dropout_after:
            stack.append(layers.Dropout(dropout_rate, name=f"{layer.name}_dropout"))
        return stack

    return keras.Sequential([
        keras.Input((N_FEATURES,)),
        layers.Reshape((28, 28, 1), name="image"),
        *hidden(layers.Conv2D(6, 5, padding="same", activation="relu", name="conv1")),
        layers.MaxPooling2D(2, name="pool1"),
        *hidden(layers.Conv2D(16, 5, padding="valid", activation="relu", name="conv2")),
        layers.MaxPooling2D(2, name="pool2"),
        *hidden(layers.Conv2D(120, 5, padding="valid", activation="relu", name="conv3")),
        layers.Flatten(name="flatten"),
        *hidden(layers.Dense(84, activation="relu", name="dense")),
        layers.Dense(N_CLASSES, activation="softmax", name="output"),
    ], name=name)


def build(model: str, p) -> keras.Model:
    """The model named `model` (mlp, lenet, dropout, bn), configured from its params section `p`."""
    if model == "mlp":
        return mlp()
    if model == "lenet":
        return lenet()
    if model == "dropout":
        return lenet("dropout", dropout_rate=p.dropout_rate, dropout_after=tuple(p.dropout_after))
    if model == "bn":
        return lenet("bn", batch_norm=True)
    raise ValueError(f"unknown model {model!r}")


def standard_keras(model: keras.Model) -> keras.Model:
    """The model as plain Keras, for saving: the same weights, optimizer state and compile settings, with every
    FastBatchNormalization replaced by Keras's BatchNormalization (their inference is the same code) and a
    FusedAdam by Keras's Adam (the same config and variables). A file saved from it loads with
    `keras.saving.load_model` alone, without this project. A model with neither is returned as it is."""
    from fmnist.training import FusedAdam

    fused_optimizer = isinstance(getattr(model, "optimizer", None), FusedAdam)
    if not fused_optimizer and not any(isinstance(layer, FastBatchNormalization) for layer in model.layers):
        return model

    def plain(layer):
        if isinstance(layer, FastBatchNormalization):
            return layers.BatchNormalization.from_config(layer.get_config())
        return layer.__class__.from_config(layer.get_config())

    standard = keras.models.clone_model(model, clone_function=plain)
    standard.set_weights(model.get_weights())  # same layer order and shapes: gamma, beta, moving statistics
    if model.compiled:
        optimizer = model.optimizer
        if fused_optimizer:
            optimizer = keras.optimizers.Adam.from_config(model.optimizer.get_config())
            optimizer.build(standard.trainable_variables)
            for plain_variable, trained in zip(optimizer.variables, model.optimizer.variables, strict=True):
                plain_variable.assign(trained)  # the step count and moment estimates, in the same order
        # The trained optimizer's state lines up with the clone's variables (same order, same shapes).
        standard.compile(**{**model.get_compile_config(), "optimizer": optimizer})
    return standard


def layer_table(model: keras.Model) -> list[dict]:
    """Each layer's name, type, output shape (without the batch axis) and parameter count (3.2.2, 4.2.2)."""
    return [{
        "layer": layer.name,
        "type": type(layer).__name__,
        "output_shape": "x".join(str(d) for d in layer.output.shape[1:]),
        "params": layer.count_params(),
    } for layer in model.layers]


def trainable_params(model: keras.Model) -> int:
    return int(sum(keras.ops.size(w) for w in model.trainable_weights))
