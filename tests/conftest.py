"""Fixtures shared by the end-to-end tests: a tiny dataset, and a repository copy that has run on it.

The tiny pipeline and its seed study are run once per test session (a template), then copied for each module
that needs them: every copy starts from the same first run, and the suite pays for one `dvc repro` and one seed
study instead of one per module. Under pytest-xdist the workers share the template through a file lock: the
first one builds it, the others wait."""
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from filelock import FileLock

from helpers import dvc, make_repo_copy, run, write_tiny_dataset


def _shared_root(tmp_path_factory) -> Path:
    """A folder every xdist worker of this session sees (each worker's own base temp is one level down)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if base.name.startswith("popen-gw") else base


@pytest.fixture(scope="session")
def template(tmp_path_factory) -> SimpleNamespace:
    """The tiny dataset and a repository copy after its first full `dvc repro`, then its seed study's
    (`dvc repro seeds/dvc.yaml`: helpers.TINY_STUDY), built once per session. Its git holds one commit, the
    source before any run. Copies may change; the template itself never does."""
    root = _shared_root(tmp_path_factory) / "tiny-template"
    with FileLock(str(root) + ".lock"):
        done = root / "first-run.json"
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)
            data, repo = root / "data", root / "repo"
            data.mkdir(parents=True)
            make_repo_copy(repo, data, write_tiny_dataset(data))
            result = dvc("repro", cwd=repo, data_dir=data)
            study = dvc("repro", "seeds/dvc.yaml", cwd=repo, data_dir=data)
            done.write_text(json.dumps({"stdout": result.stdout, "stderr": result.stderr,
                                        "study_stdout": study.stdout}))
    first_run = json.loads(done.read_text())
    return SimpleNamespace(data=root / "data", repo=root / "repo", stdout=first_run["stdout"],
                           stderr=first_run["stderr"], study_stdout=first_run["study_stdout"])


@pytest.fixture(scope="module")
def data(template):
    """The tiny dataset's folder (read only: the download stage copies from it)."""
    return template.data


@pytest.fixture(scope="module")
def repo_run(tmp_path_factory, template):
    """A copy of the repository after its first full `dvc repro` and seed study on the tiny dataset, and the
    `dvc repro`'s output."""
    repo = tmp_path_factory.mktemp("repo") / "repo"
    shutil.copytree(template.repo, repo, symlinks=True)
    return repo, SimpleNamespace(stdout=template.stdout, stderr=template.stderr, returncode=0)


@pytest.fixture(scope="module")
def committed_repo(repo_run):
    """The repository copy after its first run, with that run's results committed."""
    repo, _ = repo_run
    run(["git", "add", "-A"], cwd=repo)
    run(["git", "commit", "-qm", "tiny results"], cwd=repo)
    return repo


# Keras and the project's TensorFlow modules, for the tests that use them: imported when a test asks for them, not
# at collection, which every pytest-xdist worker does for every module (TensorFlow alone takes 2-3 s to load).
@pytest.fixture(scope="session")
def keras():
    import keras
    return keras


@pytest.fixture(scope="session")
def models():
    from fmnist import models
    return models


@pytest.fixture(scope="session")
def training():
    from fmnist import training
    return training


# The modules that take longest, longest first (as `pytest --durations=0` measures them): pytest-xdist hands whole
# modules to its workers in collection order (make test: --dist loadfile --no-loadscope-reorder), so the last
# ones to start are short and the workers finish together. The first three need no template to start: one
# worker builds it (test_check) while the other two run what of test_seed_study and test_bad_inputs needs none
# (their first tests), so both cores stay busy; test_forced_rerun, which needs the template from its first test,
# comes next. A worker is handed its next module as soon as two tests of its current one are left, so
# test_experiments_and_remote (two tests, 40 s) comes last of these: what waits behind it is a short module.
# The other modules keep their file order.
LONGEST_FIRST = ("test_check", "test_seed_study", "test_bad_inputs", "test_forced_rerun", "test_pipeline",
                 "test_interrupted", "test_review", "test_workflow", "test_training", "test_train_evaluate",
                 "test_models", "test_experiments_and_remote")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.module.__name__, len(rank)))  # a stable sort
