"""Loading what preprocess wrote."""
import numpy as np

from fmnist import paths
from fmnist.errors import UserError


def load(split: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of one split: float32 N x 784 features and uint8 class ids. Never unpickles."""
    arrays = []
    for kind in ("x", "y"):
        path = paths.processed(split, kind)
        try:
            arrays.append(np.load(path, allow_pickle=False))
        except FileNotFoundError:
            raise UserError(f"{path}: not found; run the preprocess stage first (dvc repro)") from None
        except ValueError as error:
            raise UserError(f"{path}: not a valid .npy array ({error})") from None
    x, y = arrays
    if len(x) != len(y):
        raise UserError(f"{paths.processed(split, 'y')}: {len(y)} labels for {len(x)} rows of features")
    return x, y
