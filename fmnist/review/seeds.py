"""`make seeds`: how far each model's results move by chance, measured by retraining with other seeds.

    python -m fmnist.review.seeds [--seeds 0 1 2 3 4 5 6 7] [--models mlp lenet dropout bn]

Every model is trained once per training seed on the pipeline's own split (data/processed, drawn with
params.yaml's `seed`), with params.yaml's settings and thread count, and scored as the pipeline scores it; the
run whose seed is params.yaml's reproduces the pipeline's own results. Each model trains in a process of its
own, with the kernels and threads its params choose, as its stage does. Writes metrics/seeds.json: per model,
each run's headline metrics and, per metric, mean, sd, min, max and n, and the machine's fingerprint. `make
check` and `make report` take their noise bands from it. Runs outside `dvc repro` (about 3 minutes per seed on
2 cores).
"""
import argparse


from fmnist import data, evaluation, machine, params, paths, use_onednn
from fmnist.review import stats
from fmnist.errors import UserError
from fmnist.stage import run_stage
from fmnist.processes import in_own_process
from fmnist.files import write_json
from fmnist.review.reproducibility import HEADLINE_METRICS  # (the metrics make check compares)

OUT = paths.METRICS_DIR / "seeds.json"


def summarize_runs(runs_by_model: dict, split_seed: int) -> dict:
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
    return {"split_seed": split_seed, "seeds": all_seeds, "models": models}


def train_with_seeds(name: str, seeds: list[int], inference_batch: int) -> dict:
    """Model `name` trained once per training seed, in this process, and scored as the train and evaluate
    stages score it; with the machine's fingerprint. Call it in a fresh process (it loads TensorFlow with the
    kernels the model's params choose)."""
    p = params.load(f"train_{name}")
    use_onednn(p.onednn)
    from fmnist import training
    from fmnist.predict import predict

    training.use_threads(p.threads)  # before TensorFlow's first op
    train, val = (training.as_tensors(data.load(split)) for split in ("train", "val"))
    test = data.load("test")
    runs = []
    for seed in seeds:
        result = training.train(name, p, seed, train, val)
        scores = evaluation.test_scores(predict(result.model, test[0], inference_batch), test[1])
        runs.append({"seed": seed, **result.final, "test_accuracy": scores["accuracy"], "test_loss": scores["loss"]})
        print(f"seed {seed} {name}: test accuracy {scores['accuracy']:.4f}, test loss {scores['loss']:.4f}",
              flush=True)
    return {"runs": runs, "machine": machine.fingerprint(p.threads)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(8)), help="training seeds (>= 2 of them)")
    parser.add_argument("--models", nargs="+", default=list(paths.MODEL_NAMES), choices=paths.MODEL_NAMES)
    args = parser.parse_args()
    if len(set(args.seeds)) < 2:
        raise UserError(f"--seeds: a spread needs at least 2 different seeds, got {args.seeds}")
    split_seed, inference_batch = params.load_seed(), params.load("evaluate").batch_size
    for name in args.models:  # every params error before the first model trains
        params.load(f"train_{name}")
    trained = {name: in_own_process(train_with_seeds, name, args.seeds, inference_batch) for name in args.models}
    summary = summarize_runs({name: result["runs"] for name, result in trained.items()}, split_seed)
    for name, result in trained.items():
        summary["models"][name]["machine"] = result["machine"]  # the kernels and threads it ran with
    write_json(OUT, summary)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    run_stage(main)
