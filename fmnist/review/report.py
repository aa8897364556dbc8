"""`make report`: report.md, a results page for a pull request, generated from the pipeline's metrics.

    python -m fmnist.review.report [--base REV] [--out report.md] [--figures-url URL]
    python -m fmnist.review.report --readme      # refresh the results table in README.md

It opens with one verdict per model: the working tree's results (the head) against those committed at the
base revision, judged on the paired per-image predictions and the seed study's noise band (fmnist.review.stats).
Every number and every answer to the assignment's questions is computed from the files the pipeline wrote,
so the text stays true when the results change.
"""
import argparse
import json
import re
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no screen
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from fmnist import machine, paths  # noqa: E402
from fmnist.review import revisions, stats  # noqa: E402
from fmnist.errors import UserError  # noqa: E402
from fmnist.stage import run_stage  # noqa: E402
from fmnist.files import replace_marked_block, write_text  # noqa: E402
from fmnist.params import read_file  # noqa: E402
from fmnist.results import parse_history, parse_predictions, read_history, read_json  # noqa: E402

TITLES = paths.MODEL_TITLES
README = Path("README.md")
README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"
SEEDS_FILE = paths.METRICS_DIR / "seeds.json"  # the seed study: each model's spread over training seeds
FIGURES_DIR = Path("report")  # figures drawn at report time (git-ignored), beside report.md
MOVED_CLASSES_SHOWN = 5


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


