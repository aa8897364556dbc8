"""The one typed schema of params.yaml, and its loader.

Each stage calls `load("<its section>")` before doing any work. A wrong key, type or value ends the stage with
one line naming params.yaml, the dotted key, the bad value and what is expected.
"""
import dataclasses
import difflib
import re
import typing
from dataclasses import dataclass, field
from typing import Literal

import yaml

from fmnist import paths
from fmnist.errors import UserError


def _spec(expected: str, ok=lambda value: True):
    """Field metadata: `expected` is said to the user when `ok(value)` is false."""
    return field(metadata={"expected": expected, "ok": ok})


def _is_md5(text) -> bool:
    return re.fullmatch(r"[0-9a-f]{32}", text) is not None


@dataclass(frozen=True)
class Download:
    base_urls: list[str] = _spec("a list of http(s) URLs", lambda urls: all(u.startswith(("http://", "https://")) for u in urls))
    md5: dict[str, str] = _spec(
        "the four Fashion-MNIST file names, each with a 32-digit lowercase hex md5",
        lambda sums: sorted(sums) == sorted(paths.RAW_FILES.values()) and all(map(_is_md5, sums.values())),
    )
    timeout_seconds: float = _spec("a number > 0", lambda v: v > 0)
    retries: int = _spec("an integer >= 1", lambda v: v >= 1)


@dataclass(frozen=True)
class Preprocess:
    scaling: Literal["unit", "standard"]
    val_fraction: float = _spec("a number strictly between 0 and 1", lambda v: 0 < v < 1)


@dataclass(frozen=True)
class BackpropCheck:
    n_samples: int = _spec("an integer >= 1", lambda v: v >= 1)
    n_inputs: int = _spec("an integer >= 1", lambda v: v >= 1)
    n_hidden: int = _spec("an integer >= 1", lambda v: v >= 1)
    fd_epsilon: float = _spec("a number > 0", lambda v: v > 0)
    max_relative_error: float = _spec("a number > 0", lambda v: v > 0)


@dataclass(frozen=True)
class Train:
    epochs: int = _spec("an integer >= 1", lambda v: v >= 1)
    batch_size: int = _spec("an integer >= 1", lambda v: v >= 1)
    learning_rate: float = _spec("a number > 0", lambda v: v > 0)
    lr_schedule: Literal["constant", "cosine"] = _spec("constant or cosine")
    loss: Literal["sparse_categorical_crossentropy", "categorical_crossentropy"] = _spec(
        "sparse_categorical_crossentropy or categorical_crossentropy")
    threads: int = _spec("an integer >= 1", lambda v: v >= 1)
    onednn: bool = _spec("true or false")


DROPOUT_PLACES = ("conv1", "conv2", "conv3", "dense")


@dataclass(frozen=True)
class TrainDropout(Train):
    dropout_rate: float = _spec("a number in [0, 1)", lambda v: 0 <= v < 1)
    dropout_after: list[str] = _spec(
        f"a list of hidden layers among {', '.join(DROPOUT_PLACES)}", lambda places: set(places) <= set(DROPOUT_PLACES))


@dataclass(frozen=True)
class Evaluate:
    batch_size: int = _spec("an integer >= 1", lambda v: v >= 1)
    threads: int = _spec("an integer >= 1", lambda v: v >= 1)


@dataclass(frozen=True)
class SeedStudy:
    seeds: list[int] = _spec("a list of at least 2 different integers >= 0",
                             lambda seeds: len(set(seeds)) == len(seeds) >= 2 and min(seeds) >= 0)
    models: list[str] = _spec(f"a list of different models among {', '.join(paths.MODEL_NAMES)}",
                              lambda models: len(set(models)) == len(models) >= 1 and set(models) <= set(paths.MODEL_NAMES))


SECTIONS = {
    "download": Download,
    "preprocess": Preprocess,
    "backprop_check": BackpropCheck,
    "train_mlp": Train,
    "train_lenet": Train,
    "train_dropout": TrainDropout,
    "train_bn": Train,
    "evaluate": Evaluate,
    "seed_study": SeedStudy,
}
# Top-level keys shared by several stages: (what is expected, the check).
GLOBALS = {
    "seed": ("an integer >= 0", lambda v: v >= 0),
}


def _fail(key: str, problem: str):
    raise UserError(f"{paths.PARAMS_FILE}: {key}: {problem}")


def _unknown(key: str, known) -> None:
    name = key.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(known)}"
    _fail(key, f"unknown key; {hint}")


def _type_ok(value, hint) -> bool:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is Literal:
        return value in args
    if origin is list:
        return isinstance(value, list) and all(_type_ok(item, args[0]) for item in value)
    if origin is dict:
        return isinstance(value, dict) and all(_type_ok(k, args[0]) and _type_ok(v, args[1]) for k, v in value.items())
    raise TypeError(f"schema type {hint} is not supported")


def _expected(spec_field, hint) -> str:
    if "expected" in spec_field.metadata:
        return spec_field.metadata["expected"]
    return " or ".join(typing.get_args(hint)) if typing.get_origin(hint) is Literal else hint.__name__


def _build(section: str, raw, schema):
    if not isinstance(raw, dict):
        _fail(section, f"expected a mapping of keys, got {raw!r}")
    fields = dataclasses.fields(schema)
    hints = typing.get_type_hints(schema)
    for key in raw:
        if key not in hints:
            _unknown(f"{section}.{key}", [f.name for f in fields])
    values = {}
    for spec_field in fields:
        key, hint = f"{section}.{spec_field.name}", hints[spec_field.name]
        expected = _expected(spec_field, hint)
        if spec_field.name not in raw:
            _fail(key, f"missing; expected {expected}")
        value = raw[spec_field.name]
        if not _type_ok(value, hint) or not spec_field.metadata.get("ok", lambda v: True)(value):
            _fail(key, f"got {value!r}; expected {expected}")
        values[spec_field.name] = float(value) if hint is float else value
    return schema(**values)


def read_file(path=paths.PARAMS_FILE) -> dict:
    try:
        text = open(path).read()
    except FileNotFoundError:
        raise UserError(f"{path}: file not found (run from the repository root)") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UserError(f"{path}: not valid YAML{where}: {getattr(error, 'problem', error)}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of sections, got {data!r}")
    for key in data:
        if key not in GLOBALS and key not in SECTIONS:
            _unknown(key, [*GLOBALS, *SECTIONS])
    return data


def load(section: str, path=paths.PARAMS_FILE):
    """The validated section `section` of params.yaml, as its schema dataclass."""
    data = read_file(path)
    if section not in data:
        _fail(section, f"missing section; expected the keys {', '.join(f.name for f in dataclasses.fields(SECTIONS[section]))}")
    return _build(section, data[section], SECTIONS[section])


def _load_global(key: str, path) -> int:
    expected, ok = GLOBALS[key]
    data = read_file(path)
    if key not in data:
        _fail(key, f"missing; expected {expected}")
    value = data[key]
    if not _type_ok(value, int) or not ok(value):
        _fail(key, f"got {value!r}; expected {expected}")
    return value


def load_seed(path=paths.PARAMS_FILE) -> int:
    """The global seed every random source of the pipeline derives from."""
    return _load_global("seed", path)
