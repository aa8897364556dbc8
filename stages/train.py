"""Stages `train_mlp`, `train_lenet`, `train_dropout`, `train_bn`: `python -m stages.train <model>`.

Trains one model on the train split with Adam, validating every epoch (assignment 3.2.6, 4.2.3, 4.3), and
writes, for model M:
  models/M.keras                the trained model
  plots/M/history.csv           per-epoch train and validation loss and accuracy (Keras CSVLogger)
  metrics/M/train.json          final train and validation loss and accuracy, parameters, epochs
  metrics/M/timing.json         seconds per epoch and samples per second (a measurement of this machine)
  metrics/M/layers.md           each layer's output shape and parameter count (3.2.2, 4.2.2)
  metrics/M/first_sample.json   the softmax output on the first training sample and its sum (3.2.4)
"""
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up banner out of the log

from fmnist import data, params, paths  # noqa: E402
from fmnist.errors import UserError, run_stage  # noqa: E402
from fmnist.files import atomic_path, remove_stale_tmp, write_json, write_text  # noqa: E402


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
    seed = params.load_seed()
    p = params.load(f"train_{model_name}")

    import keras  # imported only once params are valid: a typo should not wait for TensorFlow
    import tensorflow as tf

    from fmnist import models

    keras.utils.set_random_seed(seed)  # Python, numpy and TensorFlow
    tf.config.experimental.enable_op_determinism()
    x_train, y_train = data.load("train")
    x_val, y_val = data.load("val")
    first_class = paths.CLASS_NAMES[y_train[0]]
    if p.loss == "categorical_crossentropy":  # this loss wants one-hot targets; the sparse one, class ids
        y_train, y_val = (keras.utils.to_categorical(y, models.N_CLASSES) for y in (y_train, y_val))

    model = models.build(model_name, p)
    model.summary()
    steps_per_epoch = -(-len(x_train) // p.batch_size)
    learning_rate = p.learning_rate if p.lr_schedule == "constant" else keras.optimizers.schedules.CosineDecay(
        p.learning_rate, decay_steps=p.epochs * steps_per_epoch)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=p.loss, metrics=["accuracy"])
    untrained = model.predict(x_train[:1], verbose=0)[0]

    epoch_seconds = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.start)

    for folder in (paths.MODELS_DIR, paths.model_metrics_dir(model_name), paths.model_plots_dir(model_name)):
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_tmp(folder)
    with atomic_path(paths.model_plots_dir(model_name) / "history.csv") as history_tmp:
        history = model.fit(
            x_train, y_train, batch_size=p.batch_size, epochs=p.epochs, validation_data=(x_val, y_val),
            shuffle=True, verbose=2, callbacks=[keras.callbacks.CSVLogger(str(history_tmp)), EpochTimer()],
        ).history
        # Train metrics with the final weights in inference mode (no dropout, BN moving statistics), so that
        # train - validation is a fair overfitting gap.
        train_loss, train_accuracy = model.evaluate(x_train, y_train, batch_size=1024, verbose=0)
        trained = model.predict(x_train[:1], verbose=0)[0]
        with atomic_path(paths.model_file(model_name)) as model_tmp:
            model.save(model_tmp)

    metrics_dir = paths.model_metrics_dir(model_name)
    trainable = models.trainable_params(model)
    write_json(metrics_dir / "train.json", {
        "train_loss": train_loss, "train_accuracy": train_accuracy,
        "val_loss": history["val_loss"][-1], "val_accuracy": history["val_accuracy"][-1],
        "params": trainable, "epochs": p.epochs,
    })
    later = epoch_seconds[1:] or epoch_seconds  # the first epoch also traces the graph
    write_json(metrics_dir / "timing.json", {
        "seconds_per_epoch": statistics.median(later),
        "seconds_first_epoch": epoch_seconds[0],
        "samples_per_second": len(x_train) / statistics.median(later),
    })
    write_text(metrics_dir / "layers.md", layers_markdown(model_name, models.layer_table(model), trainable))
    write_json(metrics_dir / "first_sample.json", {
        "class": first_class,
        "untrained": softmax_record(untrained), "trained": softmax_record(trained),
    })


if __name__ == "__main__":
    run_stage(main)
