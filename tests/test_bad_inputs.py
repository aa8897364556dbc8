"""Bad inputs through the real `dvc repro` (issue 6): every one ends with a non-zero exit and one readable line
naming the input and what is wrong with it, never a Python traceback, and leaves nothing partial behind: no
unverified file in data/raw, no output of a stage that did not finish, no temporary file.

Each case gets its own copy of the repository; `dvc repro <stage>` runs only the stages up to the one that
must fail."""
import gzip
import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest
import yaml

from fmnist import data, params, paths
from fmnist.errors import UserError
from helpers import FILES, dvc, edit_params, idx_bytes, make_repo_copy, tiny_arrays, write_gz, write_tiny_dataset
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
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    return {name: [next(iter(out)) if isinstance(out, dict) else out for out in stage["outs"]]
            for name, stage in stages.items()}


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
    line = failed_cleanly(result, repo, md5s)
    assert line.startswith(f"error: data/raw/{DEV_IMAGES}: not a valid gzip file (")
    assert "ended before the end-of-stream marker" in line


def test_corrupted_gz(tmp_path):
    """Every byte present, but the CRC-32 in the gzip trailer does not match the content."""
    good = bytearray(gz_bytes(idx_bytes(ARRAYS["test_images"])))
    good[-8] ^= 0xFF
    result, repo, md5s = own_dataset(tmp_path, TEST_IMAGES, gz=bytes(good))
    line = failed_cleanly(result, repo, md5s)
    assert line.startswith(f"error: data/raw/{TEST_IMAGES}: not a valid gzip file (CRC check failed")


def test_wrong_magic_number(tmp_path):
    payload = b"\x12\x34" + idx_bytes(ARRAYS["dev_images"])[2:]
    result, repo, md5s = own_dataset(tmp_path, DEV_IMAGES, idx=payload)
    assert failed_cleanly(result, repo, md5s) == f"error: data/raw/{DEV_IMAGES}: not an IDX file (magic number 12340803)"


def test_header_dimensions_disagree_with_the_byte_count(tmp_path):
    payload = idx_bytes(ARRAYS["dev_images"])[:-100]  # the header still says 200 x 28 x 28
    result, repo, md5s = own_dataset(tmp_path, DEV_IMAGES, idx=payload)
    assert failed_cleanly(result, repo, md5s) == (
        f"error: data/raw/{DEV_IMAGES}: header says 200x28x28 = 156800 data bytes, file has 156700")


def test_label_and_image_counts_differ(tmp_path):
    result, repo, md5s = own_dataset(tmp_path, DEV_LABELS, idx=idx_bytes(ARRAYS["dev_labels"][:199]))
    assert failed_cleanly(result, repo, md5s) == (
        f"error: data/raw/{DEV_LABELS}: 199 labels for 200 images in data/raw/{DEV_IMAGES}")


def test_label_outside_0_to_9(tmp_path):
    labels = ARRAYS["test_labels"].copy()
    labels[7] = 12
    result, repo, md5s = own_dataset(tmp_path, TEST_LABELS, idx=idx_bytes(labels))
    assert failed_cleanly(result, repo, md5s) == f"error: data/raw/{TEST_LABELS}: label 12 at index 7, expected 0 to 9"


# --- Sources that do not give the expected file ---

def test_md5_mismatch(tmp_path, dataset):
    folder, md5s = dataset
    actual, md5s[TEST_IMAGES] = md5s[TEST_IMAGES], "0" * 32
    repo = repo_copy(tmp_path, folder, md5s)
    result = dvc("repro", "download", cwd=repo, data_dir=folder, check=False)
    assert failed_cleanly(result, repo, md5s) == (
        f"error: {TEST_IMAGES}: no source gave a verified file. "
        f"FASHION_MNIST_DIR={folder}: md5 mismatch: got {actual}, expected {'0' * 32}")
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
    assert failed_cleanly(result, repo, md5s) == (
        f"error: {DEV_LABELS}: no source gave a verified file. {url}: md5 mismatch: got {md5(page)}, "
        f"expected {md5s[DEV_LABELS]} (not a gzip file: an HTML page)")


def test_missing_file(tmp_path, dataset):
    folder, md5s = dataset
    (folder / TEST_LABELS).unlink()
    repo = repo_copy(tmp_path, folder, md5s)
    result = dvc("repro", "download", cwd=repo, data_dir=folder, check=False)
    assert failed_cleanly(result, repo, md5s) == (
        f"error: {TEST_LABELS}: no source gave a verified file. FASHION_MNIST_DIR={folder}: not found")


