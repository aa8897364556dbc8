"""make bench's peer comparison without PyTorch: the table's ratio columns from a fake result, the peer's
environment set-up, and the layer shapes the PyTorch peer is built from against the project's Keras models.
Keras loads when a test needs it (conftest's fixtures), not at collection."""
import subprocess
import sys

import pytest

from fmnist import params
from fmnist.speed import architecture, bench
from helpers import ROOT


def model_result(seconds, floor, peer_seconds=None, rounds=None):
    result = {"batch_size": 128, "onednn": False, "threads": 1,
              "seconds_per_epoch": seconds, "samples_per_second": 48_000 / seconds,
              "train_flops_per_sample": 655_104, "floor_seconds_per_epoch": floor, "ratio_to_floor": seconds / floor}
    if peer_seconds is not None:
        result["peer"] = {"seconds_per_epoch": peer_seconds, "threads": 2}
    if rounds:
        result["rounds"] = [{"ratio": r} for r in rounds]
    return result


def fake_result(**models_):
    return {"machine": "2 cores, x86_64", "gemm_gflops": 380.0, "command": "python -m fmnist.speed.bench --peers",
            "cpu": {"cpu": "AMD EPYC", "vector_isa": "AVX-512",
                    "isa_controls": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}},
            "models": models_}


def test_table_has_the_peer_and_its_ratio_beside_the_floor_ratio():
    text = bench.table(fake_result(mlp=model_result(0.60, 0.10, peer_seconds=0.40),
                                   bn=model_result(3.50, 0.35)))
    assert "| × floor | PyTorch eager s/epoch | project / PyTorch | PyTorch × floor |" in text
    assert "| mlp | 128 | Eigen, 1 | 0.60 | 80,000 | 0.66 | 0.10 | 6.0 | 0.40 | 1.50 | 4.0 |" in text
    assert "| bn | 128 | Eigen, 1 | 3.50 | 13,714 | 0.66 | 0.35 | 10.0 | — | — | — |" in text  # no peer: dashes
    assert "AMD EPYC, AVX-512, capped at ONEDNN_MAX_CPU_ISA=AVX2, ATEN_CPU_CAPABILITY=avx2" in text
    assert "`python -m fmnist.speed.bench --peers`" in text


def test_table_gives_the_median_ratio_and_its_range_over_rounds():
    result = fake_result(lenet=model_result(2.0, 0.34, peer_seconds=1.6, rounds=[1.5, 1.2, 1.8]))
    result["rounds"] = 3
    assert "| 1.60 | 1.50 (1.20–1.80) | 4.7 |" in bench.table(result)


def test_peers_take_several_rounds_unless_told_otherwise():
    assert bench.parse_args(["--peers"]).rounds == bench.PEER_ROUNDS > 1  # one pair's ratio is noise
    assert bench.parse_args(["--peers", "--rounds", "1"]).rounds == 1
    assert bench.parse_args([]).rounds == 1  # without a peer there is nothing to alternate with
    with pytest.raises(SystemExit):
        bench.parse_args(["--peers", "--rounds", "0"])


def test_table_without_peers_is_the_old_table():
    result = fake_result(mlp=model_result(0.60, 0.10))
    del result["cpu"], result["command"]
    text = bench.table(result)
    assert "PyTorch" not in text
    assert text.splitlines()[0] == "Measured by `make bench` on 2 cores, x86_64; float32 GEMM 380 GFLOP/s."


def test_peer_environment_is_made_once_with_the_pins(tmp_path, monkeypatch):
    commands = []

    def run(command, check):
        commands.append(command)
        if command[1:3] == ["-m", "venv"]:
            (tmp_path / "venv" / "bin").mkdir(parents=True)
            (tmp_path / "venv" / "bin" / "python").touch()

    monkeypatch.setattr(bench.subprocess, "run", run)
    python = bench.ensure_peer_venv(tmp_path / "venv")
    assert python == tmp_path / "venv" / "bin" / "python"
    assert commands[0][1:] == ["-m", "venv", str(tmp_path / "venv")]
    assert commands[1][-2:] == ["torch==2.13.0", f"numpy=={bench.machine.package_version(('numpy',))}"]
    bench.ensure_peer_venv(tmp_path / "venv")
    assert len(commands) == 2  # installed with the same pins: nothing to do


