"""`make seeds`: how far each model's results move by chance, measured by retraining with other seeds.

    python -m fmnist.seeds [--seeds 0 1 2 3 4 5 6 7] [--models mlp lenet dropout bn]

Every model is trained once per training seed on the pipeline's own split (data/processed, drawn with
params.yaml's `seed`), with params.yaml's settings and thread count, and scored as the pipeline scores it; the
run whose seed is params.yaml's reproduces the pipeline's own results. Writes metrics/seeds.json: per model,
each run's headline metrics and, per metric, mean, sd, min, max and n. `make check` and `make report` take
their noise bands from it. Runs outside `dvc repro` (about 3 minutes per seed on 2 cores).
"""
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fmnist import data, evaluation, machine, params, paths, stats  # noqa: E402
from fmnist.errors import UserError, run_stage  # noqa: E402
from fmnist.files import write_json  # noqa: E402
from fmnist.reproducibility import HEADLINE_METRICS  # noqa: E402  (the metrics make check compares)

OUT = paths.METRICS_DIR / "seeds.json"


def summarize_runs(runs_by_model: dict, split_seed: int, threads: int) -> dict:
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
    return {"split_seed": split_seed, "threads": threads, "seeds": all_seeds, "models": models}


def train_and_score(name: str, seed: int, threads: int, train, val, test, inference_batch: int) -> dict:
    """One model trained with one seed, scored as the train and evaluate stages score it."""
    from fmnist import models, training

    p = params.load(f"train_{name}")
    training.make_deterministic(seed, threads)
    model = models.build(name, p)
    training.compile_model(model, p, n_train=len(train[0]))
    history = training.fit(model, train, val, p, seed, verbose=0)
    final = training.final_metrics(model, history, train, p)
    scores = evaluation.test_scores(training.predict(model, test[0], inference_batch), test[1])
    return {"seed": seed, **final, "test_accuracy": scores["accuracy"], "test_loss": scores["loss"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(8)), help="training seeds (>= 2 of them)")
    parser.add_argument("--models", nargs="+", default=list(paths.MODEL_NAMES), choices=paths.MODEL_NAMES)
    args = parser.parse_args()
    if len(set(args.seeds)) < 2:
        raise UserError(f"--seeds: a spread needs at least 2 different seeds, got {args.seeds}")
    split_seed, threads = params.load_seed(), params.load_threads()
    inference_batch = params.load("evaluate").batch_size
    train, val, test = data.load("train"), data.load("val"), data.load("test")
    runs = {name: [] for name in args.models}
    for seed in args.seeds:
        for name in args.models:
            run = train_and_score(name, seed, threads, train, val, test, inference_batch)
            runs[name].append(run)
            print(f"seed {seed} {name}: test accuracy {run['test_accuracy']:.4f}, test loss {run['test_loss']:.4f}",
                  flush=True)
    summary = summarize_runs(runs, split_seed, threads)
    write_json(OUT, {**summary, "machine": machine.fingerprint(threads)})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    run_stage(main)
