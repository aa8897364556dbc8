"""Did a rerun reproduce the committed results? The decisions of `make check`, as pure functions on the files'
contents (tested in tests/test_reproducibility.py); fmnist/review/check.py reads the files and prints the table.

- Same machine fingerprint (fmnist/machine.py): the pipeline is deterministic there, so every file must be the
  same, byte for byte.
- Another machine: floats differ in their last bits, training amplifies that into another result about as far
  from the committed one as another seed's, so each headline metric must lie within the seed-noise band
  (fmnist/review/stats.py, from metrics/seeds.json); the numpy-only backprop check must agree to 1e-9 relative.
- Either way, every stage must have run with the code and params the committed dvc.lock records (else the
  committed results are stale, or this run is of other settings), dvc.lock must match the code and params of
  the working tree (`dvc status`: else the results were not rerun after a change), and the files must agree
  with each other (a test accuracy with its per-image predictions, a final validation accuracy with the last
  epoch of the history), which a hand-edited number does not.
"""
import csv
import io
import json
import math
import re

from fmnist import machine, paths
from fmnist.review import stats
from fmnist.results import parse_predictions

HEADLINE_METRICS = ("train_accuracy", "train_loss", "val_accuracy", "val_loss", "test_accuracy", "test_loss")
BACKPROP_RTOL = 1e-9
# Measurements of the machine's speed, the fingerprints themselves and the seed study (which `dvc repro` does
# not rerun): never compared.
NOT_RESULTS = re.compile(r"^metrics/(\w+/timing\.json|machine/.*|seeds\.json)$")


def owner(path: str) -> str:
    """Which part of the pipeline a results file belongs to: a model's name, 'backprop_check', 'preprocess'
    (integer and correctly rounded arithmetic only: the same bytes on every CPU), or 'all' (drawn from every
    model's results, such as metrics/comparison.json)."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[1] in paths.MODEL_NAMES:
        return parts[1]
    if path == "metrics/backprop_check.json":
        return "backprop_check"
    if path == "metrics/preprocess.json" or path.startswith("plots/samples/"):
        return "preprocess"
    return "all"


def stages_of(part: str) -> tuple:
    """The stages whose machine decides a part's bytes, by the names of their fingerprints
    (metrics/machine/<name>.json: train_mlp for the stage train@mlp)."""
    if part in paths.MODEL_NAMES:
        return (f"train_{part}", "evaluate")
    if part == "backprop_check":
        return ("backprop_check",)
    if part == "all":
        return tuple(f"train_{m}" for m in paths.MODEL_NAMES) + ("evaluate",)
    return ()


def same_machine(committed_fingerprint: dict | None, current_fingerprint: dict | None) -> bool:
    return (committed_fingerprint is not None and current_fingerprint is not None
            and machine.identity(committed_fingerprint) == machine.identity(current_fingerprint))


def headline(train: dict, test: dict) -> dict:
    """A model's headline metrics from its train.json and test.json."""
    return {**{k: train[k] for k in HEADLINE_METRICS[:4]}, "test_accuracy": test["accuracy"], "test_loss": test["loss"]}


def compare_headline(model: str, committed: dict, current: dict, noise: dict | None) -> list[dict]:
    """One row per headline metric: committed, current, difference, the band it may move within, verdict.
    `noise` is the model's entry of metrics/seeds.json (None when there is no seed study)."""
    rows = []
    # One check judges every headline metric of every model: their alphas share the family's 1 % (stats.py).
    alphas = stats.check_alphas(HEADLINE_METRICS, n_models=len(paths.MODEL_NAMES))
    for metric in HEADLINE_METRICS:
        a, b = committed[metric], current[metric]
        spread = (noise or {}).get(metric)
        allowed = stats.check_band(spread["sd"], spread["n"], alphas[metric]) if spread else None
        if allowed is None:
            verdict = "no seed study"
        else:
            verdict = "within noise" if abs(b - a) <= allowed else "OUTSIDE NOISE"
        rows.append({"model": model, "metric": metric, "committed": a, "now": b, "difference": b - a,
                     "allowed": allowed, "verdict": verdict})
    return rows


def leaves(data, prefix="", into_lists=True) -> dict:
    """Every leaf of a JSON or YAML document by its dotted path; lists are entered, or kept whole."""
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list) and into_lists:
        items = enumerate(data)
    else:
        return {prefix.rstrip("."): data}
    return {k: v for key, value in items for k, v in leaves(value, f"{prefix}{key}.", into_lists).items()}


