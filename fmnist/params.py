"""The one typed schema of params.yaml, and its loader.

Each stage calls `load("<its section>")` before doing any work; it validates the whole file against `Params` and
returns the stage's section. A wrong key, type or value ends the stage with one line naming params.yaml, the
dotted key, the bad value and what is expected.
"""
import difflib
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo

from fmnist import paths
from fmnist.errors import UserError


@dataclass(frozen=True)
class Expected:
    """Annotation metadata: what a field allows, in the words the user reads when a value breaks it."""
    text: str


Count = Annotated[int, Field(ge=1), Expected("an integer >= 1")]
Positive = Annotated[float, Field(gt=0), Expected("a number > 0")]


def _the_raw_files(sums: dict[str, str]) -> dict[str, str]:
    """md5 names exactly the files the download stage fetches."""
    if sorted(sums) != sorted(paths.RAW_FILES.values()):
        raise ValueError("not the Fashion-MNIST file names")
    return sums


class Schema(BaseModel):
    """A part of params.yaml. Strict: YAML's types are the user's, so an int is not a bool and "3" is not a number
    (a float accepts an int); frozen: a stage cannot change its params; extra="forbid": a misspelt key is an
    error, not a default; no inf or nan: YAML's .inf and .nan are no usable value of any key."""
    model_config = ConfigDict(strict=True, frozen=True, extra="forbid", allow_inf_nan=False)


class Download(Schema):
    # tried in order after $FASHION_MNIST_DIR
    base_urls: Annotated[list[Annotated[str, Field(pattern=r"^https?://")]], Expected("a list of http(s) URLs")]
    # the expected md5 of each file
    md5: Annotated[dict[str, Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]], AfterValidator(_the_raw_files),
                   Expected("the four Fashion-MNIST file names, each with a 32-digit lowercase hex md5")]
    timeout_seconds: Positive  # limit on each network connect and read
    retries: Count  # attempts per URL


class Preprocess(Schema):
    scaling: Literal["unit", "standard"]  # unit: pixels / 255; standard: z-score with train-split statistics
    # share of the development set held out for validation
    val_fraction: Annotated[float, Field(gt=0, lt=1), Expected("a number strictly between 0 and 1")]


class BackpropCheck(Schema):
    n_samples: Count  # rows of X and Y_T
    n_inputs: Count  # input features
    n_hidden: Count  # sigmoid hidden units
    fd_epsilon: Positive  # step of the central finite differences
    max_relative_error: Positive  # the stage fails if analytic and numeric gradients differ by more


class Train(Schema):
    epochs: Count
    batch_size: Count
    learning_rate: Positive  # Adam's (peak) learning rate
    lr_schedule: Literal["constant", "cosine"]  # cosine decays to 0 over all epochs
    loss: Literal["sparse_categorical_crossentropy", "categorical_crossentropy"]  # the latter one-hot encodes
    threads: Count  # TensorFlow's threads per operation
    onednn: bool  # oneDNN's kernels (true) or TensorFlow's own, Eigen's (false)


DropoutPlace = Literal["conv1", "conv2", "conv3", "dense"]
DROPOUT_PLACES: tuple[str, ...] = typing.get_args(DropoutPlace)


class TrainDropout(Train):
    dropout_rate: Annotated[float, Field(ge=0, lt=1), Expected("a number in [0, 1)")]  # probability of dropping
    # hidden layers followed by dropout
    dropout_after: Annotated[list[DropoutPlace],
                             Expected(f"a list of hidden layers among {', '.join(DROPOUT_PLACES)}")]


class Evaluate(Schema):
    batch_size: Count  # inference batch on the test set
    threads: Count


def _distinct(seeds: list[int]) -> list[int]:
    if len(set(seeds)) != len(seeds):
        raise ValueError("a seed appears twice")
    return seeds


class SeedStudy(Schema):
    # the seeds every model is retrained with (seeds/dvc.yaml); each varies the split, the initial weights,
    # the batch order and dropout at once, as the global seed does (docs/seed-study.md)
    seeds: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=2), AfterValidator(_distinct),
                     Expected("a list of at least 2 different integers >= 0")]
    # the models studied, each with its own train_* params
    models: Annotated[list[Literal[paths.MODEL_NAMES]], Field(min_length=1), AfterValidator(_distinct),
                      Expected(f"a list of different models among {', '.join(paths.MODEL_NAMES)}")]


