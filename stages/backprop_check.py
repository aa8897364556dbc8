"""Stage `backprop_check`: assignment Part 1. Forward and backward pass of the numpy 2-3-1 sigmoid network
on the assignment's data, analytic gradients checked against central finite differences."""
import numpy as np

from fmnist import backprop, machine, params, paths
from fmnist.errors import UserError
from fmnist.stage import run_stage
from fmnist.files import write_json


def main():
    seed = params.load_seed()
    p = params.load("backprop_check")
    X, Y_T, weights = backprop.assignment_data(p.n_samples, p.n_inputs, p.n_hidden, seed)
    L, *gradients = backprop.backward(X, Y_T, *weights)
    numeric = backprop.numerical_gradients(X, Y_T, weights, p.fd_epsilon)
    error = backprop.max_relative_error(gradients, numeric)

    names = ("W1", "b1", "W2", "b2")
    print(f"L = {L:.8f}")
    for name, grad in zip(names, gradients):
        print(f"dL/d{name} = {grad.tolist()}")
    print(f"largest relative error against finite differences: {error:.2e}")
    if error > p.max_relative_error:
        raise UserError(f"backprop_check: analytic and numeric gradients differ by {error:.2e}, "
                        f"more than params.yaml backprop_check.max_relative_error = {p.max_relative_error:g}")
    write_json(paths.METRICS_DIR / "backprop_check.json", {
        "L": float(L),
        # one key per entry ("row_col" for W1), so that `dvc metrics show` lists each number
        "gradients": {f"dL_d{name}": {"_".join(map(str, index)) or "0": float(value)
                                      for index, value in np.ndenumerate(grad)}
                      for name, grad in zip(names, gradients)},
        "max_relative_error": error,
    })
    write_json(machine.fingerprint_file("backprop_check"), machine.fingerprint())


if __name__ == "__main__":
    run_stage(main)
