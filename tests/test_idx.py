"""IDX parsing: valid files read back exactly; every kind of damage gets an error naming the file."""

import numpy as np
import pytest

from fmnist.errors import UserError
from fmnist.idx import read_idx, read_images_and_labels
from helpers import idx_bytes, write_gz


def error_of(*paths):
    with pytest.raises(UserError) as caught:
        read_idx(paths[0]) if len(paths) == 1 else read_images_and_labels(*paths)
    return str(caught.value)


def test_reads_back_what_was_written(tmp_path):
    images = np.arange(3 * 28 * 28, dtype=np.uint64).astype(np.uint8).reshape(3, 28, 28)
    write_gz(tmp_path / "x.gz", idx_bytes(images))
    (tmp_path / "x").write_bytes(idx_bytes(images))
    assert np.array_equal(read_idx(tmp_path / "x.gz"), images)
    assert np.array_equal(read_idx(tmp_path / "x"), images)


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(b"this is not gzip at all")
    assert error_of(path).startswith(f"{path}: not a valid gzip file")


def test_truncated_gzip(tmp_path):
    path = tmp_path / "x.gz"
    write_gz(path, idx_bytes(np.zeros((50, 28, 28))))
    path.write_bytes(path.read_bytes()[:-30])
    assert error_of(path).startswith(f"{path}: not a valid gzip file")


def test_wrong_magic(tmp_path):
    path = tmp_path / "x.gz"
    write_gz(path, b"\x12\x34\x08\x03" + bytes(100))
    assert error_of(path) == f"{path}: not an IDX file (magic number 12340803)"


def test_wrong_type_code(tmp_path):
    path = tmp_path / "x.gz"
    write_gz(path, bytes([0, 0, 0x0D, 1, 0, 0, 0, 1]) + bytes(4))
    assert "type code 0x0d" in error_of(path)


@pytest.mark.parametrize("cut", [1, 100])
def test_dimensions_disagree_with_byte_count(tmp_path, cut):
    path = tmp_path / "x.gz"
    write_gz(path, idx_bytes(np.zeros((4, 28, 28)))[:-cut])
    assert error_of(path) == f"{path}: header says 4x28x28 = 3136 data bytes, file has {3136 - cut}"


def test_extra_bytes_are_an_error_too(tmp_path):
    path = tmp_path / "x.gz"
    write_gz(path, idx_bytes(np.zeros((4,))) + b"\x00")
    assert "header says 4 = 4 data bytes, file has 5" in error_of(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "x.gz"
    write_gz(path, bytes([0, 0, 8, 3, 0, 0]))
    assert "truncated IDX header" in error_of(path)


def test_missing_file(tmp_path):
    assert error_of(tmp_path / "nope.gz") == f"{tmp_path / 'nope.gz'}: file not found"


def test_label_and_image_counts_must_match(tmp_path):
    write_gz(tmp_path / "i.gz", idx_bytes(np.zeros((5, 28, 28))))
    write_gz(tmp_path / "l.gz", idx_bytes(np.zeros((4,))))
    assert error_of(tmp_path / "i.gz", tmp_path / "l.gz") == \
        f"{tmp_path / 'l.gz'}: 4 labels for 5 images in {tmp_path / 'i.gz'}"


def test_labels_outside_0_to_9(tmp_path):
    write_gz(tmp_path / "i.gz", idx_bytes(np.zeros((3, 28, 28))))
    write_gz(tmp_path / "l.gz", idx_bytes(np.array([1, 12, 3])))
    assert error_of(tmp_path / "i.gz", tmp_path / "l.gz") == \
        f"{tmp_path / 'l.gz'}: label 12 at index 1, expected 0 to 9"


def test_labels_must_be_a_vector(tmp_path):
    write_gz(tmp_path / "i.gz", idx_bytes(np.zeros((3, 28, 28))))
    write_gz(tmp_path / "l.gz", idx_bytes(np.zeros((3, 2))))
    assert "expected a vector of labels" in error_of(tmp_path / "i.gz", tmp_path / "l.gz")