VerdictWord = Literal["unchanged", "better", "worse", "equivalent", "inconclusive", "single run", "new model",
                      "not comparable"]


class Review(Schema):
    # how close two revisions' mean test accuracies must be, surely, to be called equivalent (a fraction:
    # 0.005 = 0.5 points; docs/review.md says why)
    margin: Annotated[float, Field(gt=0, lt=1), Expected("a number strictly between 0 and 1 (0.005 = 0.5 points)")]
    # verdict words that fail `make gate`; the policy committed at the pull request's base applies
    fail_on: Annotated[list[VerdictWord], Expected(
        "a list of verdict words among " + ", ".join(typing.get_args(VerdictWord)))]


class Params(Schema):
    """The whole of params.yaml: the global seed and one section per stage."""
    seed: Annotated[int, Field(ge=0), Expected("an integer >= 0")]  # every random source derives from it
    download: Download
    preprocess: Preprocess
    backprop_check: BackpropCheck
    train_mlp: Train
    train_lenet: Train
    train_dropout: TrainDropout
    train_bn: Train
    evaluate: Evaluate
    seed_study: SeedStudy
    review: Review


SECTIONS: dict[str, type[Schema]] = {
    name: field.annotation for name, field in Params.model_fields.items() if name != "seed"}


def expected(field: FieldInfo) -> str:
    """What `field` allows, as the user reads it in an error."""
    kind = field.annotation
    if kind in SECTIONS.values():
        return f"a mapping of the keys {', '.join(kind.model_fields)}"
    if kind is bool:
        return "true or false"
    if typing.get_origin(kind) is Literal:
        return " or ".join(typing.get_args(kind))
    return next(item.text for item in field.metadata if isinstance(item, Expected))


def _fail(key: str, problem: str) -> UserError:
    return UserError(f"{paths.PARAMS_FILE}: {key}: {problem}")


def _as_user_error(error: ValidationError, data: dict) -> UserError:
    """The first problem of `error` as one line in the schema's words, naming the field whose value is wrong
    (not the list item or dict entry inside it that pydantic points at)."""
    problems = error.errors(include_url=False)
    # A misspelt key is also a missing one: the unknown key is the one that says what to fix.
    problem = next((p for p in problems if p["type"] == "extra_forbidden"), problems[0])
    loc, model, value = problem["loc"], Params, data
    for depth, part in enumerate(loc):
        key = ".".join(map(str, loc[:depth + 1]))
        if part not in model.model_fields:
            close = difflib.get_close_matches(str(part), list(model.model_fields), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(model.model_fields)}"
            return _fail(key, f"unknown key; {hint}")
        field, value = model.model_fields[part], value.get(part)  # a problem inside a section: it is a mapping
        if depth + 1 == len(loc) or field.annotation not in SECTIONS.values():
            break
        model = field.annotation
    if problem["type"] == "missing":
        return _fail(key, f"missing; expected {expected(field)}")
    return _fail(key, f"got {value!r}; expected {expected(field)}")


def read_file(path=paths.PARAMS_FILE) -> dict[str, Any]:
    """params.yaml as YAML gives it, a mapping; its keys and values are checked by `load`."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise UserError(f"{path}: file not found (run from the repository root)") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UserError(f"{path}: not valid YAML{where}: {getattr(error, 'problem', error)}") from None
    keys = ", ".join(Params.model_fields)
    if data is None:
        raise UserError(f"{path}: empty; expected a mapping of the keys {keys}")
    if not isinstance(data, dict):
        raise UserError(f"{path}: got {data!r}; expected a mapping of the keys {keys}")
    return data


def load_all(path=paths.PARAMS_FILE) -> Params:
    """All of params.yaml, validated."""
    data = read_file(path)
    try:
        return Params.model_validate(data)
    except ValidationError as error:
        raise _as_user_error(error, data) from None


def load(section: str, path=paths.PARAMS_FILE) -> Any:  # SECTIONS[section]; load_all() is typed per section
    """Section `section` of params.yaml, once the whole file is valid. A changed copy: .model_copy(update={...})."""
    return getattr(load_all(path), section)


def load_seed(path=paths.PARAMS_FILE) -> int:
    """The global seed every random source of the pipeline derives from."""
    return load_all(path).seed
