"""`make report`: report.md, a results page for a pull request, generated from the pipeline's metrics.

    python -m fmnist.review.report [--base REV] [--worktree] [--out report.md] [--figures-url URL]
    python -m fmnist.review.report --readme      # refresh the results table in README.md

Committed against committed: the head's results as committed at HEAD (--worktree: as in the working tree, for
uncommitted work; the report then says so) against those committed at `git merge-base BASE HEAD`, the commit
the head was built on. Nothing a rerun wrote enters the verdicts, so a model no change touched is `unchanged`
on any machine. A rerun serves `make check` (did the head's committed results reproduce here?), whose outcome,
when check.json is there, opens the report in one line. Then one verdict per model (fmnist/review/comparison.py
decides them). Every number and every answer to the assignment's questions is computed from the files, so the
text stays true when the results change. Also writes report.json: {head, base, verdicts}, for `make gate`.
"""
import argparse
import json
import subprocess
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import yaml
from matplotlib.ticker import MaxNLocator

from fmnist import machine, paths
from fmnist.errors import UserError
from fmnist.review import comparison, revisions, stats
from fmnist.review.reproducibility import HEADLINE_METRICS
from fmnist.review.revisions import Snapshot
from fmnist.stage import run_stage
from fmnist.files import replace_marked_block, write_json, write_text
from fmnist.results import parse_history

matplotlib.use("Agg")  # files only, no screen (importing pyplot chooses no backend yet)

TITLES = paths.MODEL_TITLES
README = Path("README.md")
README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"
SEEDS_FILE = paths.METRICS_DIR / "seeds.json"  # the seed study: each model's spread over training seeds
FIGURES_DIR = Path("report")  # figures drawn at report time (git-ignored), beside report.md
CHECK_FILE = Path("check.json")  # make check's outcome on this machine, when it ran
TEXT_FOLDERS = ("metrics", "plots", "seeds")  # where the results' text files are
MOVED_CLASSES_SHOWN = 5


def side_files(side: Snapshot) -> dict[str, str]:
    """{path: text} of every result file on one side (JSON, CSV and the lock files; not the PNGs)."""
    files = {name: text for folder in TEXT_FOLDERS for name, text in side.files(folder).items()
             if name.endswith((".json", ".csv"))}
    for name in (*comparison.LOCK_FILES, "params.yaml"):
        text = side.read(name)
        if text is not None:
            files[name] = text
    return files


def missing(path: str) -> UserError:
    return UserError(f"{path}: not found; run the pipeline first (dvc repro)")


def load_results(files: dict[str, str]) -> dict:
    """Each model's train, test and first-sample metrics and its per-epoch history, from one side's files."""
    def text(path):
        if path not in files:
            raise missing(path)
        return files[path]

    results = {}
    for model in paths.MODEL_NAMES:
        folder = paths.model_metrics_dir(model).as_posix()
        results[model] = {
            "train": json.loads(text(f"{folder}/train.json")),
            "test": json.loads(text(f"{folder}/test.json")),
            "first_sample": json.loads(text(f"{folder}/first_sample.json")),
            "history": parse_history(text(f"{paths.model_plots_dir(model).as_posix()}/history.csv")),
        }
    return results


def pct(value: float) -> str:
    return f"{100 * value:.2f} %"


def results_table(results: dict, study: dict | None) -> str:
    """This run's headline numbers, and beside them the seed study's mean ± sd where there is one."""
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
    """The README's results block, from the working tree: the table, and the machine the numbers come from."""
    files = side_files(Snapshot(None))
    made_on = files.get(machine.fingerprint_file("evaluate").as_posix())
    made_on = json.loads(made_on) if made_on else None
    where = (f"Made on {made_on['cpu']} ({made_on['vector_isa']}), TensorFlow {made_on['tensorflow']}, with each "
             f"model's kernels and threads from params.yaml: `metrics/machine/`." if made_on
             else "Made on an unrecorded machine.")
    return results_table(load_results(files), seed_study(files)) + "\n\n" + where


