"""kill -9 in the middle of a stage (issue 6): mid-download, mid-training and mid-evaluate, each in a rerun of
that stage (`dvc repro -f -s`) in a copy of the session's tiny pipeline. Each time the next `dvc repro`
completes and its results equal those of the uninterrupted run, DVC records nothing of the killed run, and the
killed stage leaves nothing that a later stage could take for a finished output: files appear under their final
names only when complete, a partial one exists only under a `.tmp-` name that no stage reads and the next run
deletes.

`dvc repro` runs in its own process group, and the whole group is killed, so the stage's python dies with it.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest

from helpers import FILES, VENV_BIN, dvc, edit_params, env_for, linux_only, pipeline_stages, results_snapshot
from servers import http_server

# Measurements of this machine's speed, not results: the only outputs allowed to differ between runs.
MACHINE_DEPENDENT = re.compile(r"metrics/\w+/timing\.json$")
# The MLP trains for the assignment's 20 epochs (~3 s on the tiny data), time enough to kill it after the first;
# the other models keep helpers.TINY_TRAINING.
LONGER_MLP = {"train_mlp": {"epochs": 20}}


def ran(output: str) -> set:
    return set(re.findall(r"Running stage '([\w@]+)'", output))


def assert_same_results(repo, reference: dict) -> None:
    results = results_snapshot(repo, MACHINE_DEPENDENT)
    assert sorted(results) == sorted(reference)
    assert [name for name in reference if results[name] != reference[name]] == []


def stage_outs(repo, stage: str) -> list:
    return pipeline_stages(repo)[stage]["outs"]


def final_names(folder) -> list:
    """Files under a final name: what a later stage would read."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".tmp-")) if folder.exists() else []


@pytest.fixture(scope="module")
def repo(tmp_path_factory, template):
    """A copy of the session's tiny pipeline, its MLP retrained for LONGER_MLP: the uninterrupted run."""
    repo = tmp_path_factory.mktemp("interrupted") / "repo"
    shutil.copytree(template.repo, repo, symlinks=True)
    edit_params(repo, **LONGER_MLP)
    assert ran(dvc("repro", cwd=repo, data_dir=template.data).stdout) == {"train@mlp", "evaluate"}
    return repo


@pytest.fixture(scope="module")
def reference(repo):
    """The results of the uninterrupted run."""
    return results_snapshot(repo, MACHINE_DEPENDENT)


