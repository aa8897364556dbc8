"""Reading what the stages wrote: metrics files, per-epoch training histories, Keras model files."""
import csv
import io
import json
import zipfile

from fmnist.errors import UserError


def read_text(path, missing_hint: str) -> str:
    """A results file's text; one line naming it when it is missing, empty or not text."""
    try:
        with open(path, "rb") as file:
            content = file.read()
    except FileNotFoundError:
        raise UserError(f"{path}: not found; {missing_hint}") from None
    if not content:
        raise UserError(f"{path}: an empty file; {missing_hint}")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a UTF-8 text file; {missing_hint}") from None


def read_json(path, missing_hint="run the pipeline first (dvc repro)") -> dict:
    """A JSON object from a metrics file."""
    try:
        data = json.loads(read_text(path, missing_hint))
    except json.JSONDecodeError as error:
        raise UserError(f"{path}: not valid JSON ({error}); {missing_hint}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: a JSON {type(data).__name__}; expected a JSON object; {missing_hint}")
    return data


HISTORY_COLUMNS = ("epoch", "accuracy", "loss", "val_accuracy", "val_loss")


def read_history(path) -> dict:
    """{column: [value per epoch]} from a Keras CSVLogger file (epoch, loss, accuracy, val_loss, ...)."""
    return parse_history(read_text(path, "run the training stages first (dvc repro)"), path)


def parse_history(text: str, source="history.csv") -> dict:
    """read_history from the file's text (`source` names it in the error): every column a number per epoch,
    the columns of HISTORY_COLUMNS among them."""
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise UserError(f"{source}: no epochs recorded")
    missing = [column for column in HISTORY_COLUMNS if column not in rows[0]]
    if missing:
        raise UserError(f"{source}: no column {', '.join(missing)}; expected a Keras CSVLogger history with the "
                        f"columns {', '.join(HISTORY_COLUMNS)}")
    history = {key: [] for key in rows[0]}
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        for key, value in row.items():
            try:
                history[key].append(float(value))
            except (TypeError, ValueError):  # TypeError: a row shorter than the header (None)
                raise UserError(f"{source}: line {line}, column {key}: {value!r} is not a number") from None
    return history


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
