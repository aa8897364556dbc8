"""`make check`: did this run reproduce the results committed at a revision?

    python -m fmnist.review.check [--rev HEAD] [--log results.log] [--out check.json]

Compares every file under metrics/ and plots/ in the working tree with the same file at REV (the timing files,
the fingerprints and the seed study excepted), part by part (fmnist/review/reproducibility.py says how): byte for
byte where the part was made on a machine with the same fingerprint as at REV, within the seed-noise band
where it was not. Also fails when dvc.lock no longer matches the code or params of the working tree (`dvc
status`): results committed without rerunning the stages a change affects. Prints one table; exits 0 only when
every row passes. Writes check.json: the outcome (identical, within noise, failed) and one line saying it, which
`make report` puts first; with --log (what `dvc repro` printed), the line names the stages rerun and those
restored from a cache.

One check of a correct commit on another machine fails at most 1 % of the time: the bands split that rate over
every headline metric of every model (stats.check_alphas), most of it on the test accuracies.
"""
import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from fmnist import machine, paths
from fmnist.review import reproducibility as rep, revisions
from fmnist.errors import UserError
from fmnist.files import write_json
from fmnist.stage import run_stage

RESULT_FOLDERS = (paths.METRICS_DIR, paths.PLOTS_DIR)
SEEDS_FILE = "metrics/seeds.json"
LOCK_FILE = "dvc.lock"


def committed_files(rev: str) -> dict:
    """{path: bytes} of every file under metrics/ and plots/ at `rev`."""
    if revisions.commit_of(rev) is None:
        raise UserError(f"--rev {rev}: no such revision in this git repository")
    return revisions.files_at(rev, RESULT_FOLDERS)


def locks(rev: str) -> tuple[dict, dict]:
    """dvc.lock as committed at `rev` and as this run left it (empty when there is none)."""
    committed = revisions.file_at(rev, LOCK_FILE)
    return yaml.safe_load(committed) if committed else {}, working_lock()


def working_lock() -> dict:
    current = Path(LOCK_FILE)
    return yaml.safe_load(current.read_text()) if current.exists() else {}


def dvc(*args: str) -> str:
    """DVC's own answer (its stdout); a DVC error ends the check with DVC's message."""
    result = subprocess.run([sys.executable, "-m", "dvc", *args], capture_output=True, text=True)
    if result.returncode != 0:
        said = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
        raise UserError(f"dvc {' '.join(args)}: {said.removeprefix('ERROR: ')}")
    return result.stdout


def stale() -> tuple[list[str], list[str]]:
    """(problems, notes) of rep.stale_stages for the working tree: the stages of dvc.yaml (those `make repro`
    runs) count, a stage of another dvc.yaml (the seed study's) is only noted."""
    status = json.loads(dvc("status", "--json"))  # first: DVC names a broken dvc.yaml or params.yaml itself
    counted = set(dvc("stage", "list", "--name-only").split())
    params = paths.PARAMS_FILE
    params_files = {str(params): yaml.safe_load(params.read_text())} if params.exists() else {}
    return rep.stale_stages(status, working_lock(), params_files, counted)


def working_files() -> dict:
    return {str(p): p.read_bytes() for folder in RESULT_FOLDERS if folder.is_dir() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".tmp-")}


def fingerprint(files: dict, stage: str) -> dict | None:
    content = files.get(str(machine.fingerprint_file(stage)))
    return json.loads(content) if content else None


def describe(fp: dict | None) -> str:
    if fp is None:
        return "unknown (no fingerprint)"
    onednn = ", ".join(f"{k}={v}" for k, v in (fp.get("onednn") or {}).items() if v)
    return (f"{fp['cpu']}, {fp['vector_isa']}{f' ({onednn})' if onednn else ''}, {fp['threads'] or 1} thread(s), "
            f"TensorFlow {fp['tensorflow']}, numpy {fp['numpy']}")


def compare(committed: dict, current: dict) -> tuple[list[dict], list[str]]:
    """Table rows and the problems found."""
    rows, problems = [], []
    results = {name for name in committed.keys() | current.keys() if not rep.NOT_RESULTS.match(name)}
    for name in sorted(results - current.keys()):
        problems.append(f"{name}: committed but not written by this run")
    for name in sorted(results - committed.keys()):
        problems.append(f"{name}: written by this run but not committed")
    seeds_text = current.get(SEEDS_FILE) or committed.get(SEEDS_FILE)
    noise = json.loads(seeds_text)["models"] if seeds_text else {}

    parts = {}
    for name in sorted(results & committed.keys() & current.keys()):
        parts.setdefault(rep.owner(name), []).append(name)
    same = {part: all(rep.same_machine(fingerprint(committed, s), fingerprint(current, s)) for s in rep.stages_of(part))
            for part in parts}
    order = [*paths.MODEL_NAMES, "all", "backprop_check", "preprocess"]
    for part, names in sorted(parts.items(), key=lambda item: order.index(item[0])):
        differing = [n for n in names if committed[n] != current[n]]
        if not differing or same[part] or part == "preprocess":
            rows.append({"model": part, "metric": files_label(names), "verdict": "identical" if not differing
                         else f"DIFFERENT: {files_label(differing)}"})
            problems += [f"{n}: differs from the committed file, though made on the same kind of machine"
                         for n in differing]
        elif part == "backprop_check":
            found = rep.relative_differences(*(json.loads(f[names[0]]) for f in (committed, current)),
                                             rep.BACKPROP_RTOL)
            rows.append({"model": part, "metric": "every number",
                         "verdict": "within 1e-9" if not found else "DIFFERENT"})
            problems += [f"{names[0]}: {p}" for p in found]
        elif part in paths.MODEL_NAMES:
            both = [rep.headline(*(json.loads(f[f"metrics/{part}/{kind}.json"]) for kind in ("train", "test")))
                    for f in (committed, current)]
            model_rows = rep.compare_headline(part, *both, noise.get(part))
            rows += model_rows
            problems += [f"{part}: {r['metric']} moved by {r['difference']:+.6f}, more than the seed noise allows "
                         f"(±{r['allowed']:.6f})" for r in model_rows if r["verdict"] == "OUTSIDE NOISE"]
            if not noise.get(part):
                problems.append(f"{part}: made on another machine and there is no seed study to say how far it may "
                                f"move ({SEEDS_FILE}; run make seeds)")
        else:
            rows.append({"model": part, "metric": files_label(names),
                         "verdict": "not compared: drawn from the models' results above"})
    for label, files in (("committed", committed), ("this run", current)):
        text = {name: content.decode() for name, content in files.items() if name.endswith((".json", ".csv"))}
        problems += [f"{label}: {p}" for model in paths.MODEL_NAMES for p in rep.consistency_problems(model, text)]
    return rows, problems


