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
import multiprocessing
import zipfile
from concurrent.futures import ProcessPoolExecutor



from fmnist import data, evaluation, import_keras, machine, params, paths, use_threads
from fmnist.errors import UserError
from fmnist.stage import run_stage
from fmnist.files import remove_stale_tmp, write_json, write_text
from fmnist.results import non_keras_classes, read_history, read_json


def _draw(figure: str, *args, **kwargs) -> None:
    """One figure of fmnist.plots, in a figure process: this stage's own process never imports matplotlib."""
    from fmnist import plots

    getattr(plots, figure)(*args, **kwargs)


def _start_figure_process() -> None:
    import fmnist.plots  # noqa: F401  matplotlib loads while the stage imports TensorFlow


def figure_processes() -> ProcessPoolExecutor:
    """Two processes that draw the stage's 19 figures while it loads and runs the models: the figures took
    ~3 s of one core, after the predictions, with the other core idle. Spawned, not forked, and before
    TensorFlow loads: a fork of a process running TensorFlow's threads may deadlock."""
    processes = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn"))
    for _ in range(2):  # each submit starts a process while none is idle: both load matplotlib now
        processes.submit(_start_figure_process)
    return processes


def confusion_csv(labels, predictions) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["actual", "predicted"])
    writer.writerows((paths.CLASS_NAMES[a], paths.CLASS_NAMES[p]) for a, p in zip(labels, predictions))
    return out.getvalue()


TRAIN_KEYS = ("params", "epochs", "train_accuracy", "val_accuracy")  # what the comparison takes from train.json
TRAINED_FIRST = "run the training stages first (dvc repro)"


def read_inputs() -> tuple:
    """Every input but the models, checked before TensorFlow loads (a bad file fails in a second):
    (x_test, y_test, {model: history}, {model: train.json})."""
    x_test, y_test = data.load("test")
    histories, trains = {}, {}
    for name in paths.MODEL_NAMES:
        path = paths.model_metrics_dir(name) / "train.json"
        trains[name] = read_json(path, TRAINED_FIRST)
        absent = [key for key in TRAIN_KEYS if not isinstance(trains[name].get(key), (int, float))]
        if absent:
            raise UserError(f"{path}: no number {', '.join(absent)}; expected the JSON object the train stage "
                            f"writes, with {', '.join(TRAIN_KEYS)}; {TRAINED_FIRST}")
        histories[name] = read_history(paths.model_plots_dir(name) / "history.csv")
    return x_test, y_test, histories, trains


LOAD_ERRORS = (ValueError, TypeError, OSError, KeyError, zipfile.BadZipFile)


def check_model_file(name: str):
    """Model `name`'s file, checked as far as it can be without Keras, so that main checks every model file
    before TensorFlow loads: it exists, is a zip archive with a config.json, and names only Keras's classes."""
    model_path = paths.model_file(name)
    if not model_path.exists():
        raise UserError(f"{model_path}: not found; {TRAINED_FIRST}")
    try:
        custom = non_keras_classes(model_path)
    except LOAD_ERRORS as error:
        raise UserError(f"{model_path}: cannot load this Keras model ({error})") from None
    if custom:  # whoever gets the file (dvc get, a grader) must be able to load it with Keras alone
        raise UserError(f"{model_path}: names classes that plain Keras lacks ({', '.join(custom)}); "
                        "save it with fmnist.models.standard_keras")


def load_model(keras, name: str):
    """Model `name`, whose file check_model_file passed, loaded in Keras's safe mode and checked to take 784
    pixels and give 10 probabilities."""
    model_path = paths.model_file(name)
    try:  # safe mode: a model file that carries code (a Lambda layer) is refused, not run
        model = keras.saving.load_model(model_path, safe_mode=True)
    except LOAD_ERRORS as error:
        raise UserError(f"{model_path}: cannot load this Keras model ({error})") from None
    expected = ((None, data.FEATURES), (None, len(paths.CLASS_NAMES)))
    found = tuple(tuple(tensor.shape) for tensor in (model.inputs[0], model.outputs[0]))
    if len(model.inputs) != 1 or len(model.outputs) != 1 or found != expected:
        raise UserError(f"{model_path}: a model from {found[0]} to {found[1]}; expected one from {expected[0]} "
                        f"(the pixels) to {expected[1]} (the class probabilities); {TRAINED_FIRST}")
    return model