def test_connection_refused(tmp_path, dataset):
    folder, md5s = dataset
    repo = repo_copy(tmp_path, folder, md5s)
    url = refused_url()
    edit_params(repo, download={"base_urls": [url]})
    result = dvc("repro", "download", cwd=repo, check=False)
    line = failed_cleanly(result, repo, md5s)
    assert line.startswith(f"error: {DEV_IMAGES}: no source gave a verified file. {url}: unreachable (")
    assert line.endswith("Connection refused) (after 1 attempt)")


def test_server_that_never_answers_times_out(tmp_path, dataset):
    folder, md5s = dataset
    repo = repo_copy(tmp_path, folder, md5s)
    with silent_server() as url:
        edit_params(repo, download={"base_urls": [url], "timeout_seconds": 1, "retries": 1})
        result = dvc("repro", "download", cwd=repo, check=False)
    assert failed_cleanly(result, repo, md5s) == (
        f"error: {DEV_IMAGES}: no source gave a verified file. {url}: timed out after 1 s (after 1 attempt)")


# --- params.yaml ---

def params_case(tmp_path, dataset, stage, **sections):
    folder, md5s = dataset
    repo = repo_copy(tmp_path, folder, md5s)
    edit_params(repo, **sections)
    result = dvc("repro", stage, cwd=repo, data_dir=folder, check=False)
    assert f"Running stage '{stage}'" in result.stdout  # the stage itself refused, not DVC
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
    line = params_case(tmp_path, dataset, "train_mlp", train_mlp={"epochs": -3})
    assert line == "error: params.yaml: train_mlp.epochs: got -3; expected an integer >= 1"


@pytest.mark.parametrize("fraction", [0, 1.5])
def test_validation_fraction_outside_0_1(tmp_path, dataset, fraction):
    line = params_case(tmp_path, dataset, "preprocess", preprocess={"val_fraction": fraction})
    assert line == f"error: params.yaml: preprocess.val_fraction: got {fraction}; expected a number strictly between 0 and 1"


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
    # DVC 3.x says: Parameters 'download' are missing from 'params.yaml', or, reading seeds/dvc.yaml's vars
    # (the seed study's seeds come from params.yaml) before it: failed to parse 'vars' ...: 'params.yaml' does not exist
    line = dvc_refused(result, repo, md5s)
    assert "missing from 'params.yaml'" in line or "'params.yaml' does not exist" in line


def test_params_file_that_is_not_yaml(tmp_path, dataset):
    folder, md5s = dataset
    repo = repo_copy(tmp_path, folder, md5s)
    (repo / "params.yaml").write_text("seed: 0\ndownload: [\n  retries: : 3\n")
    result = dvc("repro", "download", cwd=repo, data_dir=folder, check=False)
    line = dvc_refused(result, repo, md5s)
    assert line.startswith("ERROR: unable to read: 'params.yaml', YAML file structure is corrupted")
    assert "line 3, column 12" in result.stderr  # where, on a later line of DVC's message


def test_params_file_with_a_python_tag_runs_nothing(tmp_path, dataset):
    folder, md5s = dataset
    repo = repo_copy(tmp_path, folder, md5s)
    marker = tmp_path / "executed"
    with open(repo / "params.yaml", "a") as file:
        file.write(f"\nevil: !!python/object/apply:os.mkdir ['{marker}']\n")
    result = dvc("repro", "download", cwd=repo, data_dir=folder, check=False)
    assert "could not determine a constructor for the tag" in dvc_refused(result, repo, md5s)
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
    assert str(caught.value).startswith(f"{path}: not valid YAML at line 1, column 7: could not determine a constructor")
    assert not marker.exists()


@pytest.fixture(scope="module")
def keras():
    import keras
    return keras


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
    x, y = np.zeros((5, 784), np.float32), np.zeros(5, np.uint8)
    with pytest.raises(UserError, match="Lambda"):
        evaluate.evaluate_model(keras, None, "mlp", x, y, batch_size=5)  # no figures: it stops before them
    assert not marker.exists()
    keras.saving.load_model(tmp_path / "models" / "mlp.keras", safe_mode=False)  # what safe_mode prevents
    assert marker.exists()


def test_unloadable_keras_model_is_one_error_line(tmp_path, monkeypatch, keras):
    from stages import evaluate

    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    lambda_model(keras, tmp_path / "models" / "mlp.keras", tmp_path / "executed")
    with pytest.raises(UserError, match=r"^models/mlp\.keras: "):
        evaluate.evaluate_model(keras, None, "mlp", np.zeros((5, 784), np.float32), np.zeros(5, np.uint8), batch_size=5)
