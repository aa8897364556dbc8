"""Reading what the stages wrote: metrics files and per-epoch training histories."""
import csv
import json

from fmnist.errors import UserError


def read_json(path) -> dict:
    try:
        with open(path) as file:
            return json.load(file)
    except FileNotFoundError:
        raise UserError(f"{path}: not found; run the pipeline first (dvc repro)") from None


def read_history(path) -> dict:
    """{column: [value per epoch]} from a Keras CSVLogger file (epoch, loss, accuracy, val_loss, ...)."""
    try:
        with open(path, newline="") as file:
            rows = list(csv.DictReader(file))
    except FileNotFoundError:
        raise UserError(f"{path}: not found; run the training stages first (dvc repro)") from None
    if not rows:
        raise UserError(f"{path}: no epochs recorded")
    return {key: [float(row[key]) for row in rows] for key in rows[0]}
