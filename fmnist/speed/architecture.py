"""The four models' layer shapes as plain data, with no framework imported: the PyTorch peer of `make bench`
builds its models from them, and a test checks them, layer by layer and in parameter count, against the Keras
models of fmnist/models.py, so the two frameworks are timed on the same networks."""
from typing import NamedTuple


class Dense(NamedTuple):
    n_in: int
    n_out: int


class Conv(NamedTuple):
    c_in: int
    c_out: int
    kernel: int
    padding: str  # "same" or "valid", as in Keras


class MaxPool(NamedTuple):
    size: int


class BatchNorm(NamedTuple):
    channels: int


class Dropout(NamedTuple):
    rate: float


# Dense and convolution layers are followed by ReLU but the last, whose outputs are the 10 class scores.
MLP = (Dense(784, 128), Dense(128, 64), Dense(64, 10))


def lenet(dropout_rate: float = 0.0, dropout_after=(), batch_norm: bool = False) -> tuple:
    """LeNet-5 as fmnist.models.lenet builds it: batch norm after every hidden layer (after its ReLU), if asked,
    and dropout after the hidden layers named in `dropout_after`."""

    def hidden(name, layer):
        channels = layer.c_out if isinstance(layer, Conv) else layer.n_out
        return (layer, *([BatchNorm(channels)] if batch_norm else []),
                *([Dropout(dropout_rate)] if name in dropout_after else []))

    return (*hidden("conv1", Conv(1, 6, 5, "same")), MaxPool(2), *hidden("conv2", Conv(6, 16, 5, "valid")),
            MaxPool(2), *hidden("conv3", Conv(16, 120, 5, "valid")), *hidden("dense", Dense(120, 84)), Dense(84, 10))


def of(model: str, dropout_rate: float = 0.0, dropout_after=()) -> tuple:
    """The layers of `model` (mlp, lenet, dropout, bn); the dropout model's rate and places are its params'."""
    if model == "mlp":
        return MLP
    if model == "lenet":
        return lenet()
    if model == "dropout":
        return lenet(dropout_rate, dropout_after)
    if model == "bn":
        return lenet(batch_norm=True)
    raise ValueError(f"unknown model {model!r}")


def parameter_count(layers) -> int:
    """Trainable parameters: weights and biases, and batch norm's scale and offset per channel."""
    total = 0
    for layer in layers:
        if isinstance(layer, Dense):
            total += (layer.n_in + 1) * layer.n_out
        elif isinstance(layer, Conv):
            total += (layer.kernel * layer.kernel * layer.c_in + 1) * layer.c_out
        elif isinstance(layer, BatchNorm):
            total += 2 * layer.channels
    return total
