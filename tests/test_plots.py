"""The figures' pure parts: the image grid's mosaic."""
import numpy as np
import pytest

from fmnist.plots import mosaic


def test_each_image_in_its_cell_scaled_to_its_own_range():
    rng = np.random.default_rng(0)
    images = [rng.integers(10, 200, 16).astype(np.uint8) for _ in range(7)]  # 4 x 4 pixels, flattened
    images[3] = np.full(16, 50, np.uint8)  # a constant image
    pixels, corners = mosaic(images, columns=3, gap_x=1, gap_y=2)
    assert pixels.shape == (3 * (2 + 4), 3 * 5 - 1)
    assert corners[:4] == [(2, 0), (2, 5), (2, 10), (8, 0)]
    for image, (top, left) in zip(images, corners):
        cell = pixels[top:top + 4, left:left + 4]
        image = image.reshape(4, 4).astype(float)
        expected = (image - image.min()) / np.ptp(image) if np.ptp(image) else np.zeros((4, 4))
        assert np.array_equal(cell, expected)
    painted = np.zeros(pixels.shape, bool)
    for top, left in corners:
        painted[top:top + 4, left:left + 4] = True
    assert np.isnan(pixels[~painted]).all() and not np.isnan(pixels[painted]).any()  # gaps and empty cells


def test_images_that_are_not_square_are_refused():
    with pytest.raises(ValueError, match="not square"):
        mosaic([np.zeros(15)])