def files_label(names: list) -> str:
    return f"{len(names)} file{'s' if len(names) > 1 else ''}"


def cell(row: dict, key: str) -> str:
    value = row.get(key)
    if value is None:
        return "—"
    if key == "allowed":
        return f"±{100 * value:.2f} pt" if "accuracy" in row["metric"] else f"±{value:.4f}"
    if "accuracy" in row["metric"]:
        return f"{100 * value:+.2f} pt" if key == "difference" else f"{100 * value:.2f} %"
    return f"{value:+.4f}" if key == "difference" else f"{value:.4f}"


def table(rows: list[dict]) -> str:
    header = ("model", "metric", "committed", "now", "difference", "allowed", "verdict")
    lines = [[h for h in header]] + [[row["model"], row["metric"], *(cell(row, k) for k in header[2:6]), row["verdict"]]
                                      for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip() for line in lines)


def stage_runs(log: str) -> tuple[list[str], list[str]]:
    """(stages rerun, stages restored from a cache) in what `make results` printed."""
    rerun = re.findall(r"^Running stage '([^']+)'", log, flags=re.M)
    # checked out of the DVC cache before `dvc repro` found them up to date, or restored from the run cache
    restored = re.findall(r"^Stage '([^']+)' (?:is cached - skipping run|didn't change, skipping)", log, flags=re.M)
    return rerun, restored


def outcome(rows: list[dict], problems: list[str], rerun: list[str], restored: list[str]) -> dict:
    """check.json: what this check found, in one line."""
    runs = ""
    if rerun or restored:
        runs = (f" Rerun here: {', '.join(rerun) or 'nothing'}"
                + (f"; restored, not rerun: {', '.join(restored)}" if restored else "") + ".")
    if problems:
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        return {"outcome": "failed", "line": f"**No**: {len(problems)} problem(s): {shown}.{runs}",
                "rerun": rerun, "restored": restored}
    moved = [r for r in rows if r.get("allowed")]
    if not moved:
        return {"outcome": "identical", "line": f"**Yes, byte for byte** (the same kind of machine).{runs}",
                "rerun": rerun, "restored": restored}
    largest = max(moved, key=lambda r: abs(r["difference"]) / r["allowed"])
    return {"outcome": "within noise", "rerun": rerun, "restored": restored,
            "line": (f"**Yes, within the seed noise** (another kind of machine: the last bits differ); the largest "
                     f"move: {largest['model']} {largest['metric']} {cell(largest, 'difference')} of "
                     f"{cell(largest, 'allowed')} allowed.{runs}")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="HEAD", help="the git revision whose committed results to compare with")
    parser.add_argument("--log", type=Path, help="what `dvc repro` printed (to name the stages rerun and restored)")
    parser.add_argument("--out", type=Path, default=Path("check.json"))
    args = parser.parse_args()
    committed, current = committed_files(args.rev), working_files()
    if not current:
        raise UserError("metrics/, plots/: no results in the working tree; run the pipeline first (make repro)")
    print(f"Committed at {args.rev}: made on {describe(fingerprint(committed, 'evaluate'))}")
    print(f"This run: made on {describe(fingerprint(current, 'evaluate'))}")
    print()
    rows, problems = compare(committed, current)
    out_of_date, notes = stale()
    problems = out_of_date + rep.lock_differences(*locks(args.rev)) + problems
    print(table(rows))
    print()
    if notes:
        print("Not counted (stages that make repro does not run):")
        print("\n".join(f"- {n}" for n in notes))
        print()
    log = args.log.read_text() if args.log and args.log.exists() else ""
    result = outcome(rows, problems, *stage_runs(log))
    write_json(args.out, result)
    if problems:
        print(f"Not reproduced ({len(problems)} problems):")
        print("\n".join(f"- {p}" for p in problems))
        raise SystemExit(1)
    print(f"Reproduced: every result agrees with {args.rev} (byte for byte on the same kind of machine, within the "
          "seed noise on another).")


if __name__ == "__main__":
    run_stage(main)
