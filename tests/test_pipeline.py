"""End to end: the real `dvc repro` on a tiny dataset in a copy of the repository with its own git."""
import csv
import json
import os
import re
import subprocess
import sys

import pytest

from browser import probe_page, screenshot
from helpers import dvc, edit_params, env_for, run

STAGES = {"download", "preprocess", "backprop_check", "train@mlp", "train@lenet", "train@dropout", "train@bn",
          "evaluate"}


def ran(output: str) -> set:
    return set(re.findall(r"Running stage '([\w@]+)'", output))


@pytest.fixture(scope="module")
def repo(repo_run):
    repo, first_run = repo_run
    assert ran(first_run.stdout) == STAGES
    return repo


def test_full_repro_writes_every_output(repo):
    assert (repo / "dvc.lock").exists()
    for model in ("mlp", "lenet", "dropout", "bn"):
        assert (repo / "models" / f"{model}.keras").stat().st_size > 1000
        for name in ("train.json", "test.json", "timing.json", "layers.md", "first_sample.json"):
            assert (repo / "metrics" / model / name).exists()
        for name in ("history.csv", "confusion.csv", "confusion.png", "predictions.png", "loss.png", "accuracy.png"):
            assert (repo / "plots" / model / name).exists()
    for name in ("test_accuracy.csv", "test_accuracy.png", "val_loss.png", "val_accuracy.png"):
        assert (repo / "plots" / "comparison" / name).exists()
    assert (repo / "metrics" / "backprop_check.json").exists() and (repo / "metrics" / "comparison.json").exists()
    assert not list(repo.rglob(".tmp-*"))


def test_a_second_repro_does_nothing(repo, data):
    result = dvc("repro", cwd=repo, data_dir=data)
    assert ran(result.stdout) == set()
    assert "Data and pipelines are up to date." in result.stdout


def commit(repo, message):
    run(["git", "add", "-A"], cwd=repo)
    run(["git", "commit", "-qm", message, "--allow-empty"], cwd=repo)


def test_one_mlp_param_reruns_only_its_train_stage_and_evaluate(repo, data):
    commit(repo, "tiny results")
    edit_params(repo, train_mlp={"learning_rate": 0.01})
    result = dvc("repro", cwd=repo, data_dir=data)
    assert ran(result.stdout) == {"train@mlp", "evaluate"}


def test_metrics_diff_shows_the_mlp_change(repo):
    out = dvc("metrics", "diff", "--md", cwd=repo).stdout
    changed = {line.split("|")[1].strip() for line in out.splitlines() if line.startswith("| metrics/")}
    assert "metrics/mlp/train.json" in changed
    assert not any(path.startswith(("metrics/lenet/train", "metrics/bn/train", "metrics/dropout/train"))
                   for path in changed)


def test_params_diff_shows_the_learning_rate(repo):
    out = dvc("params", "diff", cwd=repo).stdout
    assert "train_mlp.learning_rate" in out and "0.01" in out


IMAGES = {"plots/samples/development.png", "plots/samples/test.png",
          *(f"plots/{m}/{name}.png" for m in ("mlp", "lenet", "dropout", "bn")
            for name in ("confusion", "predictions", "loss", "accuracy")),
          *(f"plots/comparison/{name}.png" for name in ("test_accuracy", "val_loss", "val_accuracy"))}
VEGA_PLOTS = {*(f"{m}_{kind}" for m in ("mlp", "lenet", "dropout", "bn") for kind in ("loss", "accuracy", "confusion")),
              "val_loss_by_model", "val_accuracy_by_model", "test_accuracy_by_model"}


def plots_json(repo, *args) -> dict:
    return json.loads(dvc("plots", *args, "--json", cwd=repo).stdout)


def test_plots_show_loads_every_plot_and_image(repo):
    shown = plots_json(repo, "show")
    assert shown.get("errors", []) == []
    kinds = {name: {entry["type"] for entry in entries} for name, entries in shown["data"].items()}
    assert {name for name, types in kinds.items() if types == {"vega"}} == VEGA_PLOTS
    assert {name for name, types in kinds.items() if types == {"image"}} == IMAGES
    by_model = shown["data"]["val_loss_by_model"][0]["content"]["data"]["values"]
    assert {row["filename"] for row in by_model} == {f"{m}/history.csv" for m in ("mlp", "lenet", "dropout", "bn")}


def test_plots_diff_shows_the_images_of_both_revisions(repo):
    diff = plots_json(repo, "diff", "HEAD")
    assert diff.get("errors", []) == []
    for image in IMAGES:
        assert {rev for entry in diff["data"][image] for rev in entry["revisions"]} == {"HEAD", "workspace"}, image
    dvc("plots", "diff", "HEAD", "-o", "plots-diff", cwd=repo)
    page = (repo / "plots-diff" / "index.html").read_text()
    for image in IMAGES:  # DVC copies each revision's image beside the page and links it
        for rev in ("HEAD", "workspace"):
            copy = f"static/{rev}_{image.replace('/', '_')}"
            assert f'src="{copy}"' in page and (repo / "plots-diff" / copy).is_file()


