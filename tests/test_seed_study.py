"""The seed study in the DVC graph (seeds/dvc.yaml) on a tiny dataset, 2 models x 2 seeds: a replica whose seed
is params.yaml's reproduces the pipeline, a change reruns only the replicas it touches, an interrupted study
resumes, DVC's queue runs replicas side by side, and replicas made by two workers, shared through a DVC
remote's run cache, give a third clone that cannot train the same metrics/seeds.json as a serial run, byte for
byte."""
import ast
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from fmnist import params, paths
from fmnist.errors import UserError
from fmnist.results import parse_predictions
from fmnist.review import seeds as aggregate, study
from helpers import ROOT, VENV_BIN, dvc, edit_params, env_for, make_repo_copy, run, write_tiny_dataset

MODELS, SEEDS = ["mlp", "lenet"], [0, 1]
REPLICAS = [f"replica@{m}-{s}" for m in MODELS for s in SEEDS]
STUDY = "seeds/dvc.yaml"


def ran(output: str) -> set:
    return set(re.findall(r"Running stage '(?:seeds/dvc\.yaml:)?([\w@-]+)'", output))


def restored(output: str) -> set:
    return set(re.findall(r"Stage 'seeds/dvc\.yaml:([\w@-]+)' is cached - skipping run", output))


def fake_python(folder: Path, refuse: str) -> Path:
    """A folder whose `python` fails for any command line containing `refuse` and runs the real one otherwise:
    put first on PATH, it makes sure that a stage running `refuse` is never trained here."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "python"
    script.write_text(f'#!/bin/sh\ncase "$*" in *"{refuse}"*) echo "not trained here: $*" >&2; exit 1;; esac\n'
                      f'exec "{VENV_BIN / "python"}" "$@"\n')
    script.chmod(0o755)
    return folder


def dvc_with(first_on_path: Path, *args, cwd, data_dir=None, check=True):
    env = env_for(data_dir)
    env["PATH"] = f"{first_on_path}{os.pathsep}{env['PATH']}"
    result = subprocess.run([str(VENV_BIN / "dvc"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(f"dvc {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def study_files(repo: Path) -> dict:
    files = [repo / study.OUT, repo / study.RECORDS, *sorted((repo / study.REPLICAS_DIR).rglob("*.json"))]
    return {str(path.relative_to(repo)): path.read_bytes() for path in files}


# ---- Without training ----

def test_seed_study_params_are_checked(tmp_path):
    path = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", path)
    assert params.load("seed_study", path).seeds == [0, 1, 2, 3, 4, 5, 6, 7]
    for seeds in ([0], [0, 0, 1], [0, -1], [0, "1"]):
        edit_params(tmp_path, seed_study={"seeds": seeds})
        with pytest.raises(UserError, match="seed_study.seeds: got .*; expected a list of at least 2 different"):
            params.load("seed_study", path)
    edit_params(tmp_path, seed_study={"seeds": [0, 1], "models": ["mlp", "resnet"]})
    with pytest.raises(UserError, match="seed_study.models: got"):
        params.load("seed_study", path)


def project_imports(path: Path) -> set[str]:
    """The project's files that `path` imports, directly or through other project files (any import, even in a
    function), with the __init__.py of every package on the way."""
    found, todo = set(), [path]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.add(current)
        for node in ast.walk(ast.parse(current.read_text())):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                     [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                     if isinstance(node, ast.ImportFrom) and node.module else [])
            for name in names:
                parts = name.split(".")
                for i in range(1, len(parts) + 1):
                    base = ROOT.joinpath(*parts[:i])
                    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                        if parts[0] in ("fmnist", "stages") and candidate.is_file():
                            todo.append(candidate)
    return {p.relative_to(ROOT).as_posix() for p in found}


def docstring_only(path: Path) -> bool:
    body = ast.parse(path.read_text()).body
    return len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)


def test_the_study_covers_the_pipelines_models_and_reads_only_what_decides_a_replica():
    assert params.load("seed_study", ROOT / "params.yaml").models == list(paths.MODEL_NAMES)
    replica = yaml.safe_load((ROOT / STUDY).read_text())["stages"]["replica"]
    # not the global seed (the replica's own replaces it), not seed_study (a new seed must not rerun the others)
    assert replica["params"] == ["preprocess", "train_${item.model}", "evaluate.batch_size", "evaluate.threads"]
    assert "python -m fmnist.review.replica ${item.model} ${item.seed}" == replica["cmd"]


def test_predictions_are_written_as_lines_of_digits():
    classes = [i * 7 % 10 for i in range(10_000)]
    lines = study.encode_predictions(classes)
    assert len(lines) == 100 and {len(line) for line in lines} == {100} and lines[0].startswith("0741852963")
    assert study.decode_predictions(lines) == classes


def test_the_summary_names_each_kind_of_machine():
    made_here = {"cpu": "A", "vector_isa": "AVX2", "threads": 2, "kernel": "6.1"}
    records = [{"seed": 0, "machine": made_here}, {"seed": 1, "machine": dict(made_here, kernel="6.2")},
               {"seed": 2, "machine": dict(made_here, cpu="B")}]
    kinds = aggregate.machines(records)  # the kernel release does not decide bytes; the CPU does
    assert [kind["seeds"] for kind in kinds] == [[0, 1], [2]] and kinds[1]["fingerprint"]["cpu"] == "B"


# ---- A tiny repository, its seed study run in several ways ----

@pytest.fixture(scope="module")
def origin(tmp_path_factory):
    """The tiny repository every clone below starts from: 2 models x 2 seeds, a DVC remote in a folder. It is
    made as the session's template is (conftest.py), not copied from it: the workers need not wait for it."""
    data = tmp_path_factory.mktemp("tiny-data")
    repo = make_repo_copy(tmp_path_factory.mktemp("origin"), data, write_tiny_dataset(data), git=False)
    assert params.load("seed_study", repo / "params.yaml").model_dump() == {"seeds": SEEDS, "models": MODELS}
    run(["git", "init", "-q", "-b", "main"], cwd=repo)
    dvc("remote", "add", "-d", "shared", str(tmp_path_factory.mktemp("remote")), cwd=repo)
    run(["git", "add", "-A"], cwd=repo)
    run(["git", "commit", "-qm", "tiny study"], cwd=repo)
    return repo, data


