"""What `make report` decides, model by model, from two sides' files: pure functions on texts (the report reads
the files from git and renders the page; tests/test_comparison.py tests the decisions).

For each model:
- `new model`: no results at the base.
- `unchanged`: its results (the single run and its seed replicas, fingerprints aside) are the same bytes at base
  and head; the row says why: its inputs (dvc.lock) are identical, or they changed and moved no number.
- with seed replicas of the same seeds on both sides, fresh at their revision: the paired verdict of
  fmnist.review.stats (better, worse, equivalent, inconclusive), Bonferroni-wide over the models so compared.
- otherwise `single run`: the one committed run at each side, judged by the seed-noise band and McNemar's test
  (stats.verdict), with the command that gives the paired verdict.
"""
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fmnist import machine, paths
from fmnist.results import parse_predictions
from fmnist.review import stats

RECORDS_FILE = "seeds/records.json"  # every seed replica's record, per model (fmnist.review.seeds)
LOCK_FILES = ("dvc.lock", "seeds/dvc.lock")
PAIRED_COMMAND = "make seeds"


def single_run_files(model: str) -> tuple[str, ...]:
    return (f"metrics/{model}/train.json", f"metrics/{model}/test.json", f"plots/{model}/history.csv",
            f"plots/{model}/confusion.csv")


def train_stage(model: str) -> str:
    return f"train@{model}"


def replica_records(files: Mapping[str, str], model: str) -> dict[int, dict]:
    """{seed: record} of a model's seed replicas among `files` (seeds/records.json)."""
    text = files.get(RECORDS_FILE)
    return {record["seed"]: record for record in json.loads(text).get(model, [])} if text else {}


def without_machine(record: dict) -> dict:
    """A replica's results without the fingerprint of the machine that made them."""
    return {key: value for key, value in record.items() if key != "machine"}


def result_texts(files: Mapping[str, str], model: str) -> dict[str, str]:
    """The texts that carry a model's results, fingerprints aside: what `unchanged` compares."""
    texts = {name: files[name] for name in single_run_files(model) if name in files}
    for seed, record in replica_records(files, model).items():
        texts[f"replica {seed}"] = json.dumps(without_machine(record), sort_keys=True)
    return texts


# ---- dvc.lock: what changed between two revisions, and whether a revision's results are fresh ----

def lock_stages(lock_text: str | None) -> dict:
    import yaml

    return (yaml.safe_load(lock_text) or {}).get("stages", {}) if lock_text else {}


def _flat(data, prefix="") -> dict:
    if isinstance(data, dict):
        return {k: v for key, value in data.items() for k, v in _flat(value, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): data}


def entry_changes(base: dict | None, head: dict | None, relevant=lambda path: True) -> list[str]:
    """How a stage's dvc.lock entry differs between base and head: params (key, old → new), code and data deps
    (those `relevant(path)` keeps)."""
    if base is None or head is None:
        return [] if base == head else ["stage added" if base is None else "stage removed"]
    changes = []
    old, new = (_flat(side.get("params", {}).get("params.yaml", {})) for side in (base, head))
    for key in sorted(old.keys() | new.keys()):
        if not same_value(old.get(key), new.get(key)):
            changes.append(f"params: {key} {old.get(key, 'missing')} → {new.get(key, 'missing')}")
    deps = [{d["path"]: d.get("md5") for d in side.get("deps", [])} for side in (base, head)]
    moved = sorted(p for p in deps[0].keys() | deps[1].keys() if deps[0].get(p) != deps[1].get(p) and relevant(p))
    code = [p for p in moved if p.endswith(".py")]
    data = [p for p in moved if not p.endswith(".py")]
    if code:
        changes.append(f"code: {', '.join(code)}")
    if data:
        changes.append(f"data: {', '.join(data)}")
    return changes


def same_value(a, b) -> bool:
    """Equal as params: dvc.lock writes 1e-06 as YAML 1.1 reads a string, params.yaml's 1.0e-6 is a float."""
    if a == b:
        return True
    try:
        return isinstance(a, (str, int, float)) and isinstance(b, (str, int, float)) and float(a) == float(b) \
            and not isinstance(a, bool) and not isinstance(b, bool)
    except ValueError:
        return False


def stale_stages(stages: Mapping[str, dict], params: Mapping, file_md5: Callable[[str], str | None]) -> dict:
    """{stage: why} for every stage whose dvc.lock entry does not match the revision's params and git-tracked
    code, or that depends on the outputs of such a stage. `file_md5(path)` is the md5 of a file at the revision
    (None when git does not track it: a DVC output, judged by the stage that makes it)."""
    producers = {out["path"]: name for name, entry in stages.items() for out in entry.get("outs", [])}
    why = {}
    for name, entry in stages.items():
        for key, value in _flat(entry.get("params", {}).get("params.yaml", {})).items():
            current = _flat(params).get(key, "missing")
            if not same_value(current, value):
                why[name] = f"params: {key} is {current!r}, the lock has {value!r}"
                break
        else:
            for dep in entry.get("deps", []):
                md5 = file_md5(dep["path"])
                if md5 is not None and md5 != dep.get("md5"):
                    why[name] = f"code: {dep['path']} changed since it ran"
                    break
    changed = True
    while changed:  # a stage downstream of a stale one is stale too
        changed = False
        for name, entry in stages.items():
            upstream = [producers[d["path"]] for d in entry.get("deps", []) if d["path"] in producers]
            stale_up = next((u for u in upstream if u in why and u != name), None)
            if name not in why and stale_up:
                why[name] = f"needs {stale_up}, which is stale"
                changed = True
    return why


