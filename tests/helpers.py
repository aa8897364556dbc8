"""Test helpers: tiny IDX datasets, and a copy of the repository to run the real `dvc` in."""
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
FILES = {
    "dev_images": "train-images-idx3-ubyte.gz",
    "dev_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file's bytes for a uint8 array: magic 00 00 08 <ndim>, big-endian sizes, data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.tobytes()


def write_gz(path: Path, payload: bytes) -> str:
    """Write gzip-compressed `payload` (mtime 0, so the bytes are reproducible); return the file's md5."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(payload)
    return hashlib.md5(path.read_bytes()).hexdigest()


def tiny_arrays(dev_per_class=20, test_per_class=5, seed=0):
    """Images whose brightness pattern depends on the class, so that a model can learn something."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, per_class in (("dev", dev_per_class), ("test", test_per_class)):
        labels = rng.permutation(np.repeat(np.arange(10, dtype=np.uint8), per_class))
        images = rng.integers(0, 60, size=(len(labels), 28, 28), dtype=np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 * label:2 * label + 8, :] += 150
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels
    return arrays


def write_tiny_dataset(folder: Path, **kwargs) -> dict:
    """The four files of a tiny Fashion-MNIST look-alike in `folder`; returns {file name: md5}."""
    arrays = tiny_arrays(**kwargs)
    return {FILES[key]: write_gz(folder / FILES[key], idx_bytes(array)) for key, array in arrays.items()}


def tracked_files():
    """What a clone would hold: files git tracks, and new ones it does not ignore."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                         cwd=ROOT, capture_output=True, check=True).stdout.decode()
    return [name for name in out.split("\0") if name and (ROOT / name).is_file()]


def require(present: bool, missing: str) -> None:
    """Skip the test when what it needs is missing (a developer may not have installed it), but fail it when
    CI is set: CI installs everything the tests need (.ci/run), so a missing tool there is CI's failure.
    `missing` says what is missing and how to install it, in one line."""
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{missing} (CI must run this test)", pytrace=False)
    pytest.skip(missing)


# What only Linux has (CPU affinity with taskset, processes under /proc): tests of such mechanisms run on Linux,
# where .ci/run and the Linux job run them, and say so on the Mac job (pytest -ra lists every skip and why).
linux_only = pytest.mark.skipif(sys.platform != "linux", reason="Linux only: taskset and /proc do not exist here")


def require_tools(*tools: str, install: str) -> None:
    """require() for command-line tools: `install` is the command that installs them."""
    absent = [tool for tool in tools if shutil.which(tool) is None]
    require(not absent, f"{', '.join(absent)}: not installed; install with: {install}")


def env_for(data_dir=None) -> dict:
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", TF_CPP_MIN_LOG_LEVEL="3",
               GIT_AUTHOR_NAME="test", GIT_AUTHOR_EMAIL="test@example.com",
               GIT_COMMITTER_NAME="test", GIT_COMMITTER_EMAIL="test@example.com")
    env.pop("FASHION_MNIST_DIR", None)
    if data_dir is not None:
        env["FASHION_MNIST_DIR"] = str(data_dir)
    return env


def run(args, cwd, data_dir=None, check=True, timeout=900):
    result = subprocess.run(args, cwd=cwd, env=env_for(data_dir), capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def dvc(*args, cwd, data_dir=None, check=True):
    return run([str(VENV_BIN / "dvc"), *args], cwd=cwd, data_dir=data_dir, check=check)


def pipeline_stages(repo: Path = ROOT) -> dict[str, dict]:
    """dvc.yaml's stages as DVC itself resolves them (`foreach` expanded: train@mlp, ...):
    {name: {"cmd": ..., "deps": [path, ...], "outs": [path, ...]}}, the paths as dvc.yaml writes them."""
    from dvc.dependency.param import ParamsDependency  # DVC imported only by the tests that read the pipeline
    from dvc.repo import Repo

    with Repo(str(repo)) as project:
        return {stage.name: {"cmd": stage.cmd,
                             "deps": [str(d.def_path) for d in stage.deps if not isinstance(d, ParamsDependency)],
                             "outs": [str(o.def_path) for o in stage.outs]}
                for stage in project.index.stages}


def results_snapshot(repo: Path, not_results: re.Pattern) -> dict:
    """{path: bytes} of every file under metrics/ and plots/ but those whose path `not_results` matches."""
    files = sorted(p for folder in ("metrics", "plots") for p in (repo / folder).rglob("*") if p.is_file())
    return {str(p.relative_to(repo)): p.read_bytes() for p in files if not not_results.search(str(p))}


def edit_params(repo: Path, **sections) -> None:
    """Merge {section: {key: value}} (or seed=N) into the copy's params.yaml."""
    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for section, values in sections.items():
        if isinstance(values, dict):
            params[section].update(values)
        else:
            params[section] = values
    path.write_text(yaml.safe_dump(params, sort_keys=False))


TINY_TRAINING = {"epochs": 2, "batch_size": 32}
# The smallest seed study that gives two models a band (2 replicas each), one of them with oneDNN's kernels.
TINY_STUDY = {"seeds": [0, 1], "models": ["mlp", "lenet"]}


def make_repo_copy(dest: Path, data_dir: Path, md5s: dict, git=True) -> Path:
    """A copy of the repository with its own git, set to the tiny dataset, tiny epochs and the tiny seed study,
    and no results."""
    for name in tracked_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    # the copy builds its own results
    for results in ("dvc.lock", "metrics", "plots", "seeds/dvc.lock", "seeds/replicas", "seeds/records.json"):
        path = dest / results
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    edit_params(dest, download={"md5": md5s, "base_urls": [], "retries": 1}, seed_study=TINY_STUDY,
                **{f"train_{m}": TINY_TRAINING for m in ("mlp", "lenet", "dropout", "bn")})
    if git:
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "tiny copy"]):
            run(["git", *args], cwd=dest)
    return dest