def evaluate_model(figures, name: str, model, x_test, y_test, history: dict, batch_size: int) -> tuple[dict, list]:
    """Model `name`'s test metrics and files; its figures are handed to `figures` (figure_processes), and
    returned as futures, with the metrics."""
    from fmnist.predict import predict  # TensorFlow is loaded by now

    probabilities = predict(model, x_test, batch_size)
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
    drawn = [figures.submit(_draw, "confusion_matrix", matrix, paths.CLASS_NAMES,
                            f"{paths.MODEL_TITLES[name]}: test confusion matrix", plots_dir / "confusion.png")]
    drawn.append(figures.submit(
        _draw, "image_grid", x_test[:25],
        [f"GT:{paths.CLASS_NAMES[t]}, P:{paths.CLASS_NAMES[p]}" for t, p in zip(y_test, predictions)],
        f"{paths.MODEL_TITLES[name]}: first 25 test images (mistakes in red)", plots_dir / "predictions.png",
        title_colors=["black" if t == p else "red" for t, p in zip(y_test[:25], predictions[:25])]))
    epochs = [int(e) + 1 for e in history["epoch"]]
    for quantity in ("loss", "accuracy"):
        drawn.append(figures.submit(
            _draw, "train_vs_validation", epochs, history[quantity], history[f"val_{quantity}"], quantity,
            f"{paths.MODEL_TITLES[name]}: {quantity} per epoch", plots_dir / f"{quantity}.png"))
    return test, drawn


def write_comparison_plots(figures, tests: dict, histories: dict) -> list:
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
    drawn = [figures.submit(_draw, "accuracy_bars", {titles[name]: test["accuracy"] for name, test in tests.items()},
                            "Test accuracy by model", folder / "test_accuracy.png")]
    for quantity in ("loss", "accuracy"):
        curves = {titles[name]: ([int(e) + 1 for e in history["epoch"]], history[f"val_{quantity}"])
                  for name, history in histories.items()}
        drawn.append(figures.submit(_draw, "curves_by_model", curves, f"validation {quantity}",
                                    f"Validation {quantity} per epoch, by model", folder / f"val_{quantity}.png"))
    return drawn


def main():
    p = params.load("evaluate")
    x_test, y_test, histories, trains = read_inputs()
    for name in paths.MODEL_NAMES:  # what Keras is not needed for: a bad model file fails in a second
        check_model_file(name)
    with figure_processes() as figures:  # every figure written when this block ends
        keras = import_keras()  # after every check that needs no TensorFlow: a typo should not wait for it

        use_threads(p.threads)
        models = {name: load_model(keras, name) for name in paths.MODEL_NAMES}  # all checked before any output
        comparison, tests, drawn = {}, {}, []
        for name in paths.MODEL_NAMES:
            tests[name], model_figures = evaluate_model(figures, name, models[name], x_test, y_test, histories[name],
                                                        p.batch_size)
            drawn += model_figures
            train = trains[name]
            comparison[name] = {
                "params": train["params"], "epochs": train["epochs"],
                "train_accuracy": train["train_accuracy"], "val_accuracy": train["val_accuracy"],
                "test_accuracy": tests[name]["accuracy"],
                # > 0: fits train better than unseen data
                "train_val_gap": train["train_accuracy"] - train["val_accuracy"],
            }
        write_json(paths.METRICS_DIR / "comparison.json", comparison)
        drawn += write_comparison_plots(figures, tests, histories)
        write_json(machine.fingerprint_file("evaluate"), machine.fingerprint(p.threads))
        for figure in drawn:
            figure.result()  # a figure that failed fails the stage, with its error


if __name__ == "__main__":
    run_stage(main)
