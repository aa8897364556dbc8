"""Pull-request review end to end on tiny data: `make report BASE=...` in a repository copy with its own git
compares the head's committed results with the merge base's and gives each model a verdict."""
import json
import re
import shutil

import pytest

from fmnist import paths
from fmnist.review import stats
from fmnist.results import parse_predictions
from fmnist.review.reproducibility import HEADLINE_METRICS
from helpers import dvc, edit_params, run

TITLE_TO_MODEL = {title: model for model, title in paths.MODEL_TITLES.items()}
SEED_SD = 0.002  # a small spread, as a seed study might find: a band of ±1.30 pt


def fake_seed_study(models=paths.MODEL_NAMES) -> dict:
    """A metrics/seeds.json with the seed study's schema; only the test-accuracy spread matters here."""
    spread = {"mean": 0.5, "sd": SEED_SD, "min": 0.497, "max": 0.503, "n": 5}
    return {"split_seed": 0, "seeds": [0, 1, 2, 3, 4],
            "models": {m: {metric: spread for metric in HEADLINE_METRICS} for m in models}}


def make(repo, *args, check=True):
    # -o: the copy uses the test run's own environment, so `make` must not try to set up .venv
    return run(["make", "-s", "-o", ".venv/.installed", *args], cwd=repo, check=check)


def verdict_rows(report: str) -> dict:
    """{model: {column: cell}} from the report's first table."""
    table = report.split("## Verdicts")[1].split("\n\n")[1].splitlines()
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    rows = {}
    for line in table[2:]:
        cells = dict(zip(header, (cell.strip() for cell in line.strip("|").split("|"))))
        rows[TITLE_TO_MODEL[cells["model"]]] = cells
    return rows


def folded(report: str, command: str) -> str:
    """The body of the report's folded block for `command`."""
    return report.split(f"<details><summary><code>{command}</code></summary>")[1].split("</details>")[0]


def mcnemar_between(repo, model: str, base: str, head: str) -> float:
    """McNemar's p computed here, from the two commits' confusion.csv."""
    path = f"plots/{model}/confusion.csv"
    actual, before = parse_predictions(run(["git", "show", f"{base}:{path}"], cwd=repo).stdout)
    _, after = parse_predictions(run(["git", "show", f"{head}:{path}"], cwd=repo).stdout)
    counts = stats.fixed_and_broken(actual, before, after).values()
    return stats.mcnemar_exact(sum(c["fixed"] for c in counts), sum(c["broken"] for c in counts))


def commit(repo, message: str) -> None:
    run(["git", "add", "-A"], cwd=repo)
    run(["git", "commit", "-qm", message], cwd=repo)


@pytest.fixture(scope="module")
def repo(repo_run):
    repo, _ = repo_run
    # no replicas (seeds/dvc.lock, seeds/records.json): a seed study's summary only, faked
    shutil.rmtree(repo / "seeds" / "replicas")
    for name in ("dvc.lock", "records.json"):
        (repo / "seeds" / name).unlink()
    (repo / "metrics" / "seeds.json").write_text(json.dumps(fake_seed_study()))
    commit(repo, "tiny results and a seed study")
    return repo


@pytest.fixture(scope="module")
def ruined_mlp(repo, data):
    """Head: the MLP trained for one epoch at a learning rate that barely moves its weights."""
    edit_params(repo, train_mlp={"epochs": 1, "learning_rate": 1e-7})
    dvc("repro", cwd=repo, data_dir=data)
    commit(repo, "ruin the MLP")
    make(repo, "report", "BASE=HEAD~1")
    return (repo / "report.md").read_text()


def single_run_detail(report: str, model_title: str) -> tuple[int, int, float]:
    """(fixed, broken, McNemar p) from the heading of a model's "What moved" section."""
    match = re.search(rf"### {re.escape(model_title)}: (\d+) test images fixed, (\d+) broken \(single run, "
                      r"McNemar p = ([\d.e-]+)\)", report)
    return int(match[1]), int(match[2]), float(match[3])


def test_a_ruined_model_without_replicas_is_a_worse_single_run(repo, ruined_mlp):
    mlp = verdict_rows(ruined_mlp)["mlp"]
    assert mlp["verdict"] == "**single run**: worse; `make seeds` at both revisions gives the paired verdict"
    assert mlp["what changed"] == "params: train_mlp.epochs 2 → 1; params: train_mlp.learning_rate 0.003 → 1e-07"
    fixed, broken, p_value = single_run_detail(ruined_mlp, "MLP")
    assert p_value == pytest.approx(mcnemar_between(repo, "mlp", "HEAD~1", "HEAD"), rel=5e-3)
    assert p_value < 0.05 and broken > fixed
    assert float(mlp["difference (pt) [CI]"]) < -100 * stats.difference_band(SEED_SD, 5)
    assert json.loads((repo / "report.json").read_text())["verdicts"]["mlp"] == "single run"


