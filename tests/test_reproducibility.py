"""make check's decisions, on hand-made file contents (no training)."""
import json

import pytest

from fmnist import machine
from fmnist.review import reproducibility as rep, stats
from fmnist.review.seeds import summarize_runs

HEADLINE = {"train_accuracy": 0.95, "train_loss": 0.15, "val_accuracy": 0.90, "val_loss": 0.30,
            "test_accuracy": 0.89, "test_loss": 0.33}


def noise(sd_accuracy=0.002, sd_loss=0.004, n=8):
    return {m: {"sd": sd_accuracy if "accuracy" in m else sd_loss, "n": n} for m in rep.HEADLINE_METRICS}


@pytest.mark.parametrize("path, part", [
    ("metrics/mlp/test.json", "mlp"), ("plots/bn/confusion.png", "bn"),
    ("metrics/backprop_check.json", "backprop_check"), ("metrics/preprocess.json", "preprocess"),
    ("plots/samples/test.png", "preprocess"), ("metrics/comparison.json", "all"),
])
def test_every_results_file_has_an_owner(path, part):
    assert rep.owner(path) == part


def test_timing_fingerprints_and_the_seed_study_are_not_results():
    for path in ("metrics/mlp/timing.json", "metrics/machine/evaluate.json", "metrics/seeds.json"):
        assert rep.NOT_RESULTS.match(path)
    assert not rep.NOT_RESULTS.match("metrics/mlp/test.json")


def test_a_shift_inside_the_band_passes_and_one_outside_fails():
    alphas = stats.check_alphas(rep.HEADLINE_METRICS, n_models=4)
    band = stats.check_band(0.002, 8, alphas["test_accuracy"])  # about 1.35 points of accuracy
    inside = dict(HEADLINE, test_accuracy=HEADLINE["test_accuracy"] + 0.9 * band)
    outside = dict(HEADLINE, test_accuracy=HEADLINE["test_accuracy"] - 1.1 * band)
    verdicts = {r["metric"]: r["verdict"] for r in rep.compare_headline("mlp", HEADLINE, inside, noise())}
    assert set(verdicts.values()) == {"within noise"}
    rows = rep.compare_headline("mlp", HEADLINE, outside, noise())
    assert [r["metric"] for r in rows if r["verdict"] == "OUTSIDE NOISE"] == ["test_accuracy"]
    assert rows[4]["allowed"] == pytest.approx(band) and rows[4]["difference"] == pytest.approx(-1.1 * band)


def test_without_a_seed_study_there_is_no_band():
    assert {r["verdict"] for r in rep.compare_headline("mlp", HEADLINE, HEADLINE, None)} == {"no seed study"}


def test_relative_differences_finds_the_numbers_that_moved():
    committed = {"L": 0.1332476, "gradients": {"dL_dW1": {"0_0": 0.00244595848494121, "0_1": 1.0}}}
    current = json.loads(json.dumps(committed))
    current["gradients"]["dL_dW1"]["0_0"] *= 1 + 1e-12  # a last-bits change: passes
    assert rep.relative_differences(committed, current, 1e-9) == []
    current["gradients"]["dL_dW1"]["0_1"] = 1 + 1e-8
    current["extra"] = 2.0
    problems = rep.relative_differences(committed, current, 1e-9)
    assert len(problems) == 2 and problems[0].startswith("extra: only in this run")
    assert problems[1].startswith("gradients.dL_dW1.0_1:")


def model_files(accuracy=0.75, val_accuracy=0.5):
    """A consistent set of one model's results: 3 of 4 test images right, 2 epochs."""
    train = {"train_loss": 0.2, "train_accuracy": 0.9, "val_loss": 0.4, "val_accuracy": val_accuracy, "params": 10,
             "epochs": 2}
    return {
        "metrics/mlp/train.json": json.dumps(train),
        "metrics/mlp/test.json": json.dumps({"loss": 0.5, "accuracy": accuracy}),
        "plots/mlp/history.csv": "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.8,0.3,0.4,0.6\n1,0.9,0.2,0.5,0.4\n",
        "plots/mlp/confusion.csv": "actual,predicted\nBag,Bag\nBag,Coat\nCoat,Coat\nShirt,Shirt\n",
        "metrics/comparison.json": json.dumps({"mlp": {"params": 10, "epochs": 2, "train_accuracy": 0.9,
                                                       "val_accuracy": 0.5, "test_accuracy": 0.75,
                                                       "train_val_gap": 0.9 - 0.5}}),
    }


