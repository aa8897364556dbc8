"""Fixtures shared by the end-to-end tests: a tiny dataset, and a repository copy that has run on it."""
import pytest

from helpers import dvc, make_repo_copy, run, write_tiny_dataset


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tmp_path_factory.mktemp("tiny-data")


@pytest.fixture(scope="module")
def repo_run(tmp_path_factory, data):
    """A copy of the repository set to the tiny dataset, after its first full `dvc repro` (and that run's output)."""
    repo = make_repo_copy(tmp_path_factory.mktemp("repo"), data, write_tiny_dataset(data))
    return repo, dvc("repro", cwd=repo, data_dir=data)


@pytest.fixture(scope="module")
def committed_repo(repo_run):
    """The repository copy after its first run, with that run's results committed."""
    repo, _ = repo_run
    run(["git", "add", "-A"], cwd=repo)
    run(["git", "commit", "-qm", "tiny results"], cwd=repo)
    return repo
