"""The MLP's and LeNet-5's layer shapes as plain data, with no framework imported: the PyTorch peer of
`make bench` builds its models from them, and a test checks their parameter counts against the Keras models,
so the two frameworks are timed on the same networks."""
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


# Hidden layers use ReLU; the last layer's outputs are the 10 class scores.
MLP = (Dense(784, 128), Dense(128, 64), Dense(64, 10))
LENET = (Conv(1, 6, 5, "same"), MaxPool(2), Conv(6, 16, 5, "valid"), MaxPool(2), Conv(16, 120, 5, "valid"),
         Dense(120, 84), Dense(84, 10))
ARCHITECTURES = {"mlp": MLP, "lenet": LENET}


def parameter_count(layers) -> int:
    """Weights and biases of every layer."""
    total = 0
    for layer in layers:
        if isinstance(layer, Dense):
            total += (layer.n_in + 1) * layer.n_out
        elif isinstance(layer, Conv):
            total += (layer.kernel * layer.kernel * layer.c_in + 1) * layer.c_out
    return total