def test_consistent_files_have_no_problems():
    assert rep.consistency_problems("mlp", model_files()) == []


def test_a_hand_edited_test_accuracy_contradicts_the_predictions():
    problems = rep.consistency_problems("mlp", model_files(accuracy=0.765))
    assert any("metrics/mlp/test.json" in p and "3 of 4" in p for p in problems)
    assert any("metrics/comparison.json" in p for p in problems)


def test_a_hand_edited_validation_accuracy_contradicts_the_history():
    problems = rep.consistency_problems("mlp", model_files(val_accuracy=0.515))
    assert any("metrics/mlp/train.json: val_accuracy" in p for p in problems)


def test_same_machine_compares_only_what_decides_the_bytes():
    fp = machine.fingerprint(threads=2)
    assert rep.same_machine(fp, dict(fp, kernel="another release", cpus_available=64))
    assert not rep.same_machine(fp, dict(fp, threads=1))
    other_isa = "AVX2" if fp["vector_isa"] != "AVX2" else "AVX-512"  # whichever this CPU is not
    assert not rep.same_machine(fp, dict(fp, vector_isa=other_isa))
    assert not rep.same_machine(fp, None)


def test_fingerprint_reads_the_cpu_from_cpuinfo():
    cpuinfo = ("processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n"
               "model name\t: Intel(R) Xeon(R) Platinum 8481C\nflags\t\t: fpu sse4_2 avx avx2 fma avx512f amx_tile\n\n"
               "processor\t: 1\nmodel name\t: ignored\n")
    fp = machine.fingerprint(threads=2, cpuinfo_text=cpuinfo)
    assert fp["cpu"] == "Intel(R) Xeon(R) Platinum 8481C (GenuineIntel family 6 model 143)"
    assert fp["vector_isa"] == "AVX-512" and fp["isa_extensions"] == ["amx_tile", "avx512f", "fma"]
    assert machine.vector_isa({"avx", "avx2", "fma"}) == "AVX2"
    assert fp["threads"] == 2 and fp["tensorflow"] and fp["numpy"]


def test_seed_study_summary_from_fake_runs():
    runs = {"mlp": [dict(HEADLINE, seed=s, test_accuracy=acc) for s, acc in ((0, 0.89), (1, 0.90), (2, 0.91))],
            "bn": [dict(HEADLINE, seed=s) for s in (0, 1)]}
    summary = summarize_runs(runs)
    assert summary["seeds"] == [0, 1, 2]
    mlp = summary["models"]["mlp"]
    assert mlp["seeds"] == [0, 1, 2] and mlp["runs"] == runs["mlp"]
    assert mlp["test_accuracy"]["mean"] == pytest.approx(0.90) and mlp["test_accuracy"]["sd"] == pytest.approx(0.01)
    assert (mlp["test_accuracy"]["min"], mlp["test_accuracy"]["max"], mlp["test_accuracy"]["n"]) == (0.89, 0.91, 3)
    assert summary["models"]["bn"]["val_loss"] == {"mean": 0.30, "sd": 0.0, "min": 0.30, "max": 0.30, "n": 2}


def test_seed_study_summary_refuses_duplicate_seeds_and_missing_metrics():
    with pytest.raises(ValueError, match="twice"):
        summarize_runs({"mlp": [dict(HEADLINE, seed=0), dict(HEADLINE, seed=0)]})
    with pytest.raises(ValueError, match="lack"):
        summarize_runs({"mlp": [dict(HEADLINE, seed=0), {"seed": 1}]})


