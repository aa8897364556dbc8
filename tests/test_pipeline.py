"""End to end: the real `dvc repro` on a tiny dataset in a copy of the repository with its own git."""
import re

import pytest

from helpers import dvc, edit_params, run

STAGES = {"download", "preprocess", "backprop_check", "train_mlp", "train_lenet", "train_dropout", "train_bn", "evaluate"}
# Measurements of this machine's speed, not results: the only outputs allowed to differ between reruns.
MACHINE_DEPENDENT = re.compile(r"metrics/\w+/timing\.json$")


def ran(output: str) -> set:
    return set(re.findall(r"Running stage '(\w+)'", output))


def snapshot(repo):
    files = sorted(p for folder in ("metrics", "plots") for p in (repo / folder).rglob("*") if p.is_file())
    return {str(p.relative_to(repo)): p.read_bytes() for p in files if not MACHINE_DEPENDENT.search(str(p))}


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
    assert (repo / "metrics" / "backprop_check.json").exists() and (repo / "metrics" / "comparison.json").exists()
    assert not list(repo.rglob(".tmp-*"))


def test_a_second_repro_does_nothing(repo, data):
    result = dvc("repro", cwd=repo, data_dir=data)
    assert ran(result.stdout) == set()
    assert "Data and pipelines are up to date." in result.stdout


def test_forced_reruns_give_byte_identical_results(repo, data):
    before = snapshot(repo)
    dvc("repro", "-f", cwd=repo, data_dir=data)
    after = snapshot(repo)
    assert after.keys() == before.keys()
    assert [name for name in before if before[name] != after[name]] == []


def test_one_mlp_param_reruns_only_train_mlp_and_evaluate(repo, data):
    run(["git", "add", "-A"], cwd=repo)
    run(["git", "commit", "-qm", "tiny results"], cwd=repo)
    edit_params(repo, train_mlp={"learning_rate": 0.01})
    result = dvc("repro", cwd=repo, data_dir=data)
    assert ran(result.stdout) == {"train_mlp", "evaluate"}


def test_metrics_diff_shows_the_mlp_change(repo):
    out = dvc("metrics", "diff", "--md", cwd=repo).stdout
    changed = {line.split("|")[1].strip() for line in out.splitlines() if line.startswith("| metrics/")}
    assert "metrics/mlp/train.json" in changed
    assert not any(path.startswith(("metrics/lenet/train", "metrics/bn/train", "metrics/dropout/train")) for path in changed)


def test_params_diff_shows_the_learning_rate(repo):
    out = dvc("params", "diff", cwd=repo).stdout
    assert "train_mlp.learning_rate" in out and "0.01" in out


def test_plots_diff_writes_an_html_page(repo):
    dvc("plots", "diff", "HEAD", "-o", "plots-diff", cwd=repo)
    page = (repo / "plots-diff" / "index.html").read_text()
    assert "mlp_loss" in page or "history.csv" in page


def test_report_answers_from_the_metrics(repo):
    run(["python", "-m", "fmnist.report", "--base", "HEAD"], cwd=repo)
    report = (repo / "report.md").read_text()
    for heading in ("## Verdicts", "## Models", "## Per-class F1", "<code>dvc metrics diff</code>",
                    "<code>dvc params diff</code>", "**3.1.4", "**3.2.3", "**3.2.4", "**3.2.5", "**4.2.3", "**4.3.1",
                    "**4.3.2", "## Figures"):
        assert heading in report
    assert "| train_mlp.learning_rate" in report  # the params diff against HEAD
    assert "The MLP has 109,386 trainable parameters. Yes" in report
