"""Reading IDX files (the format of MNIST and Fashion-MNIST), gzip-compressed or not, with every header
field checked against the bytes that follow."""
import gzip
import zlib
from pathlib import Path

import numpy as np

from fmnist.errors import UserError

UBYTE = 0x08  # the IDX type code for unsigned bytes, the only one Fashion-MNIST uses
N_CLASSES = 10


def _read_bytes(path: Path) -> bytes:
    try:
        if path.stat().st_size == 0:  # gzip reads an empty file as empty content, without an error
            raise UserError(f"{path}: an empty file; "
                            f"expected an IDX file{', gzip-compressed' * (path.suffix == '.gz')}")
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as file:
                return file.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        raise UserError(f"{path}: not a valid gzip file ({error})") from None


def read_idx(path) -> np.ndarray:
    """The array stored in an IDX file: magic 0x00 0x00 <type> <ndim>, ndim big-endian uint32 sizes, data."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[3] == 0:
        raise UserError(f"{path}: not an IDX file (magic number {data[:4].hex() or 'missing'})")
    if data[2] != UBYTE:
        raise UserError(f"{path}: IDX type code 0x{data[2]:02x}, expected 0x08 (unsigned bytes)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise UserError(f"{path}: truncated IDX header ({len(data)} bytes, the header alone needs {header})")
    shape = tuple(int(size) for size in np.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(data) != expected:
        dims = "x".join(map(str, shape))
        raise UserError(f"{path}: header says {dims} = {expected - header} data bytes, file has {len(data) - header}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def read_images_and_labels(images_path, labels_path) -> tuple[np.ndarray, np.ndarray]:
    """N x H x W images and N labels in 0..9, checked to belong together."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise UserError(f"{images_path}: expected N x height x width images, got shape {images.shape}")
    if labels.ndim != 1:
        raise UserError(f"{labels_path}: expected a vector of labels, got shape {labels.shape}")
    if len(images) != len(labels):
        raise UserError(f"{labels_path}: {len(labels)} labels for {len(images)} images in {images_path}")
    if labels.size and labels.max() >= N_CLASSES:
        bad = int(np.argmax(labels >= N_CLASSES))
        raise UserError(f"{labels_path}: label {labels[bad]} at index {bad}, expected 0 to {N_CLASSES - 1}")
    return images, labels
