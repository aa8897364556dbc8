"""One replica of the seed study: `python -m fmnist.review.replica MODEL SEED`, the command of the stage
`replica@MODEL-SEED` in seeds/dvc.yaml (docs/seed-study.md).

Replica (MODEL, SEED) is the pipeline's MODEL with params.yaml's global `seed` replaced by SEED: the preprocess
stage's split drawn with SEED (fmnist.dataset), initial weights, batch order and dropout from SEED, the
model's own params otherwise, trained by fmnist.training.train in a process with the kernels and threads of
its params (as the train stage trains it), then scored on the test set in a process set up as the evaluate
stage is (its kernels, `evaluate.threads`, `evaluate.batch_size`, the model loaded from its saved file). So the
replica whose SEED is params.yaml's `seed` reproduces the pipeline's train and evaluate results to the byte on
one kind of machine.

Writes seeds/replicas/MODEL/SEED.json: model, seed, the headline metrics (train, validation and test loss and
accuracy), the predicted class of each test image as digits (100 images a line), and the fingerprint of the
machine it trained on (a replica restored from DVC's run cache may come from another machine).
"""
import sys
import tempfile
from pathlib import Path

import numpy as np

# No TensorFlow, Keras or scikit-learn at import: the training process (spawned, which imports this module
# again) chooses its kernels before TensorFlow loads, and Keras loads without scikit-learn (import_keras).
from fmnist import evaluation, import_keras, machine, params, paths, use_onednn, use_threads
from fmnist.errors import UserError
from fmnist.files import remove_stale_tmp, write_json
from fmnist.processes import in_own_process
from fmnist.review import study
from fmnist.stage import run_stage

# What train leaves in the replica's temporary folder for score: the model, and the test set (x, y).
MODEL_FILE, TEST_FILES = "model.keras", ("test_x.npy", "test_y.npy")
USAGE = (f"usage: python -m fmnist.review.replica MODEL SEED, with MODEL one of {', '.join(paths.MODEL_NAMES)} "
         "and SEED an integer >= 0")


def arguments(argv: list[str]) -> tuple[str, int]:
    if len(argv) != 2 or argv[0] not in paths.MODEL_NAMES or not argv[1].isdigit():
        raise UserError(USAGE)
    return argv[0], int(argv[1])


def train(model: str, seed: int, folder: str) -> dict:
    """Replica (model, seed) trained as the train stage trains it, saved to `folder` in plain Keras as the stage
    saves it, beside the test set as preprocessed with `seed` (for score: the split and scaling run once per
    replica); returns the final train and validation metrics and this machine's fingerprint. Run it in a fresh
    process (fmnist.processes.in_own_process): TensorFlow loads here with the model's kernels."""
    p = params.load(f"train_{model}")
    use_onednn(p.onednn)  # before TensorFlow loads
    import_keras()

    from fmnist import dataset, models, training

    use_threads(p.threads)  # before the tensors: TensorFlow's first op fixes its threads
    splits = dataset.prepare(params.load("preprocess"), seed)
    train_split, val_split = (training.as_tensors(splits[split]) for split in ("train", "val"))
    result = training.train(model, p, seed, train_split, val_split, verbose=2)
    models.standard_keras(result.model).save(Path(folder) / MODEL_FILE)
    for name, array in zip(TEST_FILES, splits["test"]):
        np.save(Path(folder) / name, array)
    return {"final": result.final, "machine": machine.fingerprint(p.threads)}


def score(folder: str) -> tuple[dict, list]:
    """Test loss and accuracy of the model `train` saved in `folder`, on the test set it saved there, and its
    predicted classes, computed as the evaluate stage computes them. In this process, which has loaded TensorFlow
    with the evaluate stage's kernels."""
    p = params.load("evaluate")
    keras = import_keras()

    from fmnist.predict import predict

    use_threads(p.threads)
    x_test, y_test = (np.load(Path(folder) / name) for name in TEST_FILES)
    model = keras.saving.load_model(Path(folder) / MODEL_FILE, safe_mode=True)
    probabilities = predict(model, x_test, p.batch_size)
    return evaluation.test_scores(probabilities, y_test), probabilities.argmax(axis=1).tolist()


def main():
    model, seed = arguments(sys.argv[1:])
    for section in (f"train_{model}", "preprocess", "evaluate"):  # every params error before TensorFlow loads
        params.load(section)
    out = study.replica_file(model, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(out.parent)
    with tempfile.TemporaryDirectory(prefix="replica-") as folder:
        trained = in_own_process(train, model, seed, folder)
        test, predictions = score(folder)
    print(f"replica {model} seed {seed}: test accuracy {test['accuracy']:.4f}, test loss {test['loss']:.4f}")
    write_json(out, {
        "model": model, "seed": seed, **trained["final"], "test_accuracy": test["accuracy"], "test_loss": test["loss"],
        "predictions": study.encode_predictions(predictions),  # test image i's class: digit i % 100 of line i // 100
        "machine": trained["machine"],
    })


if __name__ == "__main__":
    run_stage(main)
