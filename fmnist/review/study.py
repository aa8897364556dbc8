"""The seed study's files (seeds/dvc.yaml, docs/seed-study.md): where each replica's record lives and how it
writes its 10,000 predictions. Shared by the replica stage (replica.py) and the aggregate stage (seeds.py)."""
from pathlib import Path

from fmnist import paths

STUDY_DIR = Path("seeds")  # seeds/dvc.yaml and seeds/dvc.lock
# One JSON per replica, an output in DVC's cache: what DVC's run cache restores and its remote shares.
REPLICAS_DIR = STUDY_DIR / "replicas"
# What the aggregate stage writes, in git: each model's spread over the seeds, and every replica's record.
OUT = paths.METRICS_DIR / "seeds.json"
RECORDS = STUDY_DIR / "records.json"

assert len(paths.CLASS_NAMES) == 10, "a prediction is written as one decimal digit"
LINE = 100  # predictions per string in a replica's record


def replica_file(model: str, seed: int) -> Path:
    return REPLICAS_DIR / model / f"{seed}.json"


def encode_predictions(classes) -> list[str]:
    """The predicted class of every test image, in test-set order, as strings of digits, LINE images each:
    compact in git, and a changed prediction shows as a changed line in a diff."""
    digits = "".join(str(int(c)) for c in classes)
    return [digits[i:i + LINE] for i in range(0, len(digits), LINE)]


def decode_predictions(lines: list[str]) -> list[int]:
    return [int(c) for c in "".join(lines)]
