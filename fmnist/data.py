"""Loading what preprocess wrote, checked against what it writes: a file of another shape or type (an old
run's, another dataset's, a hand-made one) ends the stage with one line instead of training on it."""
import numpy as np

from fmnist import paths
from fmnist.errors import UserError

NPY_MAGIC = b"\x93NUMPY"
FEATURES = int(np.prod(paths.IMAGE_SHAPE))
# kind: (ndim, dtype, what preprocess writes)
EXPECTED = {"x": (2, np.float32, f"an N x {FEATURES} float32 array of features"),
            "y": (1, np.uint8, "a vector of N uint8 class ids")}
RERUN = "rerun the preprocess stage (dvc repro)"


def load(split: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of one split: float32 N x 784 features and uint8 class ids 0 to 9. Never unpickles."""
    x, y = (load_array(paths.processed(split, kind), kind) for kind in ("x", "y"))
    if len(x) != len(y):
        raise UserError(f"{paths.processed(split, 'y')}: {len(y)} labels for {len(x)} rows of features; {RERUN}")
    return x, y


def load_array(path, kind: str) -> np.ndarray:
    ndim, dtype, expected = EXPECTED[kind]
    try:
        with open(path, "rb") as file:
            head = file.read(len(NPY_MAGIC))
            if head != NPY_MAGIC:
                found = "an empty file" if not head else "not a .npy file"
                raise UserError(f"{path}: {found}; expected {expected}; {RERUN}")
            file.seek(0)
            array = np.load(file, allow_pickle=False)
    except FileNotFoundError:
        raise UserError(f"{path}: not found; run the preprocess stage first (dvc repro)") from None
    except (ValueError, EOFError) as error:  # a truncated file, or one of pickled objects
        raise UserError(f"{path}: not a valid .npy array ({error})") from None
    if array.ndim != ndim or array.dtype != dtype or (kind == "x" and array.shape[1] != FEATURES):
        found = "x".join(map(str, array.shape)) or "scalar"
        raise UserError(f"{path}: a {found} {array.dtype} array; expected {expected}; {RERUN}")
    if kind == "y" and array.size and array.max() >= len(paths.CLASS_NAMES):
        bad = int(np.argmax(array >= len(paths.CLASS_NAMES)))
        raise UserError(f"{path}: class id {array[bad]} at index {bad}; "
                        f"expected 0 to {len(paths.CLASS_NAMES) - 1}; {RERUN}")
    return array
