"""The pipeline's figures, each written atomically as a PNG."""
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from fmnist.files import atomic_path

matplotlib.use("Agg")  # files only, no screen (importing pyplot does not choose a backend; its first figure does)

# No software version or date in the PNG, so a rerun writes the same bytes.
PNG_METADATA = {"Software": None}


def _save(fig, path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, metadata=PNG_METADATA)
    plt.close(fig)


def square_side(image) -> int:
    """The side of a square image given flat or 2-D; ValueError if its pixels cannot make a square."""
    pixels = np.asarray(image).size
    side = round(pixels ** 0.5)
    if side * side != pixels:
        raise ValueError(f"images of {pixels} pixels are not square")
    return side


def mosaic(images, columns: int = 5, gap_x: int = 3, gap_y: int = 6) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Square images side by side in one array, row after row, each scaled to [0, 1] by its own range (as imshow
    scales a single image; a constant image is 0), with NaN in the gaps: gap_x pixels between columns, gap_y
    above every row (room for titles). Also each image's (top, left) corner."""
    side, rows = square_side(images[0]), -(-len(images) // columns)
    out = np.full((rows * (gap_y + side), columns * (side + gap_x) - gap_x), np.nan)
    corners = []
    for i, image in enumerate(images):
        image = np.asarray(image, dtype=np.float64).reshape(side, side)
        low, high = image.min(), image.max()
        top, left = gap_y + (i // columns) * (gap_y + side), (i % columns) * (side + gap_x)
        out[top:top + side, left:left + side] = (image - low) / (high - low) if high > low else 0.0
        corners.append((top, left))
    return out, corners


def image_grid(images, titles, suptitle: str, path, title_colors=None) -> None:
    """A 5 x 5 grid of 28 x 28 images, each with its title, no axes (assignment 2.1 and 3.3.3)."""
    # One mosaic on one axes, the titles as text (white gaps between images): 25 axes took ~3/4 of the time.
    pixels, corners = mosaic(images)
    fig = plt.figure(figsize=(9, 10))
    ax = fig.add_axes((0.02, 0.01, 0.96, 0.94))
    ax.axis("off")
    ax.imshow(pixels, cmap=plt.get_cmap("gray_r").with_extremes(bad="white"), vmin=0, vmax=1,
              interpolation="nearest")
    side = square_side(images[0])
    for i, ((top, left), title) in enumerate(zip(corners, titles)):
        ax.text(left + side / 2, top - 1, title, fontsize=8, ha="center", va="bottom",
                color=title_colors[i] if title_colors else "black")
    fig.suptitle(suptitle, fontsize=13, y=0.985)
    _save(fig, path)


def confusion_matrix(matrix, class_names, title: str, path) -> None:
    """Counts in the cells, class names on both axes, True down and Predicted across (assignment 3.3.2)."""
    fig, ax = plt.subplots(figsize=(8, 7))
    ax.imshow(matrix, cmap="Blues")
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("Predicted")
    ax.set_ylabel("True")
    threshold = matrix.max() / 2
    for (row, col), count in np.ndenumerate(matrix):
        ax.text(col, row, str(count), ha="center", va="center", fontsize=8,
                color="white" if count > threshold else "black")
    ax.set_title(title)
    # Fixed margins, room for the rotated class names: tight_layout measures every artist, ~1/4 of the time.
    fig.subplots_adjust(left=0.15, right=0.97, bottom=0.16, top=0.94)
    _save(fig, path)


def train_vs_validation(epochs, train, validation, quantity: str, title: str, path) -> None:
    """One quantity (loss or accuracy) per epoch, train against validation (assignment 3.2.7, 4.2.3)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, train, marker="o", label=f"train {quantity}")
    ax.plot(epochs, validation, marker="o", label=f"validation {quantity}")
    ax.set_xlabel("epoch")
    ax.set_ylabel(quantity)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.13, top=0.92)  # fixed: tight_layout took ~1/3 of the time
    _save(fig, path)


def curves_by_model(curves: dict, quantity: str, title: str, path) -> None:
    """One quantity per epoch for several models, one line each: {model title: (epochs, values)} (4.3.2)."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, (epochs, values) in curves.items():
        ax.plot(epochs, values, marker="o", markersize=3, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax.set_xlabel("epoch")
    ax.set_ylabel(quantity)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    _save(fig, path)


def accuracy_bars(values: dict, title: str, path) -> None:
    """{model title: accuracy in [0, 1]} as horizontal bars from 0, each labelled with its percentage: the
    differences are a point or two, so the labels carry them and the bars keep their true proportions."""
    fig, ax = plt.subplots(figsize=(7, 3))
    labels = list(values)
    positions = np.arange(len(labels))[::-1]  # first model on top
    ax.barh(positions, [values[k] for k in labels], color="tab:blue")
    for y, label in zip(positions, labels):
        ax.text(values[label] + 0.01, y, f"{100 * values[label]:.2f} %", va="center", fontsize=9)
    ax.set_yticks(positions, labels)
    ax.set_xlim(0, 1.15)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.set_xlabel("test accuracy")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    _save(fig, path)