def md5_of_text(text: str | None) -> str | None:
    return None if text is None else hashlib.md5(text.encode()).hexdigest()


# ---- The verdicts ----

@dataclass
class ModelComparison:
    """One model's row of the verdict table, and what the detail sections need."""

    model: str
    verdict: str
    why: str = ""  # what changed, or why it is unchanged / not comparable
    base_accuracy: float | None = None
    head_accuracy: float | None = None
    paired: stats.Comparison | None = None  # the paired verdict over seed replicas
    seeds: list[int] = field(default_factory=list)
    machines_differ: bool = False  # the two sides' replicas or runs were made on different CPU kinds
    single: dict | None = None  # the single-run detail: change, McNemar's fixed/broken/p/per_class, band, sd


def _accuracy(files: Mapping[str, str], model: str) -> float | None:
    text = files.get(f"metrics/{model}/test.json")
    return json.loads(text)["accuracy"] if text else None


def _machines(files: Mapping[str, str], model: str, seeds) -> set:
    """The kinds of machine (what decides bytes: CPU, ISA caps, threads, versions) that made these replicas."""
    records = replica_records(files, model)
    return {json.dumps(machine.identity(records[s].get("machine") or {}), sort_keys=True)
            for s in seeds if s in records}


def single_run(model: str, base: Mapping[str, str], head: Mapping[str, str], seed_study: dict | None) -> dict:
    """The single-run comparison: accuracy change, McNemar on the per-image predictions, the seed band."""
    sd, band = None, None
    try:
        spread = seed_study["models"][model]["test_accuracy"]
        sd, band = spread["sd"], stats.difference_band(spread["sd"], spread["n"])
    except (KeyError, TypeError, ValueError):
        pass
    detail = {"sd": sd, "band": band}
    confusion = [side.get(f"plots/{model}/confusion.csv") for side in (base, head)]
    if None in confusion:
        return {**detail, "note": "no per-image predictions at the base"}
    (actual, before), (head_actual, after) = (parse_predictions(text) for text in confusion)
    if actual != head_actual:
        return {**detail, "note": "the test sets differ: no paired test"}
    per_class = stats.fixed_and_broken(actual, before, after)
    fixed = sum(c["fixed"] for c in per_class.values())
    broken = sum(c["broken"] for c in per_class.values())
    return {**detail, "fixed": fixed, "broken": broken, "p": stats.mcnemar_exact(fixed, broken),
            "per_class": per_class, "identical": before == after}


def compare(base: Mapping[str, str], head: Mapping[str, str], fresh: tuple[set, set], *,
            margin: float = stats.MARGIN, alpha: float = stats.FAMILY_ALPHA,
            models=paths.MODEL_NAMES) -> list[ModelComparison]:
    """Every model's verdict. `base` and `head` map paths to texts (results, replicas, dvc.lock files,
    metrics/seeds.json); `fresh` holds, per side, the replica stages whose lock entries match that revision."""
    base_lock = {**lock_stages(base.get("dvc.lock")), **lock_stages(base.get("seeds/dvc.lock"))}
    head_lock = {**lock_stages(head.get("dvc.lock")), **lock_stages(head.get("seeds/dvc.lock"))}
    study = head.get("metrics/seeds.json")  # the noise of the code being judged: the head's seed study
    seed_study = json.loads(study) if study else None
    rows, paired_pairs = [], {}
    for model in models:
        row = ModelComparison(model, "", base_accuracy=_accuracy(base, model), head_accuracy=_accuracy(head, model))
        changes = entry_changes(base_lock.get(train_stage(model)), head_lock.get(train_stage(model)))
        # evaluate's own params and code (its data deps are the train stages' and preprocess's outputs)
        changes += entry_changes(base_lock.get("evaluate"), head_lock.get("evaluate"),
                                 relevant=lambda path: path.endswith(".py"))
        if row.base_accuracy is None:
            row.verdict, row.why = "new model", "no results at the base"
        elif row.head_accuracy is None:
            row.verdict, row.why = "not comparable", "no results at the head"
        elif result_texts(base, model) == result_texts(head, model):
            row.verdict = "unchanged"
            row.why = "inputs identical" if not changes else f"a change that moved no number ({'; '.join(changes)})"
        else:
            row.why = "; ".join(changes) or "only the machine"
            seeds = sorted(s for s in replica_records(base, model).keys() & replica_records(head, model).keys()
                           if f"replica@{model}-{s}" in fresh[0] and f"replica@{model}-{s}" in fresh[1])
            row.machines_differ = len(_machines(base, model, seeds) | _machines(head, model, seeds)) > 1
            if len(seeds) >= 2:
                row.seeds = seeds
                paired_pairs[model] = tuple([replica_records(side, model)[s]["test_accuracy"] for s in seeds]
                                            for side in (base, head))
            else:
                row.verdict = "single run"
                row.single = single_run(model, base, head, seed_study)
                if "p" in row.single:
                    word = stats.verdict(row.single["identical"], row.head_accuracy - row.base_accuracy,
                                         row.single["band"], row.single["p"])
                    row.single["word"] = word
                    if word == "unchanged":  # every test image got the same prediction: only last digits moved
                        row.verdict, row.single = "unchanged", None
                        row.why = f"the same prediction for every test image ({row.why})"
        rows.append(row)
    paired = stats.compare_models(paired_pairs, alpha=alpha, margin=margin) if paired_pairs else {}
    for model, comparison in paired.items():
        row = next(r for r in rows if r.model == model)
        row.paired, row.verdict = comparison, comparison.verdict.word
    return rows
