"""The pipeline's figures, each written atomically as a PNG."""
import matplotlib

matplotlib.use("Agg")  # files only, no screen
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402

from fmnist.files import atomic_path  # noqa: E402

# No software version or date in the PNG, so a rerun writes the same bytes.
PNG_METADATA = {"Software": None}


def _save(fig, path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, metadata=PNG_METADATA)
    plt.close(fig)


def image_grid(images, titles, suptitle: str, path, title_colors=None) -> None:
    """A 5 x 5 grid of 28 x 28 images, each with its title, no axes (assignment 2.1 and 3.3.3)."""
    # A fixed layout and plain text titles: tight_layout and axes titles measure every artist, which took
    # half of this figure's time.
    fig, axes = plt.subplots(5, 5, figsize=(9, 10), gridspec_kw={
        "left": 0.02, "right": 0.98, "bottom": 0.01, "top": 0.92, "wspace": 0.1, "hspace": 0.25})
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(np.asarray(images[i]).reshape(28, 28), cmap="gray_r")
            ax.text(0.5, 1.02, titles[i], fontsize=8, color=title_colors[i] if title_colors else "black",
                    ha="center", va="bottom", transform=ax.transAxes)
    fig.suptitle(suptitle, fontsize=13)
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
    fig.tight_layout()
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
    fig.tight_layout()
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
