"""Part 1: the numpy network reproduces the assignment's numbers and agrees with autodiff and finite differences."""
import ast
from pathlib import Path

import numpy as np

from fmnist import backprop


def test_the_network_module_imports_numpy_only():
    tree = ast.parse(Path(backprop.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"numpy"}


def test_assignment_values():
    X, Y_T, weights = backprop.assignment_data()
    L, dW1, db1, dW2, db2 = backprop.backward(X, Y_T, *weights)
    assert abs(L - 0.133) < 5e-4
    assert np.allclose(db1, [0.00492, -0.000581, -0.00066], atol=1e-5)
    assert (dW1.shape, db1.shape, dW2.shape, np.shape(db2)) == ((3, 2), (3,), (3,), ())


def test_data_are_drawn_as_after_np_random_seed():
    np.random.seed(0)
    W1, b1, W2 = np.random.randn(3, 2), np.zeros(3), np.random.randn(3)
    X, Y_T = np.random.rand(1000, 2), np.random.randint(0, 2, size=1000)
    X_, Y_T_, (W1_, b1_, W2_, b2_) = backprop.assignment_data()
    for a, b in ((X, X_), (Y_T, Y_T_), (W1, W1_), (b1, b1_), (W2, W2_)):
        assert np.array_equal(a, b)
    assert b2_ == 0


def test_forward_shapes_and_values():
    X, _, weights = backprop.assignment_data(n_samples=7)
    Y, Z2, H, Z1 = backprop.forward(X, *weights)
    assert (Y.shape, Z2.shape, H.shape, Z1.shape) == ((7,), (7,), (7, 3), (7, 3))
    assert np.allclose(H, 1 / (1 + np.exp(-Z1))) and np.allclose(Y, 1 / (1 + np.exp(-Z2)))


def test_gradients_match_finite_differences_on_random_weights():
    rng = np.random.default_rng(3)
    X, Y_T = rng.random((50, 4)), rng.integers(0, 2, 50)
    weights = (rng.normal(size=(5, 4)), rng.normal(size=5), rng.normal(size=5), 0.3)
    _, *analytic = backprop.backward(X, Y_T, *weights)
    numeric = backprop.numerical_gradients(X, Y_T, weights, 1e-6)
    assert backprop.max_relative_error(analytic, numeric) < 1e-6


def test_a_wrong_gradient_is_caught():
    X, Y_T, weights = backprop.assignment_data(n_samples=20)
    _, *analytic = backprop.backward(X, Y_T, *weights)
    numeric = backprop.numerical_gradients(X, Y_T, weights, 1e-6)
    analytic[1] = analytic[1] * 1.01
    assert backprop.max_relative_error(analytic, numeric) > 1e-3


def test_gradients_agree_with_tensorflow_autodiff():
    import tensorflow as tf

    X, Y_T, (W1, b1, W2, b2) = backprop.assignment_data()
    variables = [tf.Variable(np.asarray(w, dtype=np.float64)) for w in (W1, b1, W2, b2)]
    with tf.GradientTape() as tape:
        H = tf.sigmoid(X @ tf.transpose(variables[0]) + variables[1])
        Y = tf.sigmoid(tf.linalg.matvec(H, variables[2]) + variables[3])
        L = tf.reduce_sum((Y - Y_T) ** 2) / (2 * len(X))
    expected = tape.gradient(L, variables)
    L_np, *gradients = backprop.backward(X, Y_T, W1, b1, W2, b2)
    assert np.isclose(L_np, L.numpy(), rtol=1e-12)
    for ours, theirs in zip(gradients, expected):
        assert np.allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-14)
