"""Stages `train@mlp`, `train@lenet`, `train@dropout`, `train@bn` (dvc.yaml): `python -m stages.train <model>`.

Trains one model on the train split with Adam, validating every epoch (assignment 3.2.6, 4.2.3, 4.3), and
writes, for model M:
  models/M.keras                the trained model, in plain Keras layers (loads without this project)
  plots/M/history.csv           per-epoch train and validation loss and accuracy (Keras CSVLogger)
  metrics/M/train.json          final train and validation loss and accuracy, parameters, epochs
  metrics/M/timing.json         seconds per epoch and samples per second (a measurement of this machine)
  metrics/M/layers.md           each layer's output shape and parameter count (3.2.2, 4.2.2)
  metrics/M/first_sample.json   the softmax output on the first training sample and its sum (3.2.4)
  metrics/machine/train_M.json  the machine's fingerprint (fmnist/machine.py)
"""
import statistics
import sys


from fmnist import data, import_keras, machine, params, paths, use_onednn, use_threads
from fmnist.errors import UserError
from fmnist.stage import run_stage
from fmnist.files import atomic_path, remove_stale_tmp, write_json, write_text


def layers_markdown(model_name: str, table: list[dict], trainable: int) -> str:
    rows = [f"| {r['layer']} | {r['type']} | {r['output_shape']} | {r['params']:,} |" for r in table]
    return "\n".join([
        f"# {model_name}: layers", "",
        "| layer | type | output shape | parameters |", "| --- | --- | --- | --- |", *rows, "",
        f"Trainable parameters: {trainable:,}", "",
    ])


def softmax_record(probabilities) -> dict:
    probabilities = [float(p) for p in probabilities]
    return {
        "softmax": dict(zip(paths.CLASS_NAMES, probabilities)),
        "sum": sum(probabilities),
        "sum_is_1_to_2_decimals": round(sum(probabilities), 2) == 1.0,
    }


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in paths.MODEL_NAMES:
        raise UserError(f"usage: python -m stages.train MODEL, with MODEL one of {', '.join(paths.MODEL_NAMES)}")
    model_name = sys.argv[1]
    seed, p = params.load_seed(), params.load(f"train_{model_name}")
    use_onednn(p.onednn)  # before TensorFlow loads
    arrays = {split: data.load(split) for split in ("train", "val")}  # numpy only: a bad file fails in a second

    keras = import_keras()  # TensorFlow loads only once params and data are valid: a typo should not wait for it

    from fmnist import models, training

    use_threads(p.threads)  # before the tensors: TensorFlow's first op fixes its threads
    # pop: each split's numpy arrays are freed as soon as tf.constant has copied them into tensors
    train, val = (training.as_tensors(arrays.pop(split)) for split in ("train", "val"))

    for folder in (paths.MODELS_DIR, paths.model_metrics_dir(model_name), paths.model_plots_dir(model_name)):
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_tmp(folder)
    with atomic_path(paths.model_plots_dir(model_name) / "history.csv") as history_tmp:
        result = training.train(model_name, p, seed, train, val, verbose=2, probe=train[0][:1],
                                callbacks=[keras.callbacks.CSVLogger(str(history_tmp))])
        saved = models.standard_keras(result.model)  # plain Keras layers: the file loads without this project
        with atomic_path(paths.model_file(model_name)) as model_tmp:
            saved.save(model_tmp)
    saved.summary()

    metrics_dir = paths.model_metrics_dir(model_name)
    trainable = models.trainable_params(result.model)
    write_json(metrics_dir / "train.json", {**result.final, "params": trainable, "epochs": p.epochs})
    seconds = result.epoch_seconds
    later = seconds[1:] or seconds  # the first epoch also traces the graph
    write_json(metrics_dir / "timing.json", {
        "seconds_per_epoch": statistics.median(later),
        "seconds_first_epoch": seconds[0],
        "seconds_all_epochs": sum(seconds),
        "samples_per_second": len(train[0]) / statistics.median(later),
    })
    write_text(metrics_dir / "layers.md", layers_markdown(model_name, models.layer_table(saved), trainable))
    write_json(metrics_dir / "first_sample.json", {
        "class": paths.CLASS_NAMES[train[1][0]],
        "untrained": softmax_record(result.probe_before[0]), "trained": softmax_record(result.probe_after[0]),
    })
    write_json(machine.fingerprint_file(f"train_{model_name}"), machine.fingerprint(p.threads))


if __name__ == "__main__":
    run_stage(main)
