"""One way to train: `fmnist.training.train` is the only caller of Keras's fit, every trainer calls it, and the
bench's training gives the train stage's weights to the byte."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, env_for

TRAINING = "fmnist/training.py"
# Everything that trains a model, and so must go through training.train.
TRAINERS = ("stages/train.py", "fmnist/review/replica.py", "fmnist/speed/bench.py", "fmnist/speed/op_profile.py")
PRIVATE_STEPS = ("_fit", "_compile", "_final_metrics")


def project_sources() -> list[Path]:
    return sorted([*(ROOT / "fmnist").rglob("*.py"), *(ROOT / "stages").glob("*.py")])


def attribute_calls(source: str) -> list[str]:
    """`name` of every method call `something.name(...)` in the source (Keras's fit is a method)."""
    return [node.func.attr for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)]


def test_the_call_finder_sees_a_fit_call_and_not_a_function_of_that_name():
    assert attribute_calls("def go(model, x):\n    return model.fit(x, epochs=1)\n") == ["fit"]
    assert attribute_calls("def go(text):\n    return fit(text)\n") == []


def test_only_the_training_module_calls_fit_or_its_private_steps():
    offenders = []
    for path in project_sources():
        name = path.relative_to(ROOT).as_posix()
        if name == TRAINING:
            continue
        calls = attribute_calls(path.read_text())
        offenders += [f"{name}: calls {call}" for call in calls if call in ("fit", *PRIVATE_STEPS)]
    assert offenders == []


@pytest.mark.parametrize("trainer", TRAINERS)
def test_every_trainer_trains_through_training_train(trainer):
    assert "train" in attribute_calls((ROOT / trainer).read_text()), f"{trainer} does not call training.train"


def run_python(workdir: Path, *args) -> str:
    result = subprocess.run([sys.executable, *args], cwd=workdir, capture_output=True, text=True,
                            env=dict(env_for(), PYTHONPATH=str(ROOT)))
    assert result.returncode == 0, result.stderr
    return result.stdout


# The bench's digest, then the saved model's, in one process (one TensorFlow import, not two). The bench goes
# first: it chooses the model's kernels, which TensorFlow reads once, when it loads.
DIGESTS_OF_BENCH_AND_SAVED = """
import sys
from fmnist.params import load
from fmnist.speed.bench import measure_model
model = sys.argv[1]
print(measure_model(model, load(f"train_{model}").epochs, 1.0, None)["weights_sha256"])
import keras
from fmnist.training import weights_digest
print(weights_digest(keras.saving.load_model(f"models/{model}.keras")))
"""


@pytest.mark.parametrize("model", ["mlp", "bn"])
def test_the_bench_trains_the_stages_weights_to_the_byte(repo_run, model):
    """The tiny pipeline's train stage saved models/<model>.keras; the bench trains the same model, with the same
    params, seed and threads, in the same repository."""
    repo, _ = repo_run
    benched, saved = run_python(repo, "-c", DIGESTS_OF_BENCH_AND_SAVED, model).split()[-2:]
    assert len(saved) == 64 and benched == saved