def readme_results() -> str:
    """The README's results block: the table, and the machine the numbers come from."""
    made_on = read_json(machine.fingerprint_file("evaluate")) if machine.fingerprint_file("evaluate").exists() else None
    where = (f"Made on {made_on['cpu']} ({made_on['vector_isa']}), TensorFlow {made_on['tensorflow']}, with each "
             f"model's kernels and threads from params.yaml: `metrics/machine/`." if made_on
             else "Made on an unrecorded machine.")
    return results_table(load_results()) + "\n\n" + where


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
    # A study made before the replicas (with a split_seed) retrained on one split; a replica's seed draws its split too.
    varies = (" on the same split" if "split_seed" in study
              else ", each drawing its own train/validation split, initial weights, batch order and dropout")
    lines = [f"Seed study (`make seeds`, metrics/seeds.json): every model retrained with seeds "
             f"{', '.join(map(str, study['seeds']))}{varies}: mean ± sd, and the range. `make check` lets a "
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
    mixed = [model for model in paths.MODEL_NAMES if len(study["models"].get(model, {}).get("machines", [])) > 1]
    if mixed:  # replicas restored from DVC's run cache can come from other machines, which it does not record
        lines += ["", "Made on more than one kind of machine (CPU, vector ISA, threads or library versions: a "
                  "machine's kind moves results as a seed does): " + "; ".join(
                      f"{TITLES[model]}: " + ", ".join(f"seeds {', '.join(map(str, kind['seeds']))} on "
                                                       f"{kind['fingerprint']['cpu']} ({kind['fingerprint']['vector_isa']})"
                                                       for kind in study["models"][model]["machines"])
                      for model in mixed) + "."]
    return "\n".join(lines)


def f1_table(results: dict) -> str:
    lines = ["| class | " + " | ".join(TITLES[m] for m in results) + " |", "|---|" + "---:|" * len(results)]
    for name in paths.CLASS_NAMES:
        lines.append(f"| {name} | " + " | ".join(f"{r['test']['per_class'][name]['f1-score']:.3f}"
                                                  for r in results.values()) + " |")
    return "\n".join(lines)


def figures(results: dict, link) -> str:
    lines = [f"![development samples]({link('plots/samples/development.png')}) "
             f"![test samples]({link('plots/samples/test.png')})", ""]
    for model in results:
        folder = paths.model_plots_dir(model).as_posix()
        lines.append(f"**{TITLES[model]}**  ")
        lines.append(" ".join(f"![{model} {name}]({link(f'{folder}/{name}.png')})"
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


def folded(summary: str, body: str) -> str:
    """A block a reviewer opens on demand (the blank lines let GitHub render the Markdown inside)."""
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


# ---- The base revision: files as committed there ----

def commit_of(rev: str) -> str:
    commit = revisions.commit_of(rev)
    if commit is None:
        raise UserError(f"base revision {rev!r} does not exist in this repository (a typo, or not fetched?)")
    return commit


def text_at(commit: str, path) -> str | None:
    content = revisions.file_at(commit, path)
    return None if content is None else content.decode()


# ---- Verdicts: each model at the base against the head (the working tree) ----

def noise_band(seeds: dict | None, model: str) -> tuple[float | None, float | None]:
    """(sd of the test accuracy over training seeds, the 99 % band for two runs' difference) from the seed
    study, or (None, None) when it has no such model."""
    try:
        spread = seeds["models"][model]["test_accuracy"]
        return spread["sd"], stats.difference_band(spread["sd"], spread["n"])
    except (KeyError, TypeError, ValueError):
        return None, None


def compare_model(model: str, base_commit: str, seeds: dict | None) -> dict:
    """Everything the verdict row and the "what moved" section need for one model."""
    folder = paths.model_plots_dir(model)
    if not (folder / "confusion.csv").exists():
        raise UserError(f"{folder / 'confusion.csv'}: not found; run the pipeline first (dvc repro)")
    head_actual, head_predicted = parse_predictions((folder / "confusion.csv").read_text())
    sd, band = noise_band(seeds, model)
    row = {"model": model, "sd": sd, "band": band, "head_accuracy": read_json(
        paths.model_metrics_dir(model) / "test.json")["accuracy"]}
    base_test = text_at(base_commit, paths.model_metrics_dir(model) / "test.json")
    base_confusion = text_at(base_commit, folder / "confusion.csv")
    if base_test is None:
        return {**row, "verdict": "new model", "note": "no results at the base"}
    row["base_accuracy"] = json.loads(base_test)["accuracy"]
    row["change"] = row["head_accuracy"] - row["base_accuracy"]
    if base_confusion is None:
        return {**row, "verdict": "not comparable", "note": "no per-image predictions at the base"}
    base_actual, base_predicted = parse_predictions(base_confusion)
    if base_actual != head_actual:
        return {**row, "verdict": "not comparable", "note": "the test sets differ: no paired test"}
    per_class = stats.fixed_and_broken(head_actual, base_predicted, head_predicted)
    fixed = sum(c["fixed"] for c in per_class.values())
    broken = sum(c["broken"] for c in per_class.values())
    p_value = stats.mcnemar_exact(fixed, broken)
    identical = base_predicted == head_predicted
    history_text = text_at(base_commit, folder / "history.csv")
    return {**row, "fixed": fixed, "broken": broken, "p": p_value, "per_class": per_class,
            "identical": identical, "verdict": stats.verdict(identical, row["change"], band, p_value),
            "base_history": parse_history(history_text) if history_text else None,
            "head_history": read_history(folder / "history.csv")}


def points(fraction: float, sign: bool = False) -> str:
    return f"{100 * fraction:{'+' if sign else ''}.2f}"


def p_text(p_value: float) -> str:
    return f"{p_value:.3g}"


def verdict_table(rows: list) -> str:
    lines = ["| model | base test acc | head test acc | change (pt) | McNemar p | fixed / broken | seed noise (sd) "
             "| verdict |", "|---|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        base = f"{points(r['base_accuracy'])} %" if "base_accuracy" in r else "—"
        change = points(r["change"], sign=True) if "change" in r else "—"
        paired = (p_text(r["p"]), f"{r['fixed']} / {r['broken']}") if "p" in r else (r["note"], "—")
        noise = (f"{points(r['sd'])} pt (band ±{points(r['band'])})" if r["sd"] is not None
                 else "not measured: no seed study")
        lines.append(f"| {TITLES[r['model']]} | {base} | {points(r['head_accuracy'])} % | {change} | {paired[0]} "
                     f"| {paired[1]} | {noise} | **{r['verdict']}** |")
    return "\n".join(lines)


VERDICT_RULE = (
    "**better** / **worse**: the test accuracy moved by more than the seed-noise band (two runs with different "
    "training seeds differ by less than that 99 % of the time) *and* the exact McNemar test on the per-image predictions "
    f"gives p < {stats.VERDICT_ALPHA}. **within noise**: predictions changed, but not by both measures. "
    "**unchanged**: every test image got the same prediction. A model without a seed study "
    f"(`{SEEDS_FILE.as_posix()}`) has no band, so it is never called better or worse.")


def moved_classes(per_class: dict) -> str:
    moved = sorted((c for c in per_class.items() if c[1]["fixed"] or c[1]["broken"]),
                   key=lambda c: (-(c[1]["fixed"] + c[1]["broken"]), c[0]))[:MOVED_CLASSES_SHOWN]
    lines = ["| true class | fixed | broken | net |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {c['fixed']} | {c['broken']} | {c['fixed'] - c['broken']:+d} |" for name, c in moved]
    return "\n".join(lines)


def validation_figure(model: str, base_history: dict, head_history: dict, path: Path) -> None:
    """Validation accuracy and loss per epoch, base dashed and head solid, on shared axes."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, quantity in zip(axes, ("val_accuracy", "val_loss")):
        for label, history, style in (("base", base_history, "--"), ("head", head_history, "-")):
            ax.plot([int(e) + 1 for e in history["epoch"]], history[quantity], style, marker="o", label=label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(quantity.replace("_", " "))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"{TITLES[model]}: validation curves, base against head")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(fig)


def what_moved(row: dict, link, base_link) -> str:
    lines = [f"### {TITLES[row['model']]}: {row['fixed']} test images fixed, {row['broken']} broken", "",
             moved_classes(row["per_class"]), ""]
    if row["base_history"] is None:
        return "\n".join(lines + ["(no training history at the base)", ""])
    figure = FIGURES_DIR / f"{row['model']}-validation.png"
    validation_figure(row["model"], row["base_history"], row["head_history"], figure)
    if base_link is None:  # read locally: the figure beside report.md
        lines.append(f"![{row['model']} validation curves, base against head]({figure.as_posix()})")
    else:  # a pull-request comment shows only committed files: each revision's curves, side by side
        folder = paths.model_plots_dir(row["model"]).as_posix()
        lines.append("base: " + " ".join(f"![{row['model']} {name} at base]({base_link(f'{folder}/{name}.png')})"
                                         for name in ("accuracy", "loss")) + "  ")
        lines.append("head: " + " ".join(f"![{row['model']} {name} at head]({link(f'{folder}/{name}.png')})"
                                         for name in ("accuracy", "loss")) + "  ")
        lines.append(f"(both on one figure: `{figure.as_posix()}` in the workflow run's artifact)")
    return "\n".join(lines + [""])


def url_linker(figures_url: str | None, commit: str):
    """How report.md names a committed file: a relative path, or a URL at `commit` under `figures_url`
    (e.g. https://github.com/OWNER/REPO/raw, so that a pull-request comment shows the images)."""
    if figures_url is None:
        return lambda path: path
    return lambda path: f"{figures_url.rstrip('/')}/{commit}/{path}"


def report(base: str, figures_url: str | None = None) -> str:
    base_commit = commit_of(base)
    results = load_results()
    params = read_file()
    seeds = load_seed_study()
    rows = [compare_model(model, base_commit, seeds) for model in paths.MODEL_NAMES]
    for stale in FIGURES_DIR.glob("*-validation.png"):
        stale.unlink()
    link = url_linker(figures_url, commit_of("HEAD") if figures_url else "")
    base_link = url_linker(figures_url, base_commit) if figures_url else None
    moved = [what_moved(r, link, base_link) for r in rows if "p" in r and not r["identical"]]
    return "\n".join([
        "# Fashion-MNIST results", "",
        f"## Verdicts: this revision against `{base}` ({base_commit[:7]})", "",
        verdict_table(rows), "", VERDICT_RULE, "",
        *(["## What moved", "", *moved] if moved else []),
        "## Models", "", results_table(results), "",
        "## Per-class F1 on the test set", "", f1_table(results), "",
        f"## Raw changes against `{base}`", "",
        folded("<code>dvc metrics diff</code>", dvc_diff("metrics", base)), "",
        folded("<code>dvc params diff</code>", dvc_diff("params", base)), "",
        "## The assignment's questions, answered from this run", "", answers(results, params), "",
        "## Figures", "", figures(results, link), "",
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD~1", help="git revision to diff metrics and params against")
    parser.add_argument("--out", default="report.md", type=Path)
    parser.add_argument("--figures-url", help="link committed figures as URL/<commit>/<path>, e.g. "
                                              "https://github.com/OWNER/REPO/raw (for a pull-request comment)")
    parser.add_argument("--readme", action="store_true", help="only refresh the results table in README.md")
    args = parser.parse_args()
    if args.readme:
        replace_marked_block(README, README_START, README_END, readme_results())
        return
    write_text(args.out, report(args.base, args.figures_url))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    run_stage(main)
