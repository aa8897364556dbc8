"""The pull-request workflow's two helpers for the seed replicas (.github/workflows/pr-report.yml):

    python -m fmnist.review.workflow changed-models --base REV     the models whose replicas to rerun, as JSON
    python -m fmnist.review.workflow replica-summary FOLDER [--models JSON]
                                                                   one table of the reruns' `make check`s

changed-models names a model when one of its replica stages in seeds/dvc.yaml (`replica@<model>-<seed>`)
- has a different entry in the committed seeds/dvc.lock at HEAD than at `git merge-base REV HEAD` (the pull
  request changed its inputs, command or committed outputs), or
- is not up to date with what is checked out, per `dvc status` (code or params changed without the lock); a
  dependency that is merely absent here (DVC-tracked data not pulled) does not count.
It prints a JSON list, sorted ([] when seeds/dvc.yaml does not exist), for a matrix of jobs.

replica-summary reads FOLDER/<anything>/check.json (one artifact per model, as download-artifact lays them
out), prints a Markdown table of each model's outcome and line, and exits 1 when any failed, or when a model
of --models has no check.json (its job stopped before the check).
"""
import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from fmnist.errors import UserError
from fmnist.review import revisions
from fmnist.stage import run_stage

SEEDS_DVC_YAML = "seeds/dvc.yaml"
SEEDS_LOCK = "seeds/dvc.lock"
# A replica stage: replica@<model>-<seed>, as DVC names a `matrix` stage over model and seed.
REPLICA_STAGE = re.compile(r"(?:^|:)replica@(?P<model>[A-Za-z0-9_.]+)-(?P<seed>\d+)$")
# `dvc status` states that mean the checked-out inputs differ from the lock (not merely absent here).
CHANGED_STATES = {"modified", "new"}


def model_of(stage: str) -> str | None:
    match = REPLICA_STAGE.search(stage)
    return match.group("model") if match else None


def lock_stages(text: bytes | str | None) -> dict:
    import yaml  # here, so that replica-summary runs on a Python without the project's packages

    return (yaml.safe_load(text) or {}).get("stages", {}) if text else {}


def changed_in_lock(base_lock, head_lock) -> set[str]:
    """Models with a replica stage whose lock entry is new or different at the head."""
    base, head = lock_stages(base_lock), lock_stages(head_lock)
    return {model_of(name) for name, entry in head.items() if model_of(name) and base.get(name) != entry}


def has_changed_state(value) -> bool:
    """True when a `dvc status` entry holds a change that is not mere absence."""
    if isinstance(value, str):
        return value in CHANGED_STATES or value in ("changed command", "always changed")
    if isinstance(value, dict):
        return any(has_changed_state(v) for v in value.values())
    if isinstance(value, list):
        return any(has_changed_state(v) for v in value)
    return False


def out_of_date(status: dict) -> set[str]:
    """Models with a replica stage `dvc status --json` finds changed."""
    return {model_of(stage) for stage, changes in status.items() if model_of(stage) and has_changed_state(changes)}


def dvc_status() -> dict:
    result = subprocess.run(["dvc", "status", "--json", SEEDS_DVC_YAML], capture_output=True, text=True)
    if result.returncode != 0:
        raise UserError(f"dvc status --json {SEEDS_DVC_YAML} failed: {result.stderr.strip()}")
    return json.loads(result.stdout or "{}")


def changed_models(base: str) -> list[str]:
    head = revisions.commit_of("HEAD")
    if revisions.commit_of(base) is None:
        raise UserError(f"--base {base}: no such revision in this git repository")
    if not Path(SEEDS_DVC_YAML).exists():
        print(f"{SEEDS_DVC_YAML}: none, so no replicas to rerun", file=sys.stderr)
        return []
    merge_base = subprocess.run(["git", "merge-base", base, head], capture_output=True, text=True,
                                check=True).stdout.strip()
    models = changed_in_lock(revisions.file_at(merge_base, SEEDS_LOCK), revisions.file_at(head, SEEDS_LOCK))
    return sorted(models | out_of_date(dvc_status()))


def replica_summary(folder: Path, expected: list[str]) -> tuple[str, bool]:
    """The Markdown table, and whether every expected model's replicas passed their check."""
    outcomes = {}
    for check in sorted(folder.glob("*/check.json")):
        model = check.parent.name.removeprefix("replicas-")
        outcomes[model] = json.loads(check.read_text())
    rows, passed = [], True
    for model in sorted(set(outcomes) | set(expected)):
        if model in outcomes:
            outcome, line = outcomes[model].get("outcome", "?"), outcomes[model].get("line", "")
        else:
            outcome, line = "no outcome", "its job stopped before `make check` (see the job's log)"
        passed &= outcome in ("identical", "within noise")
        rows.append(f"| {model} | {outcome} | {line} |")
    verdict = "every rerun reproduced its committed replicas" if passed else "**a rerun did not reproduce**"
    table = "\n".join(["## Seed replicas rerun", "", f"{len(rows)} model(s): {verdict}.", "",
                       "| model | outcome | `make check` |", "|---|---|---|", *rows])
    return table + "\n", passed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    changed = commands.add_parser("changed-models", help="the models whose replicas to rerun, as a JSON list")
    changed.add_argument("--base", required=True, help="the pull request's base (its merge base is used)")
    summary = commands.add_parser("replica-summary", help="one table of the reruns' outcomes")
    summary.add_argument("folder", type=Path)
    summary.add_argument("--models", default="[]", help="JSON list of the models whose replicas were rerun")
    args = parser.parse_args()
    if args.command == "changed-models":
        print(json.dumps(changed_models(args.base)))
        return
    table, passed = replica_summary(args.folder, json.loads(args.models or "[]"))
    print(table)
    if not passed:
        sys.exit(1)


if __name__ == "__main__":
    run_stage(main)