def test_the_models_the_change_did_not_touch_are_unchanged(ruined_mlp):
    rows = verdict_rows(ruined_mlp)
    untouched = ("lenet", "dropout", "bn")
    assert {m: rows[m]["verdict"] for m in untouched} == dict.fromkeys(untouched, "**unchanged**")
    assert {m: rows[m]["what changed"] for m in untouched} == dict.fromkeys(untouched, "inputs identical")


def test_verdicts_come_first_and_the_raw_diffs_are_folded(repo, ruined_mlp):
    assert ruined_mlp.index("## Verdicts") < ruined_mlp.index("## What moved") < ruined_mlp.index("## Models")
    what_moved = ruined_mlp.split("## What moved")[1].split("## Models")[0]
    assert "### MLP:" in what_moved and "### LeNet-5" not in what_moved  # only the model that changed
    assert "| true class | fixed | broken | net |" in what_moved
    assert (repo / "report" / "mlp-validation.png").read_bytes()[:4] == b"\x89PNG"
    assert "](report/mlp-validation.png)" in what_moved
    assert "metrics/mlp/test.json" in folded(ruined_mlp, "dvc metrics diff")
    assert "train_mlp.learning_rate" in folded(ruined_mlp, "dvc params diff")


def test_without_a_seed_study_nothing_is_called_worse(repo, ruined_mlp):
    seeds = repo / "metrics" / "seeds.json"
    saved = seeds.read_text()
    seeds.unlink()
    try:
        make(repo, "report", "BASE=HEAD~1", "WORKTREE=1")  # the working tree, without the study, is the head
    finally:
        seeds.write_text(saved)
    report = (repo / "report.md").read_text()
    assert "**The head is the working tree** (uncommitted results), not a commit." in report
    assert verdict_rows(report)["mlp"]["verdict"].startswith("**single run**: within noise;")


def test_a_pull_request_comment_links_committed_figures_at_each_commit(repo, ruined_mlp):
    head, base = (run(["git", "rev-parse", rev], cwd=repo).stdout.strip() for rev in ("HEAD", "HEAD~1"))
    make(repo, "report", "BASE=HEAD~1", "FIGURES_URL=https://github.com/owner/repo/raw")
    report = (repo / "report.md").read_text()
    assert f"](https://github.com/owner/repo/raw/{base}/plots/mlp/accuracy.png)" in report
    assert f"](https://github.com/owner/repo/raw/{head}/plots/mlp/accuracy.png)" in report
    assert f"](https://github.com/owner/repo/raw/{head}/plots/samples/test.png)" in report
    assert "](plots/" not in report and "](report/" not in report  # nothing the comment could not show


def test_models_missing_at_the_base_are_new(repo, ruined_mlp):
    root = run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=repo).stdout.strip()
    make(repo, "report", f"BASE={root}")  # the copy's first commit: no results yet
    rows = verdict_rows((repo / "report.md").read_text())
    assert {m: rows[m]["verdict"] for m in rows} == dict.fromkeys(paths.MODEL_NAMES, "**new model**")
    assert rows["mlp"]["base test acc"] == "—"


def test_a_base_that_does_not_exist_is_one_clear_line(repo):
    result = make(repo, "report", "BASE=no-such-branch", check=False)
    assert result.returncode != 0
    assert "error: base revision 'no-such-branch' does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_change_to_no_model_leaves_all_four_unchanged(repo, data, ruined_mlp):
    edit_params(repo, evaluate={"batch_size": 7})
    dvc("repro", cwd=repo, data_dir=data)
    commit(repo, "another inference batch size")
    make(repo, "report", "BASE=HEAD~1")
    report = (repo / "report.md").read_text()
    rows = verdict_rows(report)
    assert {m: rows[m]["verdict"] for m in rows} == dict.fromkeys(paths.MODEL_NAMES, "**unchanged**")
    # the test losses' last digits moved with the inference batch; no prediction did
    assert {m: rows[m]["what changed"] for m in rows} == dict.fromkeys(
        paths.MODEL_NAMES, "the same prediction for every test image (params: evaluate.batch_size 2000 → 7)")
    assert "## What moved" not in report
    assert not list((repo / "report").glob("*.png"))  # no figure left from an earlier report


def test_make_results_without_a_remote_runs_the_pipeline(repo):
    assert "Data and pipelines are up to date." in make(repo, "results").stdout


def test_make_pull_then_results_gets_a_remotes_results_without_retraining(repo, tmp_path):
    dvc("remote", "add", "-d", "shared", str(tmp_path / "remote"), cwd=repo)
    commit(repo, "shared remote")
    dvc("push", "--run-cache", cwd=repo)
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(repo), str(clone)], cwd=tmp_path)
    make(clone, "pull")
    out = make(clone, "results").stdout  # no FASHION_MNIST_DIR: nothing could be downloaded or trained
    assert "Running stage" not in out and "Data and pipelines are up to date." in out
    assert (clone / "models" / "mlp.keras").read_bytes() == (repo / "models" / "mlp.keras").read_bytes()
