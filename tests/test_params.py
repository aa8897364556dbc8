"""The params schema: every kind of mistake ends with one line naming params.yaml, the key and the problem."""
import shutil
import subprocess
import sys
import typing
from typing import Literal

import pytest
import yaml

from fmnist import params, paths
from fmnist.errors import UserError
from helpers import ROOT, env_for


@pytest.fixture
def params_file(tmp_path):
    path = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", path)
    return path


def edit(path, section, key, value):
    data = yaml.safe_load(path.read_text())
    if key is None:
        data[section] = value
    elif value is DELETE:
        del data[section][key]
    else:
        data[section][key] = value
    path.write_text(yaml.safe_dump(data))


DELETE = object()


def error_of(path, section="train_mlp"):
    with pytest.raises(UserError) as caught:
        params.load(section, path) if section != "seed" else params.load_seed(path)
    return str(caught.value)


def test_the_committed_params_are_valid():
    for section in params.SECTIONS:
        params.load(section, ROOT / "params.yaml")
    assert params.load_seed(ROOT / "params.yaml") == 0
    # Every TensorFlow stage fixes its threads (and each model its kernels): the bytes must not follow the cores
    assert [params.load(s, ROOT / "params.yaml").threads for s in ("train_mlp", "train_lenet", "evaluate")] == [1, 2, 2]
    assert [params.load(f"train_{m}", ROOT / "params.yaml").onednn for m in ("mlp", "lenet")] == [False, True]


@pytest.mark.parametrize("key, value, problem", [
    ("threads", 0, "got 0; expected an integer >= 1"), ("threads", "two", "got 'two'; expected an integer >= 1"),
    ("threads", DELETE, "missing; expected an integer >= 1"), ("onednn", "yes", "got 'yes'; expected true or false"),
    ("onednn", DELETE, "missing; expected true or false")])
def test_threads_and_kernels_are_checked(params_file, key, value, problem):
    data = yaml.safe_load(params_file.read_text())
    data["train_lenet"].pop(key) if value is DELETE else data["train_lenet"].update({key: value})
    params_file.write_text(yaml.safe_dump(data))
    with pytest.raises(UserError) as caught:
        params.load("train_lenet", params_file)
    assert str(caught.value) == f"params.yaml: train_lenet.{key}: {problem}"


def test_sections_load_as_typed_values(params_file):
    p = params.load("train_mlp", params_file)
    assert (p.epochs, p.batch_size) == (20, 128) and isinstance(p.learning_rate, float)
    assert params.load("train_dropout", params_file).dropout_rate == 0.5


def test_unknown_key_suggests_the_closest(params_file):
    edit(params_file, "train_mlp", "learning_rate", DELETE)  # misspelt: learning_rate is missing too
    edit(params_file, "train_mlp", "learnig_rate", 0.01)
    message = error_of(params_file)
    assert message == "params.yaml: train_mlp.learnig_rate: unknown key; did you mean 'learning_rate'?"


def test_unknown_section_suggests_the_closest(params_file):
    edit(params_file, "trian_mlp", None, {"epochs": 3})
    assert "trian_mlp: unknown key; did you mean 'train_mlp'?" in error_of(params_file)


def test_missing_key(params_file):
    edit(params_file, "train_mlp", "epochs", DELETE)
    assert error_of(params_file) == "params.yaml: train_mlp.epochs: missing; expected an integer >= 1"


@pytest.mark.parametrize("section, key, value, expected", [
    ("train_mlp", "epochs", "ten", "params.yaml: train_mlp.epochs: got 'ten'; expected an integer >= 1"),
    ("train_mlp", "epochs", -3, "params.yaml: train_mlp.epochs: got -3; expected an integer >= 1"),
    ("train_mlp", "epochs", 2.5, "params.yaml: train_mlp.epochs: got 2.5; expected an integer >= 1"),
    ("train_mlp", "epochs", True, "params.yaml: train_mlp.epochs: got True; expected an integer >= 1"),
    ("train_mlp", "learning_rate", 0, "params.yaml: train_mlp.learning_rate: got 0; expected a number > 0"),
    ("train_mlp", "lr_schedule", "step", "params.yaml: train_mlp.lr_schedule: got 'step'; expected constant or cosine"),
    ("preprocess", "val_fraction", 1.5,
     "params.yaml: preprocess.val_fraction: got 1.5; expected a number strictly between 0 and 1"),
    ("preprocess", "scaling", "minmax", "params.yaml: preprocess.scaling: got 'minmax'; expected unit or standard"),
    ("train_dropout", "dropout_after", ["conv9"],
     "params.yaml: train_dropout.dropout_after: got ['conv9']; expected a list of hidden layers among "
     "conv1, conv2, conv3, dense"),
    ("download", "md5", {"train-images-idx3-ubyte.gz": "abc"}, "params.yaml: download.md5: got "
     "{'train-images-idx3-ubyte.gz': 'abc'}; expected the four Fashion-MNIST file names, each with a 32-digit "
     "lowercase hex md5"),
    ("download", "timeout_seconds", None, "params.yaml: download.timeout_seconds: got None; expected a number > 0"),
    ("download", "base_urls", ["ftp://example.org/"],
     "params.yaml: download.base_urls: got ['ftp://example.org/']; expected a list of http(s) URLs"),
    ("train_dropout", "dropout_rate", 1, "params.yaml: train_dropout.dropout_rate: got 1; expected a number in [0, 1)"),
    ("train_dropout", "dropout_after", "",
     "params.yaml: train_dropout.dropout_after: got ''; expected a list of hidden layers among "
     "conv1, conv2, conv3, dense"),
    ("train_bn", "onednn", 1, "params.yaml: train_bn.onednn: got 1; expected true or false"),
    ("train_bn", "learning_rate", "3", "params.yaml: train_bn.learning_rate: got '3'; expected a number > 0"),
    ("train_bn", "learning_rate", float("inf"), "params.yaml: train_bn.learning_rate: got inf; expected a number > 0"),
    ("evaluate", None, ["batch_size"],
     "params.yaml: evaluate: got ['batch_size']; expected a mapping of the keys batch_size, threads"),
])
def test_bad_values_name_key_value_and_expectation(params_file, section, key, value, expected):
    edit(params_file, section, key, value)
    assert error_of(params_file, section) == expected