def seed_study(files: dict[str, str]) -> dict | None:
    text = files.get(SEEDS_FILE.as_posix())
    return json.loads(text) if text else None


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
             f"run on another machine differ from the committed one by up to ± the band: a prediction interval of the "
             f"difference of two runs, each metric's share of a {100 * stats.CHECK_FAMILY_ALPHA:.0f} % chance that "
             "one check of a correct commit fails.", "",
             "| model | runs | val acc | test acc | test acc range | test loss | check band, test acc "
             "| check band, test loss |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    alphas = stats.check_alphas(HEADLINE_METRICS, n_models=len(paths.MODEL_NAMES))
    for model in paths.MODEL_NAMES:
        if model not in study["models"]:
            continue
        m = study["models"][model]
        acc, loss = m["test_accuracy"], m["test_loss"]
        lines.append(f"| {TITLES[model]} | {acc['n']} | {spread(study, model, 'val_accuracy')} "
                     f"| {spread(study, model, 'test_accuracy')} | {100 * acc['min']:.2f}–{100 * acc['max']:.2f} % "
                     f"| {spread(study, model, 'test_loss')} "
                     f"| ± {100 * stats.check_band(acc['sd'], acc['n'], alphas['test_accuracy']):.2f} pt "
                     f"| ± {stats.check_band(loss['sd'], loss['n'], alphas['test_loss']):.4f} |")
    mixed = [model for model in paths.MODEL_NAMES if len(study["models"].get(model, {}).get("machines", [])) > 1]
    if mixed:  # replicas restored from DVC's run cache can come from other machines, which it does not record
        lines += ["", "Made on more than one kind of machine (CPU, vector ISA, threads or library versions: a "
                  "machine's kind moves results as a seed does): " + "; ".join(
                      f"{TITLES[model]}: " + ", ".join(f"seeds {', '.join(map(str, kind['seeds']))} on "
                                                       f"{kind['fingerprint']['cpu']} "
                                                     f"({kind['fingerprint']['vector_isa']})"
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


def answers(results: dict, params: dict, files: dict[str, str]) -> str:
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
        + balance_text(files) + "), so accuracy is not dominated by a majority class.",
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


def balance_text(files: dict[str, str]) -> str:
    counts = json.loads(files["metrics/preprocess.json"])["class_counts"]["train"].values()
    return f"{min(counts):,} to {max(counts):,} training images per class"


def dvc_diff(kind: str, base: str, head: str | None) -> str:
    """`dvc metrics diff` or `dvc params diff` from the base commit to the head commit (or the working tree)."""
    command = ["dvc", kind, "diff", base, *([head] if head else []), "--md"]
    result = subprocess.run(command, capture_output=True, text=True)
    shown = " ".join(command[:4 + bool(head)])
    if result.returncode != 0:
        return f"(`{shown}` failed: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ''})"
    return result.stdout.strip() or f"No {kind} changed."


def folded(summary: str, body: str) -> str:
    """A block a reviewer opens on demand (the blank lines let GitHub render the Markdown inside)."""
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


# ---- The two sides ----

def commit_of(rev: str, what: str) -> str:
    commit = revisions.commit_of(rev)
    if commit is None:
        raise UserError(f"{what} {rev!r} does not exist in this repository (a typo, or not fetched?)")
    return commit


def stale_at(files: dict[str, str], side: Snapshot, lock_file: str) -> tuple[dict, dict[str, str]]:
    """(the stages of `lock_file`, {stage: why} for those whose entry does not match this side's params and code).
    Each code file is read once."""
    stages = comparison.lock_stages(files.get(lock_file))
    params = yaml.safe_load(files.get("params.yaml") or "{}") or {}
    md5s: dict[str, str | None] = {}

    def file_md5(path: str) -> str | None:
        if path not in md5s:
            md5s[path] = comparison.md5_of_text(side.read(path)) if path.endswith(".py") else None
        return md5s[path]

    return stages, comparison.stale_stages(stages, params, file_md5)


def fresh_replicas(files: dict[str, str], side: Snapshot) -> set[str]:
    """The replica stages whose seeds/dvc.lock entries match this side's params and code."""
    stages, stale = stale_at(files, side, "seeds/dvc.lock")
    return {name for name in stages if name.startswith("replica@") and name not in stale}


def stale_pipeline(files: dict[str, str], side: Snapshot) -> dict[str, str]:
    """{stage: why} for the pipeline's stages (dvc.lock) whose committed results do not match this side."""
    return stale_at(files, side, "dvc.lock")[1]


# ---- Verdicts ----

def points(fraction: float, sign: bool = False) -> str:
    return f"{100 * fraction:{'+' if sign else ''}.2f}"


def p_text(p_value: float) -> str:
    return f"{p_value:.3g}"


def mean_sd(mean: float, sd: float) -> str:
    return f"{points(mean)} ± {points(sd)} %"


def verdict_row(row: comparison.ModelComparison) -> str:
    title = TITLES[row.model]
    if row.paired is not None:
        d = row.paired.difference
        note = f" ({row.paired.verdict.note})" if row.paired.verdict.note else ""
        return (f"| {title} | {mean_sd(d.base_mean, d.base_sd)} | {mean_sd(d.head_mean, d.head_sd)} "
                f"| {points(d.mean_difference, True)} [{points(d.low, True)}, {points(d.high, True)}] "
                f"| {p_text(row.paired.p_adjusted)} | {d.n} | {points(row.paired.detectable)} "
                f"| **{row.verdict}**{note} | {row.why} |")
    base = f"{points(row.base_accuracy)} %" if row.base_accuracy is not None else "—"
    head = f"{points(row.head_accuracy)} %" if row.head_accuracy is not None else "—"
    change = ("—" if None in (row.base_accuracy, row.head_accuracy)
              else points(row.head_accuracy - row.base_accuracy, True))
    verdict = f"**{row.verdict}**"
    if row.single is not None:
        verdict += f": {row.single.get('word', row.single.get('note', ''))}; `{comparison.PAIRED_COMMAND}` at both "
        verdict += "revisions gives the paired verdict"
    return f"| {title} | {base} | {head} | {change} | — | 1 | — | {verdict} | {row.why} |"


def verdict_table(rows: list[comparison.ModelComparison]) -> str:
    lines = ["| model | base test acc | head test acc | difference (pt) [CI] | adjusted p | seeds "
             "| detectable (pt) | verdict | what changed |", "|---|---:|---:|---|---:|---:|---:|---|---|"]
    return "\n".join(lines + [verdict_row(r) for r in rows])


def verdict_rule(margin: float, k: int) -> str:
    family = (f"a paired t interval, Bonferroni-wide over the {k} model(s) so compared (each at "
              f"{100 * (1 - stats.adjusted_alpha(stats.FAMILY_ALPHA, k)):.2f} %, "
              f"{100 * (1 - stats.FAMILY_ALPHA):.0f} % for the family)" if k else "a paired t interval")
    return (
        f"Seed replicas (`make seeds`) at both sides give the mean difference of test accuracy over the same seeds, "
        f"with {family}. **better** / **worse**: the interval excludes 0 and is not inside "
        f"±{points(margin)} pt (the base's `review.margin`). **equivalent**: the whole interval lies inside the "
        "margin. **inconclusive**: neither. **unchanged**: the same result bytes at both sides. *detectable*: the "
        "smallest true difference these seeds find 80 % of the time. **single run**: no fresh replicas at both "
        "sides; the one run at each side is judged by the seed-noise band and McNemar's test on the test images "
        "(docs/review.md).")


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


def what_moved(row: comparison.ModelComparison, base: dict, head: dict, link, base_link) -> str:
    """The single run's detail for a model whose results changed: the classes that moved, the curves."""
    detail = comparison.single_run(row.model, base, head, seed_study(head))
    if "p" not in detail:
        return ""
    lines = [f"### {TITLES[row.model]}: {detail['fixed']} test images fixed, {detail['broken']} broken "
             f"(single run, McNemar p = {p_text(detail['p'])})", "", moved_classes(detail["per_class"]), ""]
    history = f"{paths.model_plots_dir(row.model).as_posix()}/history.csv"
    if history not in base:
        return "\n".join(lines + ["(no training history at the base)", ""])
    figure = FIGURES_DIR / f"{row.model}-validation.png"
    validation_figure(row.model, parse_history(base[history]), parse_history(head[history]), figure)
    if base_link is None:  # read locally: the figure beside report.md
        lines.append(f"![{row.model} validation curves, base against head]({figure.as_posix()})")
    else:  # a pull-request comment shows only committed files: each revision's curves, side by side
        folder = paths.model_plots_dir(row.model).as_posix()
        lines.append("base: " + " ".join(f"![{row.model} {name} at base]({base_link(f'{folder}/{name}.png')})"
                                         for name in ("accuracy", "loss")) + "  ")
        lines.append("head: " + " ".join(f"![{row.model} {name} at head]({link(f'{folder}/{name}.png')})"
                                         for name in ("accuracy", "loss")) + "  ")
        lines.append(f"(both on one figure: `{figure.as_posix()}` in the workflow run's artifact)")
    return "\n".join(lines + [""])


def url_linker(figures_url: str | None, commit: str):
    """How report.md names a committed file: a relative path, or a URL at `commit` under `figures_url`
    (e.g. https://github.com/OWNER/REPO/raw, so that a pull-request comment shows the images)."""
    if figures_url is None:
        return lambda path: path
    return lambda path: f"{figures_url.rstrip('/')}/{commit}/{path}"


def check_line(check_file: Path = CHECK_FILE) -> str | None:
    """make check's one-line outcome on this machine, when it ran."""
    if not check_file.exists():
        return None
    return json.loads(check_file.read_text()).get("line")


def opening_lines(head: Snapshot, stale: dict[str, str], check: str | None) -> list[str]:
    lines = []
    if stale:
        lines.append(f"**The head's committed results are stale for {len(stale)} stage(s)**: "
                     + "; ".join(f"`{name}` ({why})" for name, why in sorted(stale.items()))
                     + ". Its rows below show the results committed before that change: run `make repro` and commit.")
    if head.commit is None:
        lines.append("**The head is the working tree** (uncommitted results), not a commit.")
    if check:
        lines.append(f"Reproduced here? {check}")
    return lines + [""] if lines else []


def report(base: str, figures_url: str | None = None, worktree: bool = False) -> tuple[str, dict]:
    """report.md's text, and report.json's content."""
    head_commit = commit_of("HEAD", "the head")
    commit_of(base, "base revision")
    base_commit = revisions.merge_base(base, head_commit)
    if base_commit is None:
        raise UserError(f"base revision {base!r} shares no history with HEAD: no merge base to compare with")
    head_side, base_side = Snapshot(None if worktree else head_commit), Snapshot(base_commit)
    head, base_files = side_files(head_side), side_files(base_side)
    results, params = load_results(head), yaml.safe_load(head.get("params.yaml") or "{}") or {}
    base_policy = (yaml.safe_load(base_files.get("params.yaml") or "{}") or {}).get("review") or {}
    margin = base_policy.get("margin", stats.MARGIN)  # the base's policy: a pull request cannot move its own gate
    rows = comparison.compare(base_files, head, (fresh_replicas(base_files, base_side),
                                                 fresh_replicas(head, head_side)), margin=margin)
    for stale in FIGURES_DIR.glob("*-validation.png"):
        stale.unlink()
    link = url_linker(figures_url, head_commit) if figures_url else url_linker(None, "")
    base_link = url_linker(figures_url, base_commit) if figures_url else None
    moved = [what_moved(r, base_files, head, link, base_link) for r in rows
             if r.verdict not in ("unchanged", "new model", "not comparable")]
    moved = [m for m in moved if m]
    k = sum(r.paired is not None for r in rows)
    against = f"`{base}` (merge base {base_commit[:7]})"
    text = "\n".join([
        "# Fashion-MNIST results", "",
        *opening_lines(head_side, stale_pipeline(head, head_side), check_line()),
        f"## Verdicts: {head_side.label} against {against}", "",
        verdict_table(rows), "", verdict_rule(margin, k), "",
        *(["Different CPU kinds made the two sides' replicas of: " + ", ".join(
            TITLES[r.model] for r in rows if r.machines_differ) + " (a CPU change acts as another seed draw).", ""]
          if any(r.machines_differ for r in rows) else []),
        *(["## What moved", "", *moved] if moved else []),
        "## Models", "", results_table(results, seed_study(head)), "",
        "## Per-class F1 on the test set", "", f1_table(results), "",
        f"## Raw changes against {against}", "",
        folded("<code>dvc metrics diff</code>", dvc_diff("metrics", base_commit, head_side.commit)), "",
        folded("<code>dvc params diff</code>", dvc_diff("params", base_commit, head_side.commit)), "",
        "## The assignment's questions, answered from this run", "", answers(results, params, head), "",
        "## Figures", "", figures(results, link), "",
    ])
    summary = {"head": head_side.commit or "worktree", "base": base_commit,
               "verdicts": {r.model: r.verdict for r in rows}}
    return text, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD~1", help="the git revision the head is compared with (its merge "
                                                         "base with HEAD)")
    parser.add_argument("--worktree", action="store_true", help="the working tree stands for the head (uncommitted "
                                                                "work), not the commit HEAD")
    parser.add_argument("--out", default="report.md", type=Path)
    parser.add_argument("--figures-url", help="link committed figures as URL/<commit>/<path>, e.g. "
                                              "https://github.com/OWNER/REPO/raw (for a pull-request comment)")
    parser.add_argument("--readme", action="store_true", help="only refresh the results table in README.md")
    args = parser.parse_args()
    if args.readme:
        replace_marked_block(README, README_START, README_END, readme_results())
        return
    text, summary = report(args.base, args.figures_url, args.worktree)
    write_text(args.out, text)
    write_json(args.out.with_suffix(".json"), summary)
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}")


if __name__ == "__main__":
    run_stage(main)
