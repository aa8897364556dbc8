"""`make report`: report.md, a results page for a pull request, generated from the pipeline's metrics.

    python -m fmnist.report [--base REV] [--out report.md]
    python -m fmnist.report --readme      # refresh the results table in README.md

Every number and every answer to the assignment's questions is computed from the files the pipeline wrote,
so the text stays true when the results change.
"""
import argparse
import re
import subprocess
from pathlib import Path

from fmnist import paths, stats
from fmnist.errors import run_stage
from fmnist.files import write_text
from fmnist.params import read_file
from fmnist.results import read_history, read_json

TITLES = paths.MODEL_TITLES
README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"
SEEDS_FILE = paths.METRICS_DIR / "seeds.json"


def load_results() -> dict:
    results = {}
    for model in paths.MODEL_NAMES:
        folder = paths.model_metrics_dir(model)
        results[model] = {
            "train": read_json(folder / "train.json"),
            "test": read_json(folder / "test.json"),
            "first_sample": read_json(folder / "first_sample.json"),
            "history": read_history(paths.model_plots_dir(model) / "history.csv"),
        }
    return results


def pct(value: float) -> str:
    return f"{100 * value:.2f} %"


def results_table(results: dict) -> str:
    """This run's headline numbers, and beside them the seed study's mean ± sd where there is one."""
    study = load_seed_study()
    lines = ["| model | parameters | epochs | train acc | val acc | test acc | test acc, seed study | train loss "
             "| val loss | test loss | train − val gap |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for model, r in results.items():
        t, s = r["train"], r["test"]
        lines.append(f"| {TITLES[model]} | {t['params']:,} | {t['epochs']} | {pct(t['train_accuracy'])} "
                     f"| {pct(t['val_accuracy'])} | {pct(s['accuracy'])} | {spread(study, model, 'test_accuracy')} "
                     f"| {t['train_loss']:.4f} | {t['val_loss']:.4f} "
                     f"| {s['loss']:.4f} | {100 * (t['train_accuracy'] - t['val_accuracy']):+.2f} pt |")
    if study:
        lines += ["", noise_table(study)]
    return "\n".join(lines)


def load_seed_study() -> dict | None:
    return read_json(SEEDS_FILE) if SEEDS_FILE.exists() else None


def spread(study: dict | None, model: str, metric: str) -> str:
    """mean ± sd of one metric over the seed study's runs: in points for accuracies."""
    if not study or model not in study["models"]:
        return "—"
    s = study["models"][model][metric]
    return (f"{100 * s['mean']:.2f} ± {100 * s['sd']:.2f} %" if "accuracy" in metric
            else f"{s['mean']:.4f} ± {s['sd']:.4f}")


def noise_table(study: dict) -> str:
    """How far each model's results move with the training seed, and the band `make check` allows."""
    lines = [f"Seed study (`make seeds`, metrics/seeds.json): every model retrained with seeds "
             f"{', '.join(map(str, study['seeds']))} on the same split; mean ± sd (min–max). `make check` lets a "
             f"run on another machine differ from the committed one by up to ± the band (the "
             f"{100 * stats.BAND_CONFIDENCE:.0f} % prediction interval of the difference of two runs).", "",
             "| model | runs | val acc | test acc | test acc range | test loss | check band, test acc "
             "| check band, test loss |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for model in paths.MODEL_NAMES:
        if model not in study["models"]:
            continue
        m = study["models"][model]
        acc, loss = m["test_accuracy"], m["test_loss"]
        lines.append(f"| {TITLES[model]} | {acc['n']} | {spread(study, model, 'val_accuracy')} "
                     f"| {spread(study, model, 'test_accuracy')} | {100 * acc['min']:.2f}–{100 * acc['max']:.2f} % "
                     f"| {spread(study, model, 'test_loss')} | ± {100 * stats.difference_band(acc['sd'], acc['n']):.2f} pt "
                     f"| ± {stats.difference_band(loss['sd'], loss['n']):.4f} |")
    return "\n".join(lines)


def f1_table(results: dict) -> str:
    lines = ["| class | " + " | ".join(TITLES[m] for m in results) + " |", "|---|" + "---:|" * len(results)]
    for name in paths.CLASS_NAMES:
        lines.append(f"| {name} | " + " | ".join(f"{r['test']['per_class'][name]['f1-score']:.3f}"
                                                  for r in results.values()) + " |")
    return "\n".join(lines)


def figures(results: dict) -> str:
    lines = ["![development samples](plots/samples/development.png) ![test samples](plots/samples/test.png)", ""]
    for model in results:
        folder = paths.model_plots_dir(model)
        lines.append(f"**{TITLES[model]}**  ")
        lines.append(" ".join(f"![{model} {name}]({folder}/{name}.png)"
                              for name in ("loss", "accuracy", "confusion", "predictions")))
        lines.append("")
    return "\n".join(lines)


def overfitting(r: dict) -> dict:
    """The signs of overfitting in one model's curves: the gap at the end, and how far validation loss rose
    above its best epoch while training loss kept falling."""
    val_loss, train_loss = r["history"]["val_loss"], r["history"]["loss"]
    best = min(range(len(val_loss)), key=val_loss.__getitem__)
    return {
        "gap": r["train"]["train_accuracy"] - r["train"]["val_accuracy"],
        "best_epoch": best + 1, "epochs": len(val_loss),
        "val_loss_rise": val_loss[-1] - val_loss[best],
        "train_loss_drop": train_loss[best] - train_loss[-1],
    }


def describe_overfitting(name: str, o: dict) -> str:
    text = f"{name}: train accuracy exceeds validation accuracy by {100 * o['gap']:.2f} points at the end"
    if o["best_epoch"] < o["epochs"] and o["val_loss_rise"] > 0:
        text += (f"; validation loss was lowest at epoch {o['best_epoch']} of {o['epochs']} and then rose by "
                 f"{o['val_loss_rise']:.4f} while training loss fell by a further {o['train_loss_drop']:.4f}")
    else:
        text += "; validation loss was still at its lowest in the last epoch"
    return text


def answers(results: dict, params: dict) -> str:
    r = results
    losses = {m: params[f"train_{m}"]["loss"] for m in r}
    encoding = {"sparse_categorical_crossentropy": "integer class ids (0–9), with sparse categorical cross-entropy",
                "categorical_crossentropy": "one-hot vectors of length 10, with categorical cross-entropy"}
    mlp_params = r["mlp"]["train"]["params"]
    first_layer = 784 * 128 + 128
    at_32 = mlp_params - first_layer + 32 * 32 * 128 + 128
    first = r["mlp"]["first_sample"]
    o = {m: overfitting(r[m]) for m in r}
    lenet, drop, bn = (r[m]["test"]["accuracy"] for m in ("lenet", "dropout", "bn"))
    least_gap = min(("lenet", "dropout", "bn"), key=lambda m: o[m]["gap"])
    best_test = max(("lenet", "dropout", "bn"), key=lambda m: r[m]["test"]["accuracy"])
    lines = [
        "**3.1.4 Encoding the target.** A softmax output is a probability for each of the 10 classes, so the "
        "loss compares it with the true class. Categorical cross-entropy needs the target one-hot encoded; "
        "sparse categorical cross-entropy takes the integer class id and computes the same value without "
        "building the one-hot matrix. This run encodes the targets as "
        + "; ".join(f"{TITLES[m]}: {encoding[losses[m]]}" for m in r) + ".",
        "",
        f"**3.2.3 Parameters.** The MLP has {mlp_params:,} trainable parameters. Yes, the count depends on image "
        f"height and width: the first dense layer has one weight per pixel and unit ({first_layer:,} of them "
        f"for 28 × 28); with 32 × 32 images the MLP would have {at_32:,}.",
        "",
        f"**3.2.4 Softmax output on the first training sample** (a {first['class']}): the untrained MLP gives "
        + ", ".join(f"{v:.3f}" for v in first["untrained"]["softmax"].values())
        + f", summing to {first['untrained']['sum']:.2f}; after training it gives "
        + ", ".join(f"{v:.3f}" for v in first["trained"]["softmax"].values())
        + f", summing to {first['trained']['sum']:.2f}. "
        + ("Yes, it sums to 1 to two decimals." if first["trained"]["sum_is_1_to_2_decimals"]
           and first["untrained"]["sum_is_1_to_2_decimals"] else "It does NOT sum to 1 to two decimals."),
        "",
        "**3.2.5 Loss and metric.** Cross-entropy, because with a softmax output it is the negative "
        "log-likelihood of the true class: it rewards confident correct answers and punishes confident wrong ones, "
        "and its gradient does not vanish when the softmax saturates (unlike squared error). Accuracy as the "
        "metric, because the classes are balanced ("
        + balance_text() + "), so accuracy is not dominated by a majority class.",
        "",
        "**4.2.3 Signs of overfitting in LeNet-5.** " + describe_overfitting("LeNet-5", o["lenet"]) + ". "
        + ("That is overfitting: the model fits the training set better than unseen data. "
           if o["lenet"]["gap"] > 0.01 else "The gap is small, so overfitting is mild. ")
        + "Remedies: dropout, batch normalization, weight decay (L2), data augmentation, early stopping on the "
        "validation loss, or a smaller model.",
        "",
        "**4.3.1 Dropout.** " + describe_overfitting("With dropout", o["dropout"])
        + f" (LeNet-5 without: {100 * o['lenet']['gap']:.2f}). Test accuracy {pct(drop)} against {pct(lenet)}. "
        + ("Dropout narrowed the train − validation gap. " if o["dropout"]["gap"] < o["lenet"]["gap"]
           else "Dropout did not narrow the train − validation gap. ")
        + dropout_curves(r["dropout"]["history"]),
        "",
        "**4.3.2 Batch normalization.** " + describe_overfitting("With batch norm", o["bn"])
        + f". Test accuracy {pct(bn)} (plain {pct(lenet)}, dropout {pct(drop)}). The smallest train − validation "
        f"gap, i.e. the most help against overfitting, comes from {TITLES[least_gap]}; the best test accuracy "
        f"from {TITLES[best_test]}.",
    ]
    return "\n".join(lines)


def dropout_curves(history: dict) -> str:
    """Whether the per-epoch train accuracy, measured with dropout active, sat below validation accuracy."""
    below = sum(t < v for t, v in zip(history["accuracy"], history["val_accuracy"]))
    if not below:
        return "Train accuracy stayed above validation accuracy in every epoch."
    return (f"In {below} of {len(history['accuracy'])} epochs the train accuracy logged during the epoch was below "
            "validation accuracy: dropout is active while training and off while validating.")


def balance_text() -> str:
    counts = read_json(paths.METRICS_DIR / "preprocess.json")["class_counts"]["train"].values()
    return f"{min(counts):,} to {max(counts):,} training images per class"


def dvc_diff(kind: str, base: str) -> str:
    result = subprocess.run(["dvc", kind, "diff", base, "--md"], capture_output=True, text=True)
    if result.returncode != 0:
        return f"(`dvc {kind} diff {base}` failed: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ''})"
    return result.stdout.strip() or f"No {kind} changed since {base}."


def report(base: str) -> str:
    results = load_results()
    params = read_file()
    return "\n".join([
        "# Fashion-MNIST results", "",
        "## Models", "", results_table(results), "",
        "## Per-class F1 on the test set", "", f1_table(results), "",
        f"## Changes against `{base}`", "", "### Metrics", "", dvc_diff("metrics", base), "",
        "### Params", "", dvc_diff("params", base), "",
        "## The assignment's questions, answered from this run", "", answers(results, params), "",
        "## Figures", "", figures(results), "",
    ])


def replace_readme_block(start: str, end: str, body: str, readme=Path("README.md")) -> None:
    """Put `body` between the marker lines `start` and `end` of the README (generated, never typed)."""
    block = f"{start}\n{body}\n{end}"
    pattern = re.escape(start) + ".*?" + re.escape(end)
    readme.write_text(re.sub(pattern, lambda _: block, readme.read_text(), flags=re.S))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD~1", help="git revision to diff metrics and params against")
    parser.add_argument("--out", default="report.md", type=Path)
    parser.add_argument("--readme", action="store_true", help="only refresh the results table in README.md")
    args = parser.parse_args()
    if args.readme:
        replace_readme_block(README_START, README_END, results_table(load_results()))
        return
    write_text(args.out, report(args.base))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    run_stage(main)