def clone(origin, tmp_path_factory, name) -> Path:
    repo = tmp_path_factory.mktemp(name) / "repo"
    run(["git", "clone", "-q", str(origin[0]), str(repo)], cwd=repo.parent)
    return repo


@pytest.fixture(scope="module")
def workers(origin, tmp_path_factory):
    """Two clones, each making one half of the replicas and pushing its run cache to the remote: the first with
    DVC's queue, two at once (make seeds JOBS=2), the second serially, interrupted once and resumed."""
    data = origin[1]
    queued = clone(origin, tmp_path_factory, "worker-queue")
    half = [r for r in REPLICAS if r.endswith("-0")]
    out = run([str(VENV_BIN / "python"), "-m", "fmnist.review.seed_queue", "--jobs", "2", *half], cwd=queued,
              data_dir=data).stdout
    no_training = fake_python(tmp_path_factory.mktemp("no-training"), "fmnist.review.replica")
    after_queue = dvc_with(no_training, "repro", *(f"{STUDY}:{r}" for r in half), cwd=queued).stdout
    experiments_left = json.loads(dvc("exp", "show", "--json", cwd=queued).stdout)
    dvc("push", "--run-cache", cwd=queued)

    serial_worker = clone(origin, tmp_path_factory, "worker-serial")
    other = [f"{STUDY}:{r}" for r in REPLICAS if r.endswith("-1")]
    lenet_fails = fake_python(tmp_path_factory.mktemp("lenet-fails"), "fmnist.review.replica lenet 1")
    interrupted = dvc_with(lenet_fails, "repro", "--keep-going", *other, cwd=serial_worker, data_dir=data, check=False)
    resumed = dvc("repro", *other, cwd=serial_worker, data_dir=data).stdout
    dvc("push", "--run-cache", cwd=serial_worker)
    return {"queue_output": out, "after_queue": after_queue, "experiments_left": experiments_left,
            "interrupted": interrupted, "resumed": resumed}


def test_the_queue_leaves_replicas_that_restore_without_training(workers):
    assert "All 2 replicas ran" in workers["queue_output"]
    assert restored(workers["after_queue"]) == {"replica@mlp-0", "replica@lenet-0"}
    assert not ran(workers["after_queue"]) - {"download"}
    # the queued experiments were removed once done: only the workspace and its commit are left
    assert all(not (rev.get("experiments") or []) for rev in workers["experiments_left"])


def test_an_interrupted_study_resumes_where_it_stopped(workers):
    interrupted = workers["interrupted"]
    assert interrupted.returncode != 0 and "not trained here" in interrupted.stderr + interrupted.stdout
    assert "replica@mlp-1" in ran(interrupted.stdout)  # finished, so in seeds/dvc.lock
    assert ran(workers["resumed"]) == {"replica@lenet-1"}


