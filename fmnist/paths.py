"""Every path and dataset constant of the pipeline, defined once. Paths are relative to the repository root,
where `dvc repro` runs the stages."""
from pathlib import Path

RAW_DIR = Path("data/raw")
PROCESSED_DIR = Path("data/processed")
MODELS_DIR = Path("models")
METRICS_DIR = Path("metrics")
PLOTS_DIR = Path("plots")
PARAMS_FILE = Path("params.yaml")

# The four official files, keyed by the split/kind the pipeline uses them for.
RAW_FILES = {
    ("dev", "images"): "train-images-idx3-ubyte.gz",
    ("dev", "labels"): "train-labels-idx1-ubyte.gz",
    ("test", "images"): "t10k-images-idx3-ubyte.gz",
    ("test", "labels"): "t10k-labels-idx1-ubyte.gz",
}

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
IMAGE_SHAPE = (28, 28)
MODEL_NAMES = ("mlp", "lenet", "dropout", "bn")
MODEL_TITLES = {"mlp": "MLP", "lenet": "LeNet-5", "dropout": "LeNet-5 with dropout", "bn": "LeNet-5 with batch norm"}
SPLITS = ("train", "val", "test")


def processed(split: str, kind: str) -> Path:
    """`kind` is "x" (float32 features, N x 784) or "y" (uint8 class ids)."""
    return PROCESSED_DIR / f"{split}_{kind}.npy"


def model_file(model: str) -> Path:
    return MODELS_DIR / f"{model}.keras"


def model_metrics_dir(model: str) -> Path:
    return METRICS_DIR / model


def model_plots_dir(model: str) -> Path:
    return PLOTS_DIR / model