def lock(model_md5="aaa", lr=0.003, data_md5="d1", weights_md5="w1"):
    """A dvc.lock, parsed: train@mlp reads a processed array and code, evaluate reads the model it wrote."""
    return {"schema": "2.0", "stages": {
        "preprocess": {"deps": [{"path": "data/raw", "md5": "r"}],
                       "outs": [{"path": "data/processed/train_x.npy", "md5": data_md5}]},
        "train@mlp": {"deps": [{"path": "data/processed/train_x.npy", "md5": data_md5},
                               {"path": "fmnist/models.py", "md5": model_md5}],
                      "params": {"params.yaml": {"seed": 0, "train_mlp": {"learning_rate": lr, "epochs": 20}}},
                      "outs": [{"path": "models/mlp.keras", "md5": weights_md5}]},
        "evaluate": {"deps": [{"path": "models/mlp.keras", "md5": weights_md5}], "outs": []},
    }}


def test_a_rerun_of_the_committed_code_and_params_matches_the_lock_whatever_the_machine():
    # other weights and data bytes (another CPU) are judged by their own stage's results, not here
    assert rep.lock_differences(lock(), lock(weights_md5="w2", data_md5="d2")) == []


def test_stale_code_or_other_params_are_named():
    problems = rep.lock_differences(lock(), lock(model_md5="bbb", lr=0.01))
    assert problems == ["dvc.lock: stage train@mlp ran with other code than committed: fmnist/models.py",
                        "dvc.lock: stage train@mlp ran with params.yaml.train_mlp.learning_rate = 0.01, "
                        "committed with 0.003"]
    current = lock()
    del current["stages"]["evaluate"]
    assert rep.lock_differences(lock(), current) == ["dvc.lock: stage evaluate is committed but did not run"]


# `dvc status --json` after train_mlp.epochs went from 20 to 21 and fmnist/models.py changed, with the data
# not there (a fresh clone) and a seed-study stage of another dvc.yaml
STATUS = {
    "train@mlp": [{"changed deps": {"data/processed/train_x.npy": "deleted", "fmnist/models.py": "modified",
                                    "params.yaml": {"train_mlp": "modified"}}},
                  {"changed outs": {"models/mlp.keras": "deleted"}}],
    "evaluate": [{"changed deps": {"models/mlp.keras": "deleted"}}, "always changed"],
    "seeds/dvc.yaml:seed_mlp": [{"changed deps": {"params.yaml": {"train_mlp": "modified"}}}],
}
PARAMS_NOW = {"params.yaml": {"seed": 0, "train_mlp": {"learning_rate": 0.003, "epochs": 21}}}


def test_a_lock_behind_its_params_or_code_names_the_stage_the_key_and_the_file():
    problems, notes = rep.stale_stages(STATUS, lock(), PARAMS_NOW, counted={"train@mlp", "evaluate"})
    assert problems == ["dvc.lock: stage train@mlp is out of date: fmnist/models.py modified since it ran",
                        "dvc.lock: stage train@mlp is out of date: params.yaml train_mlp.epochs is 21, "
                        "dvc.lock recorded 20"]
    # the seed study's stage is not one make repro runs: noted, not failed
    assert notes == ["dvc.lock: stage seeds/dvc.yaml:seed_mlp is out of date: "
                     "params.yaml train_mlp changed since it ran"]


def test_a_new_or_removed_param_key_is_named_as_absent():
    now = {"params.yaml": {"seed": 0, "train_mlp": {"learning_rate": 0.003, "momentum": 0.9}}}
    problems, _ = rep.stale_stages({"train@mlp": STATUS["train@mlp"][:1]}, lock(), now, counted={"train@mlp"})
    assert problems[1:] == [
        "dvc.lock: stage train@mlp is out of date: params.yaml train_mlp.epochs is absent, dvc.lock recorded 20",
        "dvc.lock: stage train@mlp is out of date: params.yaml train_mlp.momentum is 0.9, dvc.lock recorded absent"]


def test_outputs_and_produced_data_alone_are_not_out_of_date():
    status = {"train@mlp": [{"changed deps": {"data/processed/train_x.npy": "modified"}},
                            {"changed outs": {"models/mlp.keras": "modified"}}]}
    assert rep.stale_stages(status, lock(), PARAMS_NOW, counted={"train@mlp"}) == ([], [])