def keras_layer_shapes(keras, model):
    """The Keras model's layers as fmnist.speed.architecture describes them."""
    shapes = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            shapes.append(architecture.Dense(layer.kernel.shape[0], layer.units))
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw, c_in, c_out = layer.kernel.shape
            assert kh == kw
            shapes.append(architecture.Conv(c_in, c_out, kh, layer.padding))
        elif isinstance(layer, keras.layers.MaxPooling2D):
            shapes.append(architecture.MaxPool(layer.pool_size[0]))
        elif isinstance(layer, keras.layers.BatchNormalization):
            shapes.append(architecture.BatchNorm(layer.gamma.shape[0]))
        elif isinstance(layer, keras.layers.Dropout):
            shapes.append(architecture.Dropout(layer.rate))
    return tuple(shapes)


@pytest.mark.parametrize("name, parameters", [("mlp", 109_386), ("lenet", 61_706), ("dropout", 61_706),
                                              ("bn", 62_158)])
def test_peer_layers_are_the_projects(keras, models, name, parameters):
    p = params.load(f"train_{name}", ROOT / "params.yaml")
    model = models.build(name, p)
    layers = architecture.of(name, getattr(p, "dropout_rate", 0.0), getattr(p, "dropout_after", ()))
    assert keras_layer_shapes(keras, model) == layers
    assert architecture.parameter_count(layers) == parameters == models.trainable_params(model)


BLOCK_TORCH = """
import importlib.abc, sys
class BlockTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "torch":
            raise ImportError(name)
sys.meta_path.insert(0, BlockTorch())
"""


def test_project_code_runs_without_torch():
    # torch unimportable: the bench, and the peer module itself, import without it (the peer imports torch in main)
    code = (BLOCK_TORCH + "import fmnist.speed.bench, fmnist.speed.peers, fmnist.speed.architecture; "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_pipeline_wall_is_compared_with_its_training_epochs(tmp_path, monkeypatch):
    import json
    import shutil

    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    monkeypatch.chdir(tmp_path)
    all_epochs = {"mlp": 11.5, "lenet": 31.0, "dropout": 47.25, "bn": 62.0}
    for name, seconds in all_epochs.items():
        (tmp_path / "metrics" / name).mkdir(parents=True)
        (tmp_path / "metrics" / name / "timing.json").write_text(json.dumps(
            {"seconds_first_epoch": 3.0, "seconds_per_epoch": 1.0, "seconds_all_epochs": seconds,
             "samples_per_second": 48_000}))
    expected = sum(all_epochs.values())  # every epoch as it ran, not the median times their number
    assert bench.training_epochs_seconds() == pytest.approx(expected)

    result = fake_result(mlp=model_result(0.60, 0.10))
    result["pipeline"] = {"full_repro_seconds": 1.2 * expected, "training_epochs_seconds": expected,
                          "noop_repro_seconds": 0.8, "peak_memory_mib": {"train mlp": 1373}}
    assert (f"`dvc repro -f` (all stages): {1.2 * expected:.0f} s, 1.20× its training epochs ({expected:.0f} s); "
            "no-op `dvc repro`: 0.8 s.") in bench.table(result)


def test_a_failing_pipeline_run_stops_the_bench_with_a_clear_error(monkeypatch):
    class Failed:
        returncode = 1

    monkeypatch.setattr(bench.subprocess, "run", lambda *args, **kwargs: Failed())
    with pytest.raises(SystemExit, match=r"`dvc repro -f` failed .* the models' numbers are in benchmarks/latest.json"):
        bench.bench_pipeline()


def test_the_pipeline_table_gives_each_stage_its_seconds_and_dvc_the_rest():
    result = fake_result(mlp=model_result(0.60, 0.10))
    result["pipeline"] = {"full_repro_seconds": 100.0, "training_epochs_seconds": 60.0, "noop_repro_seconds": 0.8,
                          "peak_memory_mib": {"preprocess": 455, "train mlp": 1373},
                          "stage_seconds": {"preprocess": 5.25, "train mlp": 80.0}}
    text = bench.table(result)
    assert "Each stage's process, start to end: 85 s in all; the other 15 s are DVC's" in text
    assert "| preprocess | 455 | 5.2 |" in text and "| train mlp | 1,373 | 80.0 |" in text


def test_a_stage_measures_its_seconds_from_the_start_of_its_process():
    code = "import time; time.sleep(0.5); from fmnist.stage import process_seconds; print(process_seconds())"
    seconds = float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True,
                                   text=True).stdout)
    assert 0.5 <= seconds < 30
