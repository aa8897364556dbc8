"""`make seeds JOBS=N`: the seed study's replicas side by side, run by DVC's experiment queue.

    python -m fmnist.review.seed_queue --jobs N [STAGE ...]

Queues one DVC experiment per replica that must run (`dvc status seeds/dvc.yaml`; or the STAGEs given, e.g.
replica@mlp-3), each reproducing that one stage (`dvc exp run --queue seeds/dvc.yaml:replica@mlp-3`), starts N
queue workers (`dvc queue start -j N`) and waits until the queue has run them (`dvc queue status`). Each
experiment runs in a temporary copy of the workspace that shares this workspace's DVC cache, so what it leaves
behind is its run-cache entry; the experiments themselves are then removed (`dvc exp remove`). `make seeds`
goes on with `dvc repro seeds/dvc.yaml`, which restores every replica from the run cache without training and
aggregates. Threads per replica are fixed by params.yaml, so the bytes do not depend on N.

The queue runs the workspace as it is when queued (params.yaml edits included); new files must be committed
or `git add`-ed to reach it. A failed replica is left in `dvc exp show` for `dvc queue logs NAME`.
"""
import argparse
import json
import re
import subprocess
import time

from fmnist.errors import UserError
from fmnist.review import study
from fmnist.stage import run_stage

STUDY_FILE = study.STUDY_DIR / "dvc.yaml"
REPLICA = re.compile(r"^replica@[\w-]+$")
POLL_SECONDS = 5
DONE = ("Success", "Failed")


def dvc(*args: str) -> str:
    result = subprocess.run(["dvc", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise UserError(f"dvc {' '.join(args)} failed: {(result.stderr or result.stdout).strip()}")
    return result.stdout


def replicas_to_run() -> list[str]:
    """The replica stages `dvc status` reports as changed (never run, or run with other code, data or params)."""
    changed = json.loads(dvc("status", str(STUDY_FILE), "--json") or "{}")
    names = [name.split(":", 1)[1] for name in changed if name.startswith(f"{STUDY_FILE}:")]
    return [name for name in names if REPLICA.match(name)]


def queue(stage: str) -> str:
    """One queued experiment reproducing `stage` (and whatever it depends on that changed); its name."""
    out = dvc("exp", "run", "--queue", f"{STUDY_FILE}:{stage}")
    found = re.search(r"Queued experiment '([^']+)'", out)
    if not found:
        raise UserError(f"dvc exp run --queue {STUDY_FILE}:{stage}: no experiment name in its output: {out.strip()}")
    return found.group(1)


def statuses() -> dict[str, str]:
    """{experiment name: Queued, Running, Success, Failed, ...} from `dvc queue status`."""
    table = {}
    for line in dvc("queue", "status").splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[0] not in ("Task", "Worker"):
            table[fields[1]] = fields[-1]
    return table


def wait(names: dict[str, str]) -> dict[str, str]:
    """Poll the queue until every experiment of `names` ({name: stage}) has finished; {name: status}."""
    reported = {}
    while True:
        now = statuses()
        for name, stage in names.items():
            status = now.get(name, "missing")
            if status in (*DONE, "missing") and name not in reported:
                reported[name] = status
                print(f"{stage}: {status} ({len(reported)}/{len(names)})", flush=True)
        if len(reported) == len(names):
            return reported
        time.sleep(POLL_SECONDS)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, required=True, help="queue workers, i.e. replicas trained at once")
    parser.add_argument("stages", nargs="*", help="replica stages to run (default: every one dvc status reports)")
    args = parser.parse_args()
    if args.jobs < 1:
        raise UserError(f"--jobs {args.jobs}: expected an integer >= 1")
    stages = args.stages or replicas_to_run()
    bad = [stage for stage in stages if not REPLICA.match(stage)]
    if bad:
        raise UserError(f"{', '.join(bad)}: not a replica stage of {STUDY_FILE} (replica@MODEL-SEED)")
    if not stages:
        print("Every replica is up to date: nothing to queue.")
        return
    names = {queue(stage): stage for stage in stages}
    print(f"Queued {len(names)} replicas; starting {args.jobs} DVC queue workers.", flush=True)
    dvc("queue", "start", "-j", str(args.jobs))
    finished = wait(names)
    succeeded = [name for name, status in finished.items() if status == "Success"]
    if succeeded:
        dvc("exp", "remove", *succeeded)
    failed = {name: names[name] for name, status in finished.items() if status != "Success"}
    if failed:
        raise UserError("replicas failed in the queue: " + ", ".join(f"{stage} (dvc queue logs {name})"
                                                                    for name, stage in failed.items()))
    print(f"All {len(names)} replicas ran; `dvc repro {STUDY_FILE}` restores them from the run cache.")


if __name__ == "__main__":
    run_stage(main)
