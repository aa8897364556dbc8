"""Stage `evaluate`: every trained model on the 10,000 test images, preprocessed exactly like train.

For model M it writes:
  metrics/M/test.json          test loss and accuracy (3.3.1, 4.2.4), per-class precision, recall and F1
  plots/M/confusion.csv        one `actual,predicted` row per test image, for DVC's confusion template
  plots/M/confusion.png        the confusion matrix with counts (3.3.2)
  plots/M/predictions.png      the first 25 test images, "GT:<true>, P:<predicted>", mistakes in red (3.3.3)
  plots/M/loss.png, accuracy.png   train against validation per epoch (3.2.7, 4.2.3)
and the four models side by side (4.3.2):
  metrics/comparison.json      parameters, epochs, train, validation and test accuracy, train - validation gap
  plots/comparison/test_accuracy.csv   one `model,test_accuracy` row per model, for DVC's bar template
  plots/comparison/test_accuracy.png, val_loss.png, val_accuracy.png   the same as figures
and metrics/machine/evaluate.json: the machine's fingerprint (fmnist/machine.py).
"""
import csv
import io
import os
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up banner out of the log

import numpy as np  # noqa: E402

from fmnist import data, evaluation, import_keras, machine, params, paths, plots  # noqa: E402
from fmnist.errors import UserError, run_stage  # noqa: E402
from fmnist.files import remove_stale_tmp, write_json, write_text  # noqa: E402
from fmnist.results import non_keras_classes, read_history, read_json  # noqa: E402

def confusion_csv(labels, predictions) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["actual", "predicted"])
    writer.writerows((paths.CLASS_NAMES[a], paths.CLASS_NAMES[p]) for a, p in zip(labels, predictions))
    return out.getvalue()


def evaluate_model(keras, name: str, x_test, y_test, batch_size: int) -> dict:
    from fmnist import training

    model_path = paths.model_file(name)
    if not model_path.exists():
        raise UserError(f"{model_path}: not found; run the stage train_{name} first (dvc repro)")
    try:  # safe mode: a model file that carries code (a Lambda layer) is refused, not run
        custom = non_keras_classes(model_path)
        if custom:  # whoever gets the file (dvc get, a grader) must be able to load it with Keras alone
            raise UserError(f"{model_path}: names classes that plain Keras lacks ({', '.join(custom)}); "
                            "save it with fmnist.models.standard_keras")
        model = keras.saving.load_model(model_path, safe_mode=True)
    except (ValueError, TypeError, OSError, KeyError, zipfile.BadZipFile) as error:
        raise UserError(f"{model_path}: cannot load this Keras model ({error})") from None
    probabilities = training.predict(model, x_test, batch_size)
    predictions = probabilities.argmax(axis=1)
    test = evaluation.test_scores(probabilities, y_test)
    matrix = evaluation.confusion_matrix(y_test, predictions, len(paths.CLASS_NAMES))
    scores = evaluation.per_class_scores(matrix)
    test["per_class"] = {c: {k: float(v[i]) for k, v in scores.items()} for i, c in enumerate(paths.CLASS_NAMES)}
    print(f"{name}: test loss {test['loss']:.4f}, test accuracy {test['accuracy']:.4f}")

    plots_dir, metrics_dir = paths.model_plots_dir(name), paths.model_metrics_dir(name)
    for folder in (plots_dir, metrics_dir):
        remove_stale_tmp(folder)
    write_json(metrics_dir / "test.json", test)
    write_text(plots_dir / "confusion.csv", confusion_csv(y_test, predictions))
    plots.confusion_matrix(matrix, paths.CLASS_NAMES, f"{paths.MODEL_TITLES[name]}: test confusion matrix", plots_dir / "confusion.png")
    plots.image_grid(
        x_test[:25], [f"GT:{paths.CLASS_NAMES[t]}, P:{paths.CLASS_NAMES[p]}" for t, p in zip(y_test, predictions)],
        f"{paths.MODEL_TITLES[name]}: first 25 test images (mistakes in red)", plots_dir / "predictions.png",
        title_colors=["black" if t == p else "red" for t, p in zip(y_test[:25], predictions[:25])])
    history = read_history(plots_dir / "history.csv")
    epochs = [int(e) + 1 for e in history["epoch"]]
    for quantity in ("loss", "accuracy"):
        plots.train_vs_validation(epochs, history[quantity], history[f"val_{quantity}"], quantity,
                                  f"{paths.MODEL_TITLES[name]}: {quantity} per epoch", plots_dir / f"{quantity}.png")
    return test


def write_comparison_plots(tests: dict, histories: dict) -> None:
    """The four models in one chart each: test accuracy, validation loss and accuracy per epoch."""
    folder = paths.PLOTS_DIR / "comparison"
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(folder)
    titles = {name: paths.MODEL_TITLES[name] for name in tests}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["model", "test_accuracy"])
    writer.writerows((titles[name], test["accuracy"]) for name, test in tests.items())
    write_text(folder / "test_accuracy.csv", out.getvalue())
    plots.accuracy_bars({titles[name]: test["accuracy"] for name, test in tests.items()},
                        "Test accuracy by model", folder / "test_accuracy.png")
    for quantity in ("loss", "accuracy"):
        curves = {titles[name]: ([int(e) + 1 for e in history["epoch"]], history[f"val_{quantity}"])
                  for name, history in histories.items()}
        plots.curves_by_model(curves, f"validation {quantity}", f"Validation {quantity} per epoch, by model",
                              folder / f"val_{quantity}.png")


def main():
    p = params.load("evaluate")
    keras = import_keras()  # after the params check: a typo should not wait for TensorFlow

    from fmnist import training

    training.use_threads(p.threads)

    x_test, y_test = data.load("test")
    comparison, tests, histories = {}, {}, {}
    for name in paths.MODEL_NAMES:
        test = tests[name] = evaluate_model(keras, name, x_test, y_test, p.batch_size)
        histories[name] = read_history(paths.model_plots_dir(name) / "history.csv")
        train = read_json(paths.model_metrics_dir(name) / "train.json")
        comparison[name] = {
            "params": train["params"], "epochs": train["epochs"],
            "train_accuracy": train["train_accuracy"], "val_accuracy": train["val_accuracy"],
            "test_accuracy": test["accuracy"],
            "train_val_gap": train["train_accuracy"] - train["val_accuracy"],  # > 0: fits train better than unseen data
        }
    write_json(paths.METRICS_DIR / "comparison.json", comparison)
    write_comparison_plots(tests, histories)
    write_json(machine.fingerprint_file("evaluate"), machine.fingerprint(p.threads))


if __name__ == "__main__":
    run_stage(main)