# --- Every key of the schema, each kind of mistake: built from the schema, so a new key is covered by itself ---

# A value of another type than the field's (YAML can give each of these).
WRONG_TYPE = {bool: 1, int: "3", float: "3", list: "text", dict: ["text"], Literal: 3}
# A value just past each bound: (bound, how to break it).
PAST_BOUND = {"gt": lambda bound: bound, "ge": lambda bound: bound - 1, "lt": lambda bound: bound,
              "le": lambda bound: bound + 1}
# Fields whose allowed values are not a bound nor a choice.
OUT_OF_RANGE = {
    "download.base_urls": [["ftp://example.org/fashion/"]],
    "download.md5": [{"train-images-idx3-ubyte.gz": "0" * 32},
                     {name: "0" * 31 + "G" for name in paths.RAW_FILES.values()}],
}


def schema_keys():
    """(dotted key, field) for every key of params.yaml: the top-level ones (seed, each section), then each
    section's."""
    for name, field in params.Params.model_fields.items():
        yield name, field
        if name in params.SECTIONS:
            yield from ((f"{name}.{key}", f) for key, f in params.SECTIONS[name].model_fields.items())


def bad_values(key, field) -> list[tuple[str, object]]:
    """(kind of mistake, value): a value of the wrong type, the empty ones, and values past each limit of `field`."""
    kind = field.annotation
    wrong = ["text"] if kind in params.SECTIONS.values() else WRONG_TYPE[typing.get_origin(kind) or kind]
    past = [PAST_BOUND[name](getattr(item, name)) for item in field.metadata for name in PAST_BOUND
            if hasattr(item, name)]
    if typing.get_origin(kind) is Literal:
        past.append("none_of_these")
    if typing.get_origin(kind) is list and typing.get_origin(typing.get_args(kind)[0]) is Literal:
        past.append(["none_of_these"])
    past += OUT_OF_RANGE.get(key, [])
    return [("wrong type", wrong), ("None", None), ("empty", ""), *(("out of range", value) for value in past),
            ("missing", DELETE)]


SCHEMA_CASES = [pytest.param(key, field, value, id=f"{key}: {mistake}")
                for key, field in schema_keys() for mistake, value in bad_values(key, field)]


@pytest.mark.parametrize("key, field, value", SCHEMA_CASES)
def test_every_key_rejects_each_kind_of_mistake_in_one_line(tmp_path, key, field, value):
    data = yaml.safe_load((ROOT / "params.yaml").read_text())
    *section, name = key.split(".")
    where = data[section[0]] if section else data
    where.pop(name) if value is DELETE else where.update({name: value})
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(UserError) as caught:
        params.load(section[0], path) if section else params.load_all(path)
    problem = "missing" if value is DELETE else f"got {value!r}"
    assert str(caught.value) == f"params.yaml: {key}: {problem}; expected {params.expected(field)}"


def test_bad_seed(params_file):
    edit(params_file, "seed", None, -1)
    assert error_of(params_file, "seed") == "params.yaml: seed: got -1; expected an integer >= 0"


ALL_KEYS = ("seed, download, preprocess, backprop_check, train_mlp, train_lenet, train_dropout, train_bn, evaluate, "
            "seed_study, review")


@pytest.mark.parametrize("text, problem", [
    ("", f"empty; expected a mapping of the keys {ALL_KEYS}"),
    ("# only a comment\n", f"empty; expected a mapping of the keys {ALL_KEYS}"),
    ("- seed\n- download\n", f"got ['seed', 'download']; expected a mapping of the keys {ALL_KEYS}"),
    ("train_mlp:\n  epochs: [1, 2\n",
     "not valid YAML at line 3, column 1: expected ',' or ']', but got '<stream end>'"),
])
def test_a_file_that_is_not_a_mapping_of_keys(params_file, text, problem):
    params_file.write_text(text)
    assert error_of(params_file) == f"{params_file}: {problem}"


def test_missing_file(tmp_path):
    path = tmp_path / "params.yaml"
    assert error_of(path) == f"{path}: file not found (run from the repository root)"


def test_a_stage_reports_bad_params_in_one_line_without_traceback(tmp_path):
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    edit(tmp_path / "params.yaml", "train_mlp", "epochs", -1)
    result = subprocess.run([sys.executable, "-m", "stages.train", "mlp"], cwd=tmp_path, capture_output=True,
                            text=True, env=dict(env_for(), PYTHONPATH=str(ROOT)))
    assert result.returncode == 1
    assert result.stderr == "error: params.yaml: train_mlp.epochs: got -1; expected an integer >= 1\n"
    assert not (tmp_path / "models").exists() and not (tmp_path / "metrics").exists()