def group_members(pgid: int) -> list:
    """Live (not zombie) processes of the process group."""
    members = []
    for stat in os.listdir("/proc"):
        if stat.isdigit():
            try:
                fields = open(f"/proc/{stat}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(stat))
    return members


def repro_until(repo, args, data_dir, ready, timeout=180) -> str:
    """Start `dvc <args>` in its own process group; as soon as `ready(output so far)` is true, SIGKILL the whole
    group. Returns the output up to the kill."""
    env = dict(env_for(data_dir), PYTHONUNBUFFERED="1")  # the stage's output line by line, as it happens
    proc = subprocess.Popen([str(VENV_BIN / "dvc"), *args], cwd=repo, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    try:
        while not ready("".join(lines)):
            assert proc.poll() is None, f"dvc {' '.join(args)} ended before it could be killed:\n{''.join(lines)}"
            assert time.monotonic() < deadline, f"dvc {' '.join(args)}: not ready after {timeout} s:\n{''.join(lines)}"
            time.sleep(0.02)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        reader.join(10)
    assert proc.returncode == -signal.SIGKILL
    for _ in range(250):  # the stage's python too: nothing of the group survives
        if not group_members(proc.pid):
            break
        time.sleep(0.02)
    assert group_members(proc.pid) == []
    return "".join(lines)


def completed(repo, data_dir):
    """Bring the repository to a finished state (nothing to do if it is one already). After a killed training or
    evaluation, the tests repro with --no-run-cache: the killed stage runs again, where DVC would restore the
    uninterrupted run's outputs from its run cache."""
    dvc("repro", cwd=repo, data_dir=data_dir)


@linux_only
def test_killed_mid_download(repo, data, reference):
    first = FILES["dev_images"]
    body = (data / first).read_bytes()
    rate = 40_000  # bytes per second: the first file takes ~3.4 s
    started = []

    class Routes(dict):
        """The server's routes, noting when the first file's transfer starts."""

        def get(self, path, default=None):
            if path == f"/{first}" and not started:
                started.append(time.monotonic())
            return super().get(path, default)

    def halfway(output):
        return bool(started) and time.monotonic() - started[0] > len(body) / rate / 2

    lock = (repo / "dvc.lock").read_bytes()
    routes = Routes({f"/{name}": (200, (data / name).read_bytes()) for name in FILES.values()})
    with http_server(routes, slow_bytes_per_second=rate) as url:
        edit_params(repo, download={"base_urls": [url]})
        output = repro_until(repo, ["repro", "-f", "-s", "download"], None, halfway)  # no FASHION_MNIST_DIR: HTTP
    assert ran(output) == {"download"} and "md5 ok" not in output

    raw = repo / "data" / "raw"
    assert final_names(raw) == []  # no unverified file: the one in transit exists only under a temporary name
    (partial,) = raw.iterdir()
    assert partial.name.startswith(".tmp-") and partial.name.endswith(first) and partial.stat().st_size < len(body)
    assert (repo / "dvc.lock").read_bytes() == lock  # DVC recorded nothing of the killed run

    edit_params(repo, download={"base_urls": []})  # the uninterrupted run's params; the data from the local folder
    result = dvc("repro", cwd=repo, data_dir=data)
    # the uninterrupted run's files are in DVC's cache: checked out, not downloaded again, and nothing after
    assert "Stage 'download' is cached - skipping run, checking out outputs" in result.stdout
    assert ran(result.stdout) == set()
    assert sorted(repo.rglob(".tmp-*")) == []
    assert_same_results(repo, reference)


@linux_only
def test_killed_mid_training(repo, data, reference):
    folder = data
    completed(repo, folder)

    def in_second_epoch(output):  # the first epoch's row is in the history; Keras has begun the second
        return "Epoch 2/20" in output.partition("Running stage 'train@mlp'")[2]

    output = repro_until(repo, ["repro", "-f", "-s", "train@mlp"], folder, in_second_epoch)
    assert "Epoch 20/20" not in output  # killed mid-training, not after
    assert [out for out in stage_outs(repo, "train@mlp") if (repo / out).exists()] == []
    partial = sorted((repo / "plots" / "mlp").glob(".tmp-*history.csv"))
    assert len(partial) == 1 and 2 <= len(partial[0].read_text().splitlines()) <= 20  # header and some epochs

    result = dvc("repro", "--no-run-cache", cwd=repo, data_dir=folder)  # see completed()
    assert "train@mlp" in ran(result.stdout) and ran(result.stdout) <= {"train@mlp", "evaluate"}
    assert sorted(repo.rglob(".tmp-*")) == []
    assert_same_results(repo, reference)


def complete_file(path) -> bool:
    """A file a reader can use: JSON that parses, a PNG with its end chunk, a CSV ending with its last line."""
    data = path.read_bytes()
    if path.suffix == ".json":
        json.loads(data)
        return True
    if path.suffix == ".png":
        return data.endswith(b"IEND\xaeB`\x82")
    return data.endswith(b"\n")


@linux_only
def test_killed_mid_evaluate(repo, data, reference):
    folder = data
    completed(repo, folder)

    def first_model_evaluated(output):
        return "mlp: test loss" in output

    output = repro_until(repo, ["repro", "-f", "-s", "evaluate"], folder, first_model_evaluated)
    assert "lenet: test loss" not in output
    present = [out for out in stage_outs(repo, "evaluate") if (repo / out).exists()]
    assert "metrics/comparison.json" not in present
    assert all(out.split("/")[1] == "mlp" for out in present), present  # only the model it had finished
    assert all(complete_file(repo / out) for out in present)  # and those whole, never truncated

    result = dvc("repro", "--no-run-cache", cwd=repo, data_dir=folder)  # see completed()
    assert ran(result.stdout) == {"evaluate"}  # DVC did not record the killed run as done
    assert sorted(repo.rglob(".tmp-*")) == []
    assert_same_results(repo, reference)
