"""Part 1 of the assignment: a 2-3-1 sigmoid network with MSE loss, forward and backward, in numpy alone."""
import numpy as np


def matmul(a, b):
    """a @ b for 1-D or 2-D arrays without BLAS: the products are summed by numpy's own loop in index order.
    BLAS picks a kernel, and with it an order of summation, for each CPU, which changed the gradients' last
    digits from one machine to another; at these sizes (1000 x 3) the speed is the same."""
    a2, b2 = np.atleast_2d(a), b.reshape(b.shape[0], -1)
    product = (a2[:, :, None] * b2[None, :, :]).sum(axis=1)
    return product.reshape(a.shape[:-1] + b.shape[1:])


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def assignment_data(n_samples=1000, n_inputs=2, n_hidden=3, seed=0):
    """Weights and data drawn in the assignment's order, as after `np.random.seed(seed)` (without touching
    numpy's global random state)."""
    rng = np.random.RandomState(seed)
    W1 = rng.randn(n_hidden, n_inputs)
    b1 = np.zeros(n_hidden)
    W2 = rng.randn(n_hidden)
    b2 = 0.0
    X = rng.rand(n_samples, n_inputs)
    Y_T = rng.randint(0, 2, size=n_samples)
    return X, Y_T, (W1, b1, W2, b2)


def forward(X, W1, b1, W2, b2):
    """Returns Y (N), Z2 (N), H (N x hidden), Z1 (N x hidden)."""
    Z1 = matmul(X, W1.T) + b1
    H = sigmoid(Z1)
    Z2 = matmul(H, W2) + b2
    Y = sigmoid(Z2)
    return Y, Z2, H, Z1


def loss(Y, Y_T):
    """L = 1/(2N) sum (y - y_t)^2"""
    return np.sum((Y - Y_T) ** 2) / (2 * len(Y))


def backward(X, Y_T, W1, b1, W2, b2):
    """Returns L and dL/dW1, dL/db1, dL/dW2, dL/db2, by the chain rule through forward()."""
    Y, Z2, H, Z1 = forward(X, W1, b1, W2, b2)
    dZ2 = (Y - Y_T) / len(X) * Y * (1 - Y)  # dL/dY times sigmoid'(Z2) = Y (1 - Y)
    dW2 = matmul(H.T, dZ2)
    db2 = dZ2.sum()
    dZ1 = dZ2[:, None] * W2[None, :] * H * (1 - H)  # outer product, elementwise: exact on any CPU
    dW1 = matmul(dZ1.T, X)
    db1 = dZ1.sum(axis=0)
    return loss(Y, Y_T), dW1, db1, dW2, db2


def numerical_gradients(X, Y_T, weights, epsilon):
    """Central finite differences (L(w + eps) - L(w - eps)) / (2 eps) for every entry of every weight."""
    weights = [np.array(w, dtype=np.float64) for w in weights]
    gradients = []
    for w in weights:
        grad = np.zeros_like(w)
        for index in np.ndindex(w.shape):
            saved = w[index]
            w[index] = saved + epsilon
            up = loss(forward(X, *weights)[0], Y_T)
            w[index] = saved - epsilon
            down = loss(forward(X, *weights)[0], Y_T)
            w[index] = saved
            grad[index] = (up - down) / (2 * epsilon)
        gradients.append(grad)
    return gradients


def max_relative_error(analytic, numeric) -> float:
    """max |a - n| / max(|a| + |n|, tiny) over all entries: scale-free, safe where both are zero."""
    worst = 0.0
    for a, n in zip(analytic, numeric):
        a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
        worst = max(worst, float(np.max(np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), 1e-12))))
    return worst
