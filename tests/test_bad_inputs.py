"""Bad inputs through the real commands (issue 6): every one ends with a non-zero exit and one readable line
naming the input and what is wrong with it, never a Python traceback, and leaves nothing partial behind: no
unverified file in data/raw, no output of a stage that did not finish, no temporary file. The lines are those
of the case table, tests/bad_input_cases.py, which docs/bad-inputs.md shows.

Sources and the files a user gives download: each case gets its own copy of the repository, and `dvc repro
<stage>` runs only the stages up to the one that must fail. The files the stages hand each other: one copy
where the whole pipeline has run, built once; each case copies it without its git and DVC folders, spoils
one input, and runs the stage's own command."""
import gzip
import hashlib
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from fmnist import data, params, paths
from fmnist.errors import UserError
from bad_input_cases import CASES, DOC, expected, pattern, render
from helpers import (FILES, ROOT, dvc, edit_params, idx_bytes, make_repo_copy, pipeline_stages, run, tiny_arrays,
                     write_gz, write_tiny_dataset)
from servers import http_server, refused_url, silent_server

DEV_IMAGES, DEV_LABELS = FILES["dev_images"], FILES["dev_labels"]
TEST_IMAGES, TEST_LABELS = FILES["test_images"], FILES["test_labels"]


def md5(payload: bytes) -> str:
    return hashlib.md5(payload).hexdigest()


@pytest.fixture
def dataset(tmp_path):
    """The tiny dataset's folder and its {file name: md5}."""
    folder = tmp_path / "data"
    return folder, write_tiny_dataset(folder)


def repo_copy(tmp_path, folder, md5s) -> Path:
    return make_repo_copy(tmp_path / "repo", folder, md5s)


def finished_stages(repo) -> set:
    """Stages DVC recorded as done: it writes a stage into dvc.lock only when its command succeeded."""
    lock = repo / "dvc.lock"
    return set(yaml.safe_load(lock.read_text())["stages"]) if lock.exists() else set()


def stage_outs(repo) -> dict:
    """Each stage's outputs, as the project's own dvc.yaml declares them (the copy's params.yaml may be the broken
    input under test, which DVC would refuse to read)."""
    return {name: stage["outs"] for name, stage in pipeline_stages().items()}


def assert_nothing_left(repo, md5s) -> None:
    """No temporary file anywhere; in data/raw only files whose md5 is the one params asked for; no output of a
    stage that did not finish (data/raw excepted: download keeps each file it verified)."""
    assert sorted(repo.rglob(".tmp-*")) == []
    raw = repo / "data" / "raw"
    for path in raw.iterdir() if raw.exists() else []:
        assert path.name in md5s and md5(path.read_bytes()) == md5s[path.name], f"unverified file {path}"
    done = finished_stages(repo)
    for stage, outs in stage_outs(repo).items():
        if stage in done or stage == "download":
            continue
        assert [out for out in outs if (repo / out).exists()] == [], f"outputs of the unfinished stage {stage}"
    if "preprocess" not in done:
        processed = repo / "data" / "processed"
        assert [p for p in processed.rglob("*") if p.name != ".gitignore"] == []  # rglob of a missing folder: []


def failed_cleanly(result, repo, md5s) -> str:
    """Check the common promises of a failure; return the stage's one `error: ...` line."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert_nothing_left(repo, md5s)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


# --- A dataset of the user's own (params md5 set to its files): download accepts it, preprocess rejects it ---

def own_dataset(tmp_path, name, *, idx=None, gz=None):
    """The tiny dataset with file `name` replaced by `idx` (gzip-compressed here) or raw `gz` bytes, and params
    md5 set to the new file's md5; runs `dvc repro preprocess`. Returns (result, repo, md5s)."""
    folder = tmp_path / "data"
    md5s = write_tiny_dataset(folder)
    if idx is not None:
        md5s[name] = write_gz(folder / name, idx)
    else:
        (folder / name).write_bytes(gz)
        md5s[name] = md5(gz)
    repo = repo_copy(tmp_path, folder, md5s)
    result = dvc("repro", "preprocess", cwd=repo, data_dir=folder, check=False)
    assert finished_stages(repo) == {"download"}, result.stdout + result.stderr  # download accepted the file
    return result, repo, md5s


def gz_bytes(payload: bytes) -> bytes:
    return gzip.compress(payload, mtime=0)


ARRAYS = tiny_arrays()  # what write_tiny_dataset writes: 200 development and 50 test images