def test_the_plots_page_draws_everything_offline(repo, tmp_path):
    """The page of `dvc plots show`, opened in Chromium with the network blocked: every Vega plot is drawn and
    every image shown, as many as `dvc plots show --json` lists, and no script fails."""
    shown = plots_json(repo, "show")
    vega = sum(entry["type"] == "vega" for entries in shown["data"].values() for entry in entries)
    images = sum(entry["type"] == "image" for entries in shown["data"].values() for entry in entries)
    dvc("plots", "show", "-o", str(tmp_path / "page"), cwd=repo)
    page = tmp_path / "page" / "index.html"
    assert "cdn.jsdelivr.net" not in page.read_text()
    drawn = probe_page(page)
    assert drawn == {"embeds": vega, "views_drawn": vega, "images": images, "images_loaded": images, "errors": []}
    assert (vega, images) == (len(VEGA_PLOTS), len(IMAGES))
    if os.environ.get("PLOTS_SCREENSHOT"):  # to look at the page: PLOTS_SCREENSHOT=page.png pytest -k offline
        screenshot(page, os.path.abspath(os.environ["PLOTS_SCREENSHOT"]))


def test_the_probe_sees_a_page_that_cannot_draw(repo, tmp_path):
    """The same page with DVC's default template, which loads Vega from a CDN: offline it draws nothing, and the
    probe says so (the test above can fail)."""
    default = tmp_path / "cdn.html"
    default.write_text("<html><head>{scripts}</head><body>{plot_divs}</body></html>")
    dvc("plots", "show", "--html-template", str(default), "-o", str(tmp_path / "page"), cwd=repo)
    drawn = probe_page(tmp_path / "page" / "index.html")
    assert drawn["views_drawn"] == 0 and drawn["errors"]


# Runs in a fresh interpreter, outside the repository, with nothing of the project importable: what anyone
# who gets a model file (dvc get, dvc artifacts get) can do with Keras alone.
PLAIN_KERAS = """
import json, sys
import keras, numpy as np
x = np.load(sys.argv[1])
predicted = {path: keras.saving.load_model(path, safe_mode=True).predict(x, batch_size=2000, verbose=0)
             .argmax(axis=1).tolist() for path in sys.argv[2:]}
assert not [m for m in sys.modules if m.split(".")[0] in ("fmnist", "stages")]
print(json.dumps(predicted))
"""


@pytest.fixture(scope="module")
def plain_keras_predictions(repo, tmp_path_factory) -> dict:
    """{model: its predicted class for each test image}, from the four model files loaded by plain Keras."""
    env = env_for()
    env.pop("PYTHONPATH", None)
    files = {model: str(repo / "models" / f"{model}.keras") for model in ("mlp", "lenet", "dropout", "bn")}
    result = subprocess.run(
        [sys.executable, "-c", PLAIN_KERAS, str(repo / "data" / "processed" / "test_x.npy"), *files.values()],
        cwd=tmp_path_factory.mktemp("outside"), env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    predicted = json.loads(result.stdout)
    return {model: predicted[path] for model, path in files.items()}


@pytest.mark.parametrize("model", ["mlp", "lenet", "dropout", "bn"])
def test_model_files_load_and_predict_in_plain_keras(repo, model, plain_keras_predictions):
    from fmnist.paths import CLASS_NAMES
    with open(repo / "plots" / model / "confusion.csv", newline="") as file:
        evaluated = [row["predicted"] for row in csv.DictReader(file)]
    assert [CLASS_NAMES[i] for i in plain_keras_predictions[model]] == evaluated


def test_artifacts_get_fetches_a_registered_model(repo, tmp_path):
    """dvc.yaml's artifacts are what `dvc artifacts get` finds, once a version is registered (a GTO tag)."""
    out = tmp_path / "bn.keras"
    assert dvc("artifacts", "get", str(repo), "bn", "-o", str(out), cwd=tmp_path, check=False).returncode != 0
    run(["git", "tag", "-a", "bn@v1.0.0", "-m", "Register bn v1.0.0"], cwd=repo)  # what `gto register bn` does
    dvc("artifacts", "get", str(repo), "bn", "-o", str(out), cwd=tmp_path)
    assert out.read_bytes() == (repo / "models" / "bn.keras").read_bytes()


def test_report_answers_from_the_metrics(repo):
    run(["python", "-m", "fmnist.review.report", "--base", "HEAD", "--worktree"], cwd=repo)  # uncommitted work
    report = (repo / "report.md").read_text()
    for heading in ("## Verdicts", "## Models", "## Per-class F1", "<code>dvc metrics diff</code>",
                    "<code>dvc params diff</code>", "**3.1.4", "**3.2.3", "**3.2.4", "**3.2.5", "**4.2.3", "**4.3.1",
                    "**4.3.2", "## Figures"):
        assert heading in report
    assert "| train_mlp.learning_rate" in report  # the params diff against HEAD
    assert "The MLP has 109,386 trainable parameters. Yes" in report
