"""Reading what the stages wrote: metrics files, per-epoch training histories, Keras model files."""
import csv
import io
import json
import zipfile

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
            return parse_history(file.read(), path)
    except FileNotFoundError:
        raise UserError(f"{path}: not found; run the training stages first (dvc repro)") from None


def parse_history(text: str, source="history.csv") -> dict:
    """read_history from the file's text (`source` names it in the error)."""
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise UserError(f"{source}: no epochs recorded")
    return {key: [float(row[key]) for row in rows] for key in rows[0]}


def parse_predictions(text: str) -> tuple[list, list]:
    """(true classes, predicted classes) from a confusion.csv: one `actual,predicted` row per test image."""
    rows = list(csv.DictReader(io.StringIO(text)))
    return [row["actual"] for row in rows], [row["predicted"] for row in rows]


def non_keras_classes(model_path) -> list[str]:
    """The classes a `.keras` file names that Keras itself does not provide (registered custom layers, say):
    a file that names any cannot be loaded without the code that defines them."""
    with zipfile.ZipFile(model_path) as archive:
        config = json.loads(archive.read("config.json"))
    found = []

    def visit(node):
        if isinstance(node, dict):
            if "class_name" in node and "module" in node:
                module, registered = node["module"] or "", node.get("registered_name")
                if not (module == "keras" or module.startswith("keras.")) or (registered and ">" in registered):
                    found.append(registered or f"{module}.{node['class_name']}")
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(config)
    return sorted(set(found))