def test_truncated_gz(tmp_path):
    whole = gz_bytes(idx_bytes(ARRAYS["dev_images"]))
    result, repo, md5s = own_dataset(tmp_path, DEV_IMAGES, gz=whole[:len(whole) // 2])
    assert failed_cleanly(result, repo, md5s) == expected("truncated-gz")


def test_corrupted_gz(tmp_path):
    """Every byte present, but the CRC-32 in the gzip trailer does not match the content."""
    good = bytearray(gz_bytes(idx_bytes(ARRAYS["test_images"])))
    good[-8] ^= 0xFF
    result, repo, md5s = own_dataset(tmp_path, TEST_IMAGES, gz=bytes(good))
    assert re.fullmatch(pattern("corrupted-gz"), failed_cleanly(result, repo, md5s))


def test_wrong_magic_number(tmp_path):
    payload = b"\x12\x34" + idx_bytes(ARRAYS["dev_images"])[2:]
    result, repo, md5s = own_dataset(tmp_path, DEV_IMAGES, idx=payload)
    assert failed_cleanly(result, repo, md5s) == expected("wrong-magic")


def test_header_dimensions_disagree_with_the_byte_count(tmp_path):
    payload = idx_bytes(ARRAYS["dev_images"])[:-100]  # the header still says 200 x 28 x 28
    result, repo, md5s = own_dataset(tmp_path, DEV_IMAGES, idx=payload)
    assert failed_cleanly(result, repo, md5s) == expected("short-idx")


def test_label_and_image_counts_differ(tmp_path):
    result, repo, md5s = own_dataset(tmp_path, DEV_LABELS, idx=idx_bytes(ARRAYS["dev_labels"][:199]))
    assert failed_cleanly(result, repo, md5s) == expected("label-count")


def test_label_outside_0_to_9(tmp_path):
    labels = ARRAYS["test_labels"].copy()
    labels[7] = 12
    result, repo, md5s = own_dataset(tmp_path, TEST_LABELS, idx=idx_bytes(labels))
    assert failed_cleanly(result, repo, md5s) == expected("label-range")


# --- Sources that do not give the expected file ---

def test_md5_mismatch(tmp_path, dataset):
    folder, md5s = dataset
    actual, md5s[TEST_IMAGES] = md5s[TEST_IMAGES], "0" * 32
    repo = repo_copy(tmp_path, folder, md5s)
    result = dvc("repro", "download", cwd=repo, data_dir=folder, check=False)
    assert failed_cleanly(result, repo, md5s) == expected(
        "md5-mismatch", folder=str(folder), actual=actual, expected="0" * 32)
    # the two files before it were verified and kept; the bad one never reached data/raw
    assert sorted(p.name for p in (repo / "data" / "raw").iterdir()) == sorted([DEV_IMAGES, DEV_LABELS])


def test_html_error_page_instead_of_a_gz(tmp_path, dataset):
    folder, md5s = dataset
    page = b"<!DOCTYPE html>\n<html><body><h1>Rate limit exceeded</h1></body></html>\n"
    routes = {f"/{name}": (200, (folder / name).read_bytes()) for name in md5s}
    routes[f"/{DEV_LABELS}"] = (200, page)
    repo = repo_copy(tmp_path, folder, md5s)
    with http_server(routes) as url:
        edit_params(repo, download={"base_urls": [url]})
        result = dvc("repro", "download", cwd=repo, check=False)  # no FASHION_MNIST_DIR: HTTP only
    assert failed_cleanly(result, repo, md5s) == expected(
        "html-page", url=url, actual=md5(page), expected=md5s[DEV_LABELS])


def test_missing_file(tmp_path, dataset):
    folder, md5s = dataset
    (folder / TEST_LABELS).unlink()
    repo = repo_copy(tmp_path, folder, md5s)
    result = dvc("repro", "download", cwd=repo, data_dir=folder, check=False)
    assert failed_cleanly(result, repo, md5s) == expected("source-missing", folder=str(folder))


def test_connection_refused(tmp_path, dataset):
    folder, md5s = dataset
    repo = repo_copy(tmp_path, folder, md5s)
    url = refused_url()
    edit_params(repo, download={"base_urls": [url]})
    result = dvc("repro", "download", cwd=repo, check=False)
    assert re.fullmatch(pattern("refused", url=url), failed_cleanly(result, repo, md5s))


def test_server_that_never_answers_times_out(tmp_path, dataset):
    folder, md5s = dataset
    repo = repo_copy(tmp_path, folder, md5s)
    with silent_server() as url:
        edit_params(repo, download={"base_urls": [url], "timeout_seconds": 1, "retries": 1})
        result = dvc("repro", "download", cwd=repo, check=False)
    assert failed_cleanly(result, repo, md5s) == expected("timeout", url=url)


# --- params.yaml ---

def params_case(tmp_path, dataset, stage, **sections):
    folder, md5s = dataset
    repo = repo_copy(tmp_path, folder, md5s)
    edit_params(repo, **sections)
    result = dvc("repro", stage, cwd=repo, data_dir=folder, check=False)
    # The first stage refused, not DVC: every stage checks the whole file before any work, so an error in a
    # later stage's section stops the pipeline at its start.
    assert "Running stage 'download'" in result.stdout and "Running stage 'preprocess'" not in result.stdout
    return failed_cleanly(result, repo, md5s)


def test_param_of_the_wrong_type(tmp_path, dataset):
    line = params_case(tmp_path, dataset, "download", download={"timeout_seconds": "thirty"})
    assert line == "error: params.yaml: download.timeout_seconds: got 'thirty'; expected a number > 0"


@pytest.mark.parametrize("where", ["key", "section"])
def test_unknown_key_suggests_the_closest(tmp_path, dataset, where):
    folder, md5s = dataset
    repo = repo_copy(tmp_path, folder, md5s)
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    if where == "key":
        raw["download"]["retires"] = raw["download"].pop("retries")
        expected = "error: params.yaml: download.retires: unknown key; did you mean 'retries'?"
    else:
        raw["evaluat"] = {"batch_size": 100}
        expected = "error: params.yaml: evaluat: unknown key; did you mean 'evaluate'?"
    (repo / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    result = dvc("repro", "download", cwd=repo, data_dir=folder, check=False)
    assert failed_cleanly(result, repo, md5s) == expected


def test_negative_epochs(tmp_path, dataset):
    line = params_case(tmp_path, dataset, "train@mlp", train_mlp={"epochs": -3})
    assert line == "error: params.yaml: train_mlp.epochs: got -3; expected an integer >= 1"


@pytest.mark.parametrize("fraction", [0, 1.5])
def test_validation_fraction_outside_0_1(tmp_path, dataset, fraction):
    line = params_case(tmp_path, dataset, "preprocess", preprocess={"val_fraction": fraction})
    assert line == (f"error: params.yaml: preprocess.val_fraction: got {fraction}; "
                    "expected a number strictly between 0 and 1")


# DVC reads params.yaml itself before it runs any stage, so for a missing or unparsable file the message is
# DVC's own `ERROR: ...` line; the stage never starts.

def dvc_refused(result, repo, md5s) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert "Running stage" not in result.stdout
    assert_nothing_left(repo, md5s)
    assert not (repo / "data" / "raw").exists()
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1 and "'params.yaml'" in errors[0], result.stderr
    return errors[0]


def test_missing_params_file(tmp_path, dataset):
    folder, md5s = dataset
    repo = repo_copy(tmp_path, folder, md5s)
    (repo / "params.yaml").unlink()
    result = dvc("repro", "download", cwd=repo, data_dir=folder, check=False)
    assert dvc_refused(result, repo, md5s) == expected("params-missing-dvc")


def test_params_file_that_is_not_yaml(tmp_path, dataset):
    folder, md5s = dataset
    repo = repo_copy(tmp_path, folder, md5s)
    (repo / "params.yaml").write_text("seed: 0\ndownload: [\n  retries: : 3\n")
    result = dvc("repro", "download", cwd=repo, data_dir=folder, check=False)
    assert dvc_refused(result, repo, md5s) == expected("params-not-yaml")
    assert "line 3, column 12" in result.stderr  # where, on a later line of DVC's message


def test_params_file_with_a_python_tag_runs_nothing(tmp_path, dataset):
    folder, md5s = dataset
    repo = repo_copy(tmp_path, folder, md5s)
    marker = tmp_path / "executed"
    with open(repo / "params.yaml", "a") as file:
        file.write(f"\nevil: !!python/object/apply:os.mkdir ['{marker}']\n")
    result = dvc("repro", "download", cwd=repo, data_dir=folder, check=False)
    assert dvc_refused(result, repo, md5s) == expected("params-python-tag")
    assert not marker.exists()


# --- Safe loading: no input can make the pipeline run code ---

class RunsCodeWhenUnpickled:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return Path.mkdir, (self.marker,)


def test_npy_holding_pickled_objects_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "executed"
    x_path, y_path = paths.processed("test", "x"), paths.processed("test", "y")
    x_path.parent.mkdir(parents=True)
    np.save(x_path, np.array([RunsCodeWhenUnpickled(marker)], dtype=object), allow_pickle=True)
    np.save(y_path, np.zeros(1, np.uint8))
    pickle.loads(pickle.dumps(RunsCodeWhenUnpickled(tmp_path / "probe")))  # the payload would run if unpickled
    assert (tmp_path / "probe").exists()
    with pytest.raises(UserError) as caught:
        data.load("test")
    assert str(caught.value) == (
        f"{x_path}: not a valid .npy array (Object arrays cannot be loaded when allow_pickle=False)")
    assert not marker.exists()


def test_params_yaml_python_tags_are_not_constructed(tmp_path):
    marker = tmp_path / "executed"
    path = tmp_path / "params.yaml"
    path.write_text(f"seed: !!python/object/apply:os.mkdir ['{marker}']\n")
    with pytest.raises(UserError) as caught:
        params.read_file(path)
    assert str(caught.value).startswith(f"{path}: not valid YAML at line 1, column 7: "
                                        "could not determine a constructor")
    assert not marker.exists()


def lambda_model(keras, path, marker):
    """A model whose Lambda layer creates `marker` when the model is built, as an unsafe load would."""
    # the marker's path is a constant of the lambda's own code (Keras cannot restore a lambda's defaults)
    run_code = eval(f"lambda x: (__import__('os').makedirs({str(marker)!r}, exist_ok=True), x)[1]")
    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Lambda(run_code),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.save(path)
    marker.rmdir()  # building the model above ran the lambda once


def test_keras_model_with_python_code_is_not_run(tmp_path, monkeypatch, keras):
    from stages import evaluate

    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "executed"
    (tmp_path / "models").mkdir()
    lambda_model(keras, tmp_path / "models" / "mlp.keras", marker)
    with pytest.raises(UserError, match="Lambda"):
        evaluate.load_model(keras, "mlp")
    assert not marker.exists()
    keras.saving.load_model(tmp_path / "models" / "mlp.keras", safe_mode=False)  # what safe_mode prevents
    assert marker.exists()


def test_unloadable_keras_model_is_one_error_line(tmp_path, monkeypatch, keras):
    from stages import evaluate

    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    lambda_model(keras, tmp_path / "models" / "mlp.keras", tmp_path / "executed")
    with pytest.raises(UserError, match=r"^models/mlp\.keras: "):
        evaluate.load_model(keras, "mlp")


# --- The files the stages hand each other, and the raw files preprocess reads: each spoiled in a copy of a
# repository where the whole pipeline ran, then the stage's own command ---

TABLE = [case for case in CASES if case.make]


@pytest.fixture(scope="module")
def ran(repo_run):
    """The repository copy after its full run, and {stage command: its outputs} from its dvc.lock."""
    repo, _ = repo_run
    stages = yaml.safe_load((repo / "dvc.lock").read_text())["stages"].values()
    return repo, {stage["cmd"]: [out["path"] for out in stage["outs"]] for stage in stages}


@pytest.mark.parametrize("case", TABLE, ids=[case.id for case in TABLE])
def test_a_bad_input_ends_its_stage_with_one_line(tmp_path, ran, case):
    source, outputs = ran
    repo = tmp_path / "repo"
    shutil.copytree(source, repo, ignore=shutil.ignore_patterns(".git", ".dvc"))
    for out in outputs[case.command]:  # as `dvc repro` does before it runs a stage: no old output stays
        path = repo / out
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    case.make(repo)
    result = run(case.command.split(), cwd=repo, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error: ")] == [case.line], result.stderr
    assert [out for out in outputs[case.command] if (repo / out).exists()] == []
    assert sorted(repo.rglob(".tmp-*")) == []


def test_the_doc_shows_every_case_and_its_line():
    assert DOC.read_text() == render(), "docs/bad-inputs.md is out of date: python tests/bad_input_cases.py"


def test_every_case_without_a_command_of_the_table_has_a_test_of_its_own():
    source = (ROOT / "tests" / "test_bad_inputs.py").read_text()
    used = set(re.findall(r'(?:expected|pattern)\(\s*"([\w-]+)"', source))
    assert {case.id for case in CASES if not case.make} - used == set()
