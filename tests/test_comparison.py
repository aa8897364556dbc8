"""The decisions of `make report` on two sides' files (fmnist/review/comparison.py), without git or training."""
import json

import pytest
import yaml

from fmnist.review import comparison, stats

N_IMAGES = 200


def confusion(correct: list[bool]) -> str:
    """A confusion.csv whose first len(correct) images are right or wrong as given."""
    rows = [("Bag", "Bag" if right else "Coat") for right in correct]
    return "actual,predicted\n" + "".join(f"{a},{p}\n" for a, p in rows)


def lock(train_params: dict, code_md5: str = "a" * 32, seeds=()) -> str:
    stages = {"train@mlp": {"cmd": "python -m stages.train mlp",
                            "deps": [{"path": "fmnist/training.py", "md5": code_md5}],
                            "params": {"params.yaml": {"seed": 0, "train_mlp": train_params}}}}
    stages.update({f"replica@mlp-{s}": {"cmd": f"python -m fmnist.review.replica mlp {s}",
                                        "deps": [{"path": "fmnist/training.py", "md5": code_md5}],
                                        "params": {"params.yaml": {"train_mlp": train_params}}} for s in seeds})
    return yaml.safe_dump({"schema": "2.0", "stages": stages})


def side(accuracy: float, replica_accuracies: dict[int, float], params: dict, cpu="CPU A") -> dict[str, str]:
    n_right = round(accuracy * N_IMAGES)
    files = {
        "metrics/mlp/test.json": json.dumps({"accuracy": n_right / N_IMAGES, "loss": 0.3}),
        "metrics/mlp/train.json": json.dumps({"val_accuracy": 0.9}),
        "plots/mlp/history.csv": "epoch,val_accuracy\n0,0.9\n",
        "plots/mlp/confusion.csv": confusion([i < n_right for i in range(N_IMAGES)]),
        "dvc.lock": lock(params, seeds=replica_accuracies),
    }
    files["seeds/records.json"] = json.dumps({"mlp": [
        {"seed": seed, "test_accuracy": acc, "machine": {"cpu": cpu}} for seed, acc in replica_accuracies.items()]})
    return files


FRESH = {f"replica@mlp-{s}" for s in range(8)}
BASE_REPLICAS = {s: 0.890 + 0.001 * (s % 3) for s in range(8)}


def compare(base, head, fresh=(FRESH, FRESH)):
    return comparison.compare(base, head, fresh, models=("mlp",))[0]


def test_the_same_bytes_are_unchanged_and_say_the_inputs_are_identical():
    files = side(0.89, BASE_REPLICAS, {"epochs": 20})
    row = compare(files, dict(files))
    assert (row.verdict, row.why) == ("unchanged", "inputs identical")


def test_a_refactor_that_moved_no_number_is_unchanged_and_says_so():
    base = side(0.89, BASE_REPLICAS, {"epochs": 20})
    head = {**base, "dvc.lock": lock({"epochs": 20}, code_md5="b" * 32, seeds=BASE_REPLICAS)}
    row = compare(base, head)
    assert (row.verdict, row.why) == ("unchanged", "a change that moved no number (code: fmnist/training.py)")


def test_replicas_made_on_another_cpu_with_the_same_numbers_are_unchanged():
    row = compare(side(0.89, BASE_REPLICAS, {"epochs": 20}), side(0.89, BASE_REPLICAS, {"epochs": 20}, cpu="B"))
    assert row.verdict == "unchanged"


def test_a_clear_drop_over_fresh_replicas_is_worse_with_its_interval():
    head_replicas = {s: a - 0.02 + 0.0005 * (s % 2) for s, a in BASE_REPLICAS.items()}
    row = compare(side(0.89, BASE_REPLICAS, {"epochs": 20}), side(0.87, head_replicas, {"epochs": 2}))
    assert row.verdict == "worse" and row.seeds == list(range(8))
    assert row.why == "params: train_mlp.epochs 20 → 2"
    expected = stats.paired_difference(list(BASE_REPLICAS.values()), list(head_replicas.values()), 0.05)
    assert row.paired.difference.mean_difference == pytest.approx(expected.mean_difference)
    assert row.paired.difference.high < 0


def test_a_tiny_shift_well_inside_the_margin_is_equivalent():
    head_replicas = {s: a + 0.0002 * ((s % 2) * 2 - 1) for s, a in BASE_REPLICAS.items()}
    row = compare(side(0.89, BASE_REPLICAS, {"epochs": 20}), side(0.89, head_replicas, {"learning_rate": 2}))
    assert row.verdict == "equivalent"


def test_stale_replicas_at_one_side_leave_a_single_run():
    head_replicas = {s: a - 0.02 for s, a in BASE_REPLICAS.items()}
    row = compare(side(0.89, BASE_REPLICAS, {"epochs": 20}), side(0.70, head_replicas, {"epochs": 2}),
                  fresh=(FRESH, set()))
    assert row.verdict == "single run" and row.paired is None and row.single["word"] == "within noise"


def test_replicas_made_on_different_cpus_are_flagged():
    head_replicas = {s: a - 0.02 for s, a in BASE_REPLICAS.items()}
    row = compare(side(0.89, BASE_REPLICAS, {"epochs": 20}), side(0.87, head_replicas, {"epochs": 2}, cpu="B"))
    assert row.machines_differ is True


def test_no_results_at_the_base_is_a_new_model():
    head = side(0.89, BASE_REPLICAS, {"epochs": 20})
    assert compare({"dvc.lock": head["dvc.lock"]}, head).verdict == "new model"


def test_a_stage_is_stale_when_its_params_or_code_moved_and_so_is_what_needs_it():
    stages = {
        "prepare": {"deps": [{"path": "prep.py", "md5": "1"}], "outs": [{"path": "data/x"}],
                    "params": {"params.yaml": {"prep": {"scale": 1e-06}}}},
        "train": {"deps": [{"path": "data/x", "md5": "9"}, {"path": "train.py", "md5": "2"}],
                  "params": {"params.yaml": {"train": {"epochs": 3}}}},
    }
    md5 = {"prep.py": "1", "train.py": "2"}.get
    # dvc.lock writes 1e-06, which YAML 1.1 reads back as a string: still the same value
    fresh = yaml.safe_load(yaml.safe_dump(stages).replace("1.0e-06", "1e-06"))
    assert comparison.stale_stages(fresh, {"prep": {"scale": 1.0e-6}, "train": {"epochs": 3}}, md5) == {}
    assert comparison.stale_stages(stages, {"prep": {"scale": 1e-6}, "train": {"epochs": 4}}, md5) == {
        "train": "params: train.epochs is 4, the lock has 3"}
    assert comparison.stale_stages(stages, {"prep": {"scale": 1e-6}, "train": {"epochs": 3}},
                                   {"prep.py": "X", "train.py": "2"}.get) == {
        "prepare": "code: prep.py changed since it ran", "train": "needs prepare, which is stale"}