# ---- The study run serially, as the session's template ran it ----

@pytest.fixture(scope="module")
def serial(template, tmp_path_factory):
    """A copy of the session's template, which ran the pipeline (`dvc repro`), then the whole study serially
    (`dvc repro seeds/dvc.yaml`), on the same tiny data and params as the origin's."""
    repo = tmp_path_factory.mktemp("serial") / "repo"
    shutil.copytree(template.repo, repo, symlinks=True)
    run(["git", "add", "-A"], cwd=repo)
    run(["git", "commit", "-qm", "results and seed study"], cwd=repo)
    return repo, template.stdout, template.study_stdout


def test_dvc_repro_at_the_root_leaves_the_study_alone(serial):
    _, pipeline, seeds = serial
    assert "train@mlp" in ran(pipeline) and not any("replica" in name or "aggregate" in name for name in ran(pipeline))
    assert ran(seeds) == {*REPLICAS, "aggregate"}  # the pipeline's download was there already


def test_the_replica_with_the_params_seed_is_the_pipelines_result(serial):
    repo = serial[0]
    assert params.load_seed(repo / "params.yaml") in SEEDS
    for model in MODELS:
        record = json.loads((repo / study.replica_file(model, params.load_seed(repo / "params.yaml"))).read_text())
        train = json.loads((repo / f"metrics/{model}/train.json").read_text())
        test = json.loads((repo / f"metrics/{model}/test.json").read_text())
        assert {k: record[k] for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy")} == \
               {k: train[k] for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy")}
        assert (record["test_accuracy"], record["test_loss"]) == (test["accuracy"], test["loss"])
        _, predicted = parse_predictions((repo / f"plots/{model}/confusion.csv").read_text())
        assert study.decode_predictions(record["predictions"]) == [paths.CLASS_NAMES.index(p) for p in predicted]
        assert record["machine"] == json.loads((repo / f"metrics/machine/train_{model}.json").read_text())
    summary = json.loads((repo / study.OUT).read_text())
    assert summary["seeds"] == SEEDS and list(summary["models"]) == MODELS
    assert [run_["seed"] for run_ in summary["models"]["mlp"]["runs"]] == SEEDS
    assert summary["models"]["lenet"]["test_accuracy"]["n"] == 2 and summary["models"]["mlp"]["machine"]["threads"] == 1


def test_a_change_reruns_only_the_replicas_it_touches(serial):
    repo = serial[0]
    assert "Data and pipelines are up to date." in dvc("status", cwd=repo).stdout
    try:
        edit_params(repo, train_lenet={"learning_rate": 0.001})  # (aggregate follows once their files change)
        assert ran(dvc("repro", "--dry", STUDY, cwd=repo).stdout) == {"replica@lenet-0", "replica@lenet-1"}
        run(["git", "checkout", "params.yaml"], cwd=repo)
        edit_params(repo, seed_study={"seeds": [0, 1, 2]})  # a new seed: its replicas only, and the summary
        assert ran(dvc("repro", "--dry", STUDY, cwd=repo).stdout) == {"replica@mlp-2", "replica@lenet-2", "aggregate"}
        edit_params(repo, seed_study={"seeds": [1, 0]})  # fewer or reordered seeds: nothing retrains
        assert ran(dvc("repro", "--dry", STUDY, cwd=repo).stdout) == {"aggregate"}
        assert "Data and pipelines are up to date." in dvc("status", "dvc.yaml", cwd=repo).stdout
    finally:
        run(["git", "checkout", "params.yaml"], cwd=repo)


def test_a_clone_that_cannot_train_assembles_the_serial_study_from_the_run_cache(serial, workers, origin,
                                                                                 tmp_path_factory):
    third = clone(origin, tmp_path_factory, "assembler")
    no_training = fake_python(tmp_path_factory.mktemp("cannot-train"), "fmnist.review.replica")
    # make seeds with a remote: run-cache entries and their files pulled as needed; no FASHION_MNIST_DIR either,
    # so the download stage too comes from the run cache
    out = dvc_with(no_training, "repro", "--pull", STUDY, cwd=third).stdout
    assert restored(out) == set(REPLICAS) and ran(out) == {"aggregate"}
    assert study_files(third) == study_files(serial[0])
    records = json.loads((third / study.RECORDS).read_text())  # every replica's record, for git
    assert [[r["seed"] for r in records[m]] for m in MODELS] == [SEEDS, SEEDS]
