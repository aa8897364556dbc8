"""The params schema: every kind of mistake ends with one line naming params.yaml, the key and the problem."""
import shutil
import subprocess
import sys

import pytest
import yaml

from fmnist import params
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
     "params.yaml: train_dropout.dropout_after: got ['conv9']; "
     "expected a list of hidden layers among conv1, conv2, conv3, dense"),
    ("download", "md5", {"train-images-idx3-ubyte.gz": "abc"}, "params.yaml: download.md5: got"),
])
def test_bad_values_name_key_value_and_expectation(params_file, section, key, value, expected):
    edit(params_file, section, key, value)
    assert error_of(params_file, section).startswith(expected)


def test_bad_seed(params_file):
    edit(params_file, "seed", None, -1)
    assert error_of(params_file, "seed") == "params.yaml: seed: got -1; expected an integer >= 0"


def test_missing_file(tmp_path):
    assert "file not found" in error_of(tmp_path / "params.yaml")


def test_invalid_yaml(params_file):
    params_file.write_text("train_mlp:\n  epochs: [1, 2\n")
    assert error_of(params_file).startswith(f"{params_file}: not valid YAML at line")


def test_a_stage_reports_bad_params_in_one_line_without_traceback(tmp_path):
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    edit(tmp_path / "params.yaml", "train_mlp", "epochs", -1)
    result = subprocess.run([sys.executable, "-m", "stages.train", "mlp"], cwd=tmp_path, capture_output=True,
                            text=True, env=dict(env_for(), PYTHONPATH=str(ROOT)))
    assert result.returncode == 1
    assert result.stderr == "error: params.yaml: train_mlp.epochs: got -1; expected an integer >= 1\n"
    assert not (tmp_path / "models").exists() and not (tmp_path / "metrics").exists()