def numbers(data) -> dict:
    """Every number in a JSON document, by its dotted path."""
    return {k: v for k, v in leaves(data).items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def relative_differences(committed: dict, current: dict, rtol: float) -> list[str]:
    """The numbers of two JSON documents that differ by more than `rtol` relative (or are missing from one)."""
    a, b = numbers(committed), numbers(current)
    problems = [f"{key}: only in {'the committed file' if key in a else 'this run'}"
                for key in sorted(a.keys() ^ b.keys())]
    for key in sorted(a.keys() & b.keys()):
        if not math.isclose(a[key], b[key], rel_tol=rtol, abs_tol=0.0):
            problems.append(f"{key}: {a[key]!r} committed, {b[key]!r} now (relative tolerance {rtol:g})")
    return problems


def consistency_problems(model: str, files: dict) -> list[str]:
    """Contradictions between one model's results files ({path: text}), as a hand edit leaves them."""
    problems = []

    def text(name):
        return files.get(name)

    train_text, test_text = text(f"metrics/{model}/train.json"), text(f"metrics/{model}/test.json")
    history_text, confusion_text = text(f"plots/{model}/history.csv"), text(f"plots/{model}/confusion.csv")
    train = json.loads(train_text) if train_text else None
    test = json.loads(test_text) if test_text else None
    if test is not None and confusion_text is not None:
        actual, predicted = parse_predictions(confusion_text)
        right = sum(a == p for a, p in zip(actual, predicted))
        if not actual or right / len(actual) != test["accuracy"]:
            problems.append(f"metrics/{model}/test.json: accuracy {test['accuracy']!r}, "
                            f"but plots/{model}/confusion.csv has {right} of {len(actual)} test images right")
    if train is not None and history_text is not None:
        epochs = list(csv.DictReader(io.StringIO(history_text)))
        last = epochs[-1] if epochs else {}
        for key in ("val_accuracy", "val_loss"):
            if key not in last or float(last[key]) != train[key]:
                problems.append(f"metrics/{model}/train.json: {key} {train[key]!r}, but the last epoch of "
                                f"plots/{model}/history.csv has {last.get(key)!r}")
        if len(epochs) != train["epochs"]:
            problems.append(f"metrics/{model}/train.json: {train['epochs']} epochs, "
                            f"plots/{model}/history.csv has {len(epochs)}")
    comparison_text = files.get("metrics/comparison.json")
    entry = json.loads(comparison_text).get(model) if comparison_text else None
    if entry is not None and train is not None and test is not None:
        expected = {"train_accuracy": train["train_accuracy"], "val_accuracy": train["val_accuracy"],
                    "test_accuracy": test["accuracy"], "train_val_gap": train["train_accuracy"] - train["val_accuracy"]}
        for key, value in expected.items():
            if entry.get(key) != value:
                problems.append(f"metrics/comparison.json: {model}.{key} {entry.get(key)!r}, "
                                f"but its source says {value!r}")
    return problems


def lock_differences(committed: dict, current: dict) -> list[str]:
    """The stages that ran with other code or params than the committed dvc.lock records (parsed YAML). Deps
    that another stage produces (data, models, training metrics) are left out: they differ from one machine to
    another, and the stage that produces them is judged itself."""
    def inputs(lock: dict) -> dict:
        stages = lock.get("stages", {})
        produced = {out["path"] for stage in stages.values() for out in stage.get("outs", [])}
        return {name: ({dep["path"]: dep.get("md5") for dep in stage.get("deps", []) if dep["path"] not in produced},
                       leaves(stage.get("params", {}), into_lists=False))
                for name, stage in stages.items()}

    before, after = inputs(committed), inputs(current)
    problems = [f"dvc.lock: stage {name} "
                f"{'is committed but did not run' if name in before else 'ran but is not committed'}"
                for name in sorted(before.keys() ^ after.keys())]
    for name in sorted(before.keys() & after.keys()):
        (code_before, params_before), (code_after, params_after) = before[name], after[name]
        files = sorted(path for path in code_before.keys() | code_after.keys()
                       if code_before.get(path) != code_after.get(path))
        keys = sorted(key for key in params_before.keys() | params_after.keys()
                      if params_before.get(key) != params_after.get(key))
        if files:
            problems.append(f"dvc.lock: stage {name} ran with other code than committed: {', '.join(files)}")
        problems += [f"dvc.lock: stage {name} ran with {key} = {params_after.get(key)!r}, committed with "
                     f"{params_before.get(key)!r}" for key in keys]
    return problems



def stale_stages(status: dict, lock: dict, params_files: dict, counted) -> tuple[list[str], list[str]]:
    """The stages whose dvc.lock no longer matches their code or params: (problems, notes).

    `status` is `dvc status --json`, `lock` the parsed dvc.lock it compares with, `params_files` {path: parsed
    params file} for the values now. The stages in `counted` (those `make repro` runs) give problems; any other
    (a seed study's, from another dvc.yaml) gives a note only. Changed outputs, and deps that a stage of `lock`
    produces, are left out: make check compares the results itself, and a produced file is judged by its own
    stage."""
    stages = lock.get("stages", {})
    produced = {out["path"] for stage in stages.values() for out in stage.get("outs", [])}
    problems, notes = [], []
    for name, entries in status.items():
        recorded = stages[name].get("params", {}) if name in stages else None  # None: in another lock file
        changes = []
        for entry in entries:
            if entry == "changed command":
                changes.append("its command changed in dvc.yaml")
            if not isinstance(entry, dict):
                continue
            for path, state in entry.get("changed deps", {}).items():
                if isinstance(state, dict):  # a params file: {top-level key: state}
                    for key in state:
                        changes += param_changes(path, key, recorded, params_files.get(path))
                elif path not in produced:
                    changes.append(f"{path} {state} since it ran")
        message = [f"dvc.lock: stage {name} is out of date: {change}" for change in changes]
        (problems if name in counted else notes).extend(message)
    return problems, notes


def param_changes(path: str, key: str, recorded: dict | None, now: dict | None) -> list[str]:
    """Each leaf under the key `key` of params file `path` whose value differs now (`now`, the parsed file)
    from the one dvc.lock recorded (`recorded`, the stage's params entry); DVC's word alone where either is
    unknown."""
    if recorded is None or now is None:
        return [f"{path} {key} changed since it ran"]
    recorded = recorded.get(path, {})
    before = leaves({key: recorded[key]}, into_lists=False) if key in recorded else {}
    after = leaves({key: now[key]}, into_lists=False) if key in now else {}

    def shown(values, leaf):
        return repr(values[leaf]) if leaf in values else "absent"

    return [f"{path} {leaf} is {shown(after, leaf)}, dvc.lock recorded {shown(before, leaf)}"
            for leaf in sorted(before.keys() | after.keys()) if before.get(leaf, ...) != after.get(leaf, ...)]
