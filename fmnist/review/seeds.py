"""The seed study's summary: `python -m fmnist.review.seeds`, the stage `aggregate` of seeds/dvc.yaml (`make
seeds` runs it after the replicas; docs/seed-study.md).

Reads the record of every replica (seeds/replicas/MODEL/SEED.json, written by fmnist.review.replica, kept in
DVC's cache) for the models and seeds of params.yaml's `seed_study` and writes, for git:
  metrics/seeds.json   per model, each seed's headline metrics and, per metric, mean, sd, min, max and n, and the
                       machines its replicas were made on. `make check` and `make report` take their noise bands
                       from it.
  seeds/records.json   every replica's record as it wrote it (metrics, 10,000 predictions, machine), per model
                       in seed order: what a paired comparison of two revisions' replicas needs, without DVC.
Trains nothing.
"""
import json

from fmnist import machine, params
from fmnist.errors import UserError
from fmnist.files import write_json
from fmnist.review import stats, study
from fmnist.review.reproducibility import HEADLINE_METRICS  # the metrics make check compares
from fmnist.stage import run_stage

# What a replica's seed draws (fmnist/review/replica.py): every random source of the pipeline at once.
SEED_DRAWS = ["train/validation split", "initial weights", "batch order", "dropout"]


def summarize_runs(runs_by_model: dict) -> dict:
    """metrics/seeds.json from {model: [{"seed": s, <metric>: value, ...}, ...]}: pure, no training."""
    models = {}
    for name, runs in runs_by_model.items():
        missing = [(run.get("seed"), m) for run in runs for m in ("seed", *HEADLINE_METRICS) if m not in run]
        if missing:
            raise ValueError(f"{name}: runs lack {missing}")
        seeds = [run["seed"] for run in runs]
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"{name}: a seed appears twice in {seeds}")
        models[name] = {"seeds": seeds, "runs": runs,
                        **{metric: stats.summarize([run[metric] for run in runs]) for metric in HEADLINE_METRICS}}
    all_seeds = sorted({seed for model in models.values() for seed in model["seeds"]})
    return {"seeds": all_seeds, "seed_draws": SEED_DRAWS, "models": models}


def machines(records: list[dict]) -> list[dict]:
    """The kinds of machine the records were made on (fmnist.machine.identity), each with its seeds, in the
    order they first appear."""
    kinds = []
    for record in records:
        same = [k for k in kinds if machine.identity(k["fingerprint"]) == machine.identity(record["machine"])]
        if same:
            same[0]["seeds"].append(record["seed"])
        else:
            kinds.append({"fingerprint": record["machine"], "seeds": [record["seed"]]})
    return kinds


def read_record(model: str, seed: int) -> dict:
    path = study.replica_file(model, seed)
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path}: not found; run the replicas first (dvc repro seeds/dvc.yaml)") from None
    if (record.get("model"), record.get("seed")) != (model, seed):
        raise UserError(f"{path}: holds model {record.get('model')!r}, seed {record.get('seed')!r}")
    return record


def main():
    p = params.load("seed_study")
    records = {name: [read_record(name, seed) for seed in p.seeds] for name in p.models}
    summary = summarize_runs({name: [{"seed": r["seed"], **{m: r[m] for m in HEADLINE_METRICS}} for r in model_records]
                              for name, model_records in records.items()})
    for name, model_records in records.items():
        kinds = machines(model_records)
        # `machine`: where every replica of the model was made, or None when they come from several kinds of
        # machine (DVC's run cache restores a replica whatever CPU made it): `machines` says which made which.
        summary["models"][name]["machine"] = kinds[0]["fingerprint"] if len(kinds) == 1 else None
        summary["models"][name]["machines"] = kinds
    write_json(study.OUT, summary)
    write_json(study.RECORDS, records)
    print(f"wrote {study.OUT}: {len(p.models)} models x {len(p.seeds)} seeds")


if __name__ == "__main__":
    run_stage(main)
