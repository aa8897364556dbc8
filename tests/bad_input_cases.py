"""Every bad input the tests try, and the one line each gets: the table that tests/test_bad_inputs.py runs and
docs/bad-inputs.md shows. `python tests/bad_input_cases.py` writes the doc from it; a test checks they agree.

A case with `make` is run by one table-driven test: `make(repo)` spoils an input in a copy of a repository
where the whole pipeline has run, then the stage's real command runs there. A case without it has a test of
its own in tests/test_bad_inputs.py, which asserts its line through `expected(case id, ...)`; `{name}` in such
a line is what differs from run to run (a temporary folder, a port), shown as <name> in the doc."""
import gzip
import io
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from helpers import FILES, ROOT, idx_bytes, tiny_arrays

DOC = ROOT / "docs" / "bad-inputs.md"
PREPROCESS, EVALUATE, TRAIN = "python -m stages.preprocess", "python -m stages.evaluate", "python -m stages.train mlp"
DOWNLOAD, DVC_PREPROCESS = "dvc repro download", "dvc repro preprocess"
RAW = "data/raw/"
DEV_IMAGES, DEV_LABELS, TEST_IMAGES, TEST_LABELS = (RAW + FILES[key] for key in FILES)
TEXT = b"0.0,0.5,1.0\n0.5,1.0,0.0\n"  # text where binary data is expected
BINARY = gzip.compress(b"\x00\x01\x02\x03" * 64, mtime=0)  # bytes that are not text
ARRAYS = tiny_arrays()  # the tiny dataset: 200 development and 50 test images


@dataclass(frozen=True)
class Case:
    id: str
    input: str  # the file or params key, as the doc shows it
    variant: str
    command: str
    line: str
    make: Callable | None = None


def put(path: str, content: bytes):
    def make(repo: Path):
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_bytes(content)
    return make


def gone(path: str):
    def make(repo: Path):
        target = repo / path
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    return make


def gz_idx(array) -> bytes:
    return gzip.compress(idx_bytes(array), mtime=0)


def npy(array) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=True)
    return out.getvalue()


def both_images_32x32(repo: Path):
    """Both image files well-formed IDX files, of 32x32 images."""
    for path, count in ((DEV_IMAGES, 200), (TEST_IMAGES, 50)):
        put(path, gz_idx(np.zeros((count, 32, 32), np.uint8)))(repo)


def a_class_of_one_image(repo: Path):
    labels = ARRAYS["dev_labels"].copy()
    labels[labels == 3] = 4
    labels[np.argmax(ARRAYS["dev_labels"] == 3)] = 3
    put(DEV_LABELS, gz_idx(labels))(repo)


def keras_model(path: str, inputs: int):
    def make(repo: Path):
        import keras

        model = keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(10, activation="softmax")])
        model.save(repo / path)
    return make


def zip_of(name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, content)
    return out.getvalue()


X, Y = "data/processed/test_x.npy", "data/processed/test_y.npy"
MODEL, LAST_MODEL = "models/mlp.keras", "models/bn.keras"
HISTORY, TRAIN_JSON = "plots/mlp/history.csv", "metrics/mlp/train.json"
TRAINED_FIRST = "run the training stages first (dvc repro)"
RERUN_PREPROCESS = "rerun the preprocess stage (dvc repro)"
X_EXPECTED = "expected an N x 784 float32 array of features"
HISTORY_EXPECTED = ("expected a Keras CSVLogger history with the columns epoch, accuracy, loss, val_accuracy, "
                    "val_loss")
TRAIN_EXPECTED = ("expected the JSON object the train stage writes, with params, epochs, train_accuracy, "
                  f"val_accuracy; {TRAINED_FIRST}")

CASES = [
    # --- params.yaml, the file itself (its keys: tests/test_params.py and the params tests of test_bad_inputs.py)
    Case("params-missing-stage", "params.yaml", "missing", PREPROCESS,
         "error: params.yaml: file not found (run from the repository root)", gone("params.yaml")),
    Case("params-empty", "params.yaml", "empty (0 bytes)", PREPROCESS,
         "error: params.yaml: empty; expected a mapping of the keys seed, download, preprocess, backprop_check, "
         "train_mlp, train_lenet, train_dropout, train_bn, evaluate, seed_study, review",
         put("params.yaml", b"")),
    Case("params-list", "params.yaml", "a list, not a mapping", PREPROCESS,
         "error: params.yaml: got ['seed', 0]; expected a mapping of the keys seed, download, preprocess, "
         "backprop_check, train_mlp, train_lenet, train_dropout, train_bn, evaluate, seed_study, review",
         put("params.yaml", b"- seed\n- 0\n")),
    Case("params-missing-dvc", "params.yaml", "missing", DOWNLOAD,
         "ERROR: failed to parse 'vars' in 'seeds/dvc.yaml': 'params.yaml' does not exist"),
    Case("params-not-yaml", "params.yaml", "not YAML (DVC's message goes on with the line and column)", DOWNLOAD,
         "ERROR: unable to read: 'params.yaml', YAML file structure is corrupted: while parsing a flow node"),
    Case("params-python-tag", "params.yaml", "a !!python tag (nothing runs)", DOWNLOAD,
         "ERROR: unable to read: 'params.yaml', YAML file structure is corrupted: could not determine a "
         "constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.mkdir'"),

    # --- the four .gz files: from a source (download), then as the pipeline's input (preprocess)
    Case("md5-mismatch", FILES["test_images"], "another file than params' md5 says", DOWNLOAD,
         f"error: {FILES['test_images']}: no source gave a verified file. FASHION_MNIST_DIR={{folder}}: md5 mismatch: "
         "got {actual}, expected {expected}"),
    Case("html-page", FILES["dev_labels"], "an HTML error page from the server", DOWNLOAD,
         f"error: {FILES['dev_labels']}: no source gave a verified file. {{url}}: md5 mismatch: got {{actual}}, "
         "expected {expected} (not a gzip file: an HTML page)"),
    Case("source-missing", FILES["test_labels"], "missing from FASHION_MNIST_DIR", DOWNLOAD,
         f"error: {FILES['test_labels']}: no source gave a verified file. FASHION_MNIST_DIR={{folder}}: not found"),
    Case("refused", FILES["dev_images"], "server refuses connections", DOWNLOAD,
         f"error: {FILES['dev_images']}: no source gave a verified file. {{url}}: unreachable ({{reason}}Connection "
         "refused) (after 1 attempt)"),
    Case("timeout", FILES["dev_images"], "server never answers", DOWNLOAD,
         f"error: {FILES['dev_images']}: no source gave a verified file. {{url}}: timed out after 1 s "
         "(after 1 attempt)"),
    # a dataset of the user's own (params md5 set to its files): download accepts it, preprocess refuses it
    Case("truncated-gz", DEV_IMAGES, "gzip cut in half", DVC_PREPROCESS,
         f"error: {DEV_IMAGES}: not a valid gzip file "
         "(Compressed file ended before the end-of-stream marker was reached)"),
    Case("corrupted-gz", TEST_IMAGES, "gzip CRC wrong", DVC_PREPROCESS,
         f"error: {TEST_IMAGES}: not a valid gzip file (CRC check failed {{reason}})"),
    Case("wrong-magic", DEV_IMAGES, "IDX magic number wrong", DVC_PREPROCESS,
         f"error: {DEV_IMAGES}: not an IDX file (magic number 12340803)"),
    Case("short-idx", DEV_IMAGES, "fewer bytes than its header says", DVC_PREPROCESS,
         f"error: {DEV_IMAGES}: header says 200x28x28 = 156800 data bytes, file has 156700"),
    Case("label-count", DEV_LABELS, "199 labels for 200 images", DVC_PREPROCESS,
         f"error: {DEV_LABELS}: 199 labels for 200 images in {DEV_IMAGES}"),
    Case("label-range", TEST_LABELS, "a label of 12", DVC_PREPROCESS,
         f"error: {TEST_LABELS}: label 12 at index 7, expected 0 to 9"),
    # the raw files as the pipeline's input
    Case("raw-missing", DEV_IMAGES, "missing (download not run)", PREPROCESS,
         f"error: {DEV_IMAGES}: not found; run the download stage first (dvc repro)", gone(DEV_IMAGES)),
    Case("raw-empty", DEV_LABELS, "empty (0 bytes)", PREPROCESS,
         f"error: {DEV_LABELS}: an empty file; expected an IDX file, gzip-compressed", put(DEV_LABELS, b"")),
    Case("raw-text", DEV_IMAGES, "text, not gzip", PREPROCESS,
         f"error: {DEV_IMAGES}: not a valid gzip file (Not a gzipped file (b'0.'))", put(DEV_IMAGES, TEXT)),
    Case("raw-32x32", "data/raw/*-images-idx3-ubyte.gz", "both: well-formed IDX files of 32x32 images", PREPROCESS,
         f"error: {DEV_IMAGES}: images of 32x32 pixels; expected 28x28, as in Fashion-MNIST", both_images_32x32),
    Case("raw-labels-2d", DEV_LABELS, "labels as a 200x1 matrix", PREPROCESS,
         f"error: {DEV_LABELS}: expected a vector of labels, got shape (200, 1)",
         put(DEV_LABELS, gz_idx(ARRAYS["dev_labels"][:, None]))),
    Case("one-image-class", DEV_LABELS, "a class with 1 image: cannot be split", PREPROCESS,
         f"error: {DEV_LABELS}: class 3 (Dress) has 1 image; expected at least 2 of each class, one for train and "
         "one for validation", a_class_of_one_image),

    # --- data/processed/*.npy: train reads train and val, evaluate reads test
    Case("processed-missing", "data/processed/", "missing (preprocess not run)", TRAIN,
         "error: data/processed/train_x.npy: not found; run the preprocess stage first (dvc repro)",
         gone("data/processed")),
    Case("train-x-1024", "data/processed/train_x.npy", "160 x 1024 (32x32 images)", TRAIN,
         f"error: data/processed/train_x.npy: a 160x1024 float32 array; {X_EXPECTED}; {RERUN_PREPROCESS}",
         put("data/processed/train_x.npy", npy(np.zeros((160, 1024), np.float32)))),
    Case("val-y-text", "data/processed/val_y.npy", "text", TRAIN,
         "error: data/processed/val_y.npy: not a .npy file; expected a vector of N uint8 class ids; "
         f"{RERUN_PREPROCESS}",
         put("data/processed/val_y.npy", TEXT)),
    Case("test-x-missing", X, "missing", EVALUATE,
         f"error: {X}: not found; run the preprocess stage first (dvc repro)", gone(X)),
    Case("test-x-empty", X, "empty (0 bytes)", EVALUATE,
         f"error: {X}: an empty file; {X_EXPECTED}; {RERUN_PREPROCESS}", put(X, b"")),
    Case("test-x-text", X, "text", EVALUATE,
         f"error: {X}: not a .npy file; {X_EXPECTED}; {RERUN_PREPROCESS}", put(X, TEXT)),
    Case("test-x-truncated", X, "cut short", EVALUATE,
         f"error: {X}: not a valid .npy array (Failed to read all data for array. Expected (50, 784) = 39200 "
         "elements, could only read 100 elements. (file seems not fully written?))",
         put(X, npy(np.zeros((50, 784), np.float32))[:128 + 400])),
    Case("test-x-1024", X, "50 x 1024 (32x32 images)", EVALUATE,
         f"error: {X}: a 50x1024 float32 array; {X_EXPECTED}; {RERUN_PREPROCESS}",
         put(X, npy(np.zeros((50, 1024), np.float32)))),
    Case("test-x-float64", X, "float64", EVALUATE,
         f"error: {X}: a 50x784 float64 array; {X_EXPECTED}; {RERUN_PREPROCESS}",
         put(X, npy(np.zeros((50, 784), np.float64)))),
    Case("test-x-pickle", X, "pickled objects", EVALUATE,
         f"error: {X}: not a valid .npy array (Object arrays cannot be loaded when allow_pickle=False)",
         put(X, npy(np.array([{"a": 1}], dtype=object)))),
    Case("test-y-2d", Y, "50 x 1", EVALUATE,
         f"error: {Y}: a 50x1 uint8 array; expected a vector of N uint8 class ids; {RERUN_PREPROCESS}",
         put(Y, npy(np.zeros((50, 1), np.uint8)))),
    Case("test-y-range", Y, "a class id of 10", EVALUATE,
         f"error: {Y}: class id 10 at index 0; expected 0 to 9; {RERUN_PREPROCESS}",
         put(Y, npy(np.full(50, 10, np.uint8)))),
    Case("test-y-count", Y, "40 labels for 50 images", EVALUATE,
         f"error: {Y}: 40 labels for 50 rows of features; {RERUN_PREPROCESS}", put(Y, npy(np.zeros(40, np.uint8)))),

    # --- what evaluate reads from the training stages
    Case("train-json-missing", TRAIN_JSON, "missing", EVALUATE,
         f"error: {TRAIN_JSON}: not found; {TRAINED_FIRST}", gone(TRAIN_JSON)),
    Case("train-json-empty", TRAIN_JSON, "empty (0 bytes)", EVALUATE,
         f"error: {TRAIN_JSON}: an empty file; {TRAINED_FIRST}", put(TRAIN_JSON, b"")),
    Case("train-json-text", TRAIN_JSON, "text, not JSON", EVALUATE,
         f"error: {TRAIN_JSON}: not valid JSON (Expecting value: line 1 column 1 (char 0)); {TRAINED_FIRST}",
         put(TRAIN_JSON, b"train_accuracy: 0.9\n")),
    Case("train-json-binary", TRAIN_JSON, "binary", EVALUATE,
         f"error: {TRAIN_JSON}: not a UTF-8 text file; {TRAINED_FIRST}", put(TRAIN_JSON, BINARY)),
    Case("train-json-list", TRAIN_JSON, "a JSON list", EVALUATE,
         f"error: {TRAIN_JSON}: a JSON list; expected a JSON object; {TRAINED_FIRST}",
         put(TRAIN_JSON, b"[0.9, 0.8]\n")),
    Case("train-json-keys", TRAIN_JSON, "an object without the accuracies", EVALUATE,
         f"error: {TRAIN_JSON}: no number train_accuracy, val_accuracy; {TRAIN_EXPECTED}",
         put(TRAIN_JSON, b'{"params": 1000, "epochs": 2, "train_accuracy": "high"}\n')),
    Case("history-missing", HISTORY, "missing", EVALUATE,
         f"error: {HISTORY}: not found; {TRAINED_FIRST}", gone(HISTORY)),
    Case("history-empty", HISTORY, "empty (0 bytes)", EVALUATE,
         f"error: {HISTORY}: an empty file; {TRAINED_FIRST}", put(HISTORY, b"")),
    Case("history-binary", HISTORY, "binary", EVALUATE,
         f"error: {HISTORY}: not a UTF-8 text file; {TRAINED_FIRST}", put(HISTORY, BINARY)),
    Case("history-header-only", HISTORY, "a header, no epochs", EVALUATE,
         f"error: {HISTORY}: no epochs recorded", put(HISTORY, b"epoch,accuracy,loss,val_accuracy,val_loss\n")),
    Case("history-columns", HISTORY, "other columns", EVALUATE,
         f"error: {HISTORY}: no column epoch, accuracy, loss, val_accuracy, val_loss; {HISTORY_EXPECTED}",
         put(HISTORY, TEXT)),
    Case("history-value", HISTORY, "a value that is not a number", EVALUATE,
         f"error: {HISTORY}: line 3, column val_loss: 'n/a' is not a number",
         put(HISTORY, b"epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,1.2,0.5,1.3\n1,0.6,1.0,0.6,n/a\n")),
    Case("models-missing", "models/", "missing (training not run)", EVALUATE,
         f"error: {MODEL}: not found; {TRAINED_FIRST}", gone("models")),
    Case("model-empty", MODEL, "empty (0 bytes)", EVALUATE,
         f"error: {MODEL}: cannot load this Keras model (File is not a zip file)", put(MODEL, b"")),
    # the last model: the three before it load, yet nothing is written before every model has
    Case("model-text", LAST_MODEL, "text, not a Keras archive", EVALUATE,
         f"error: {LAST_MODEL}: cannot load this Keras model (File is not a zip file)", put(LAST_MODEL, TEXT)),
    Case("model-zip", MODEL, "a zip archive without a model", EVALUATE,
         f"error: {MODEL}: cannot load this Keras model (\"There is no item named 'config.json' in the archive\")",
         put(MODEL, zip_of("notes.txt", b"not a model\n"))),
    Case("model-1024", MODEL, "a model of 1024 inputs", EVALUATE,
         f"error: {MODEL}: a model from (None, 1024) to (None, 10); expected one from (None, 784) (the pixels) to "
         f"(None, 10) (the class probabilities); {TRAINED_FIRST}", keras_model(MODEL, 1024)),
]
BY_ID = {case.id: case for case in CASES}
assert len(BY_ID) == len(CASES), "two cases with one id"


def expected(case_id: str, **values) -> str:
    """The line of case `case_id` with its run-specific parts filled in."""
    return BY_ID[case_id].line.format(**values)


def pattern(case_id: str, **values) -> str:
    """A regular expression for the line of case `case_id`, each part not in `values` matching anything: for
    a part that the operating system words (a zlib or socket message)."""
    parts = re.split(r"(\{\w+\})", BY_ID[case_id].line)
    return "".join(re.escape(values[p[1:-1]]) if p[1:-1] in values else ".*" if p.startswith("{") else re.escape(p)
                   for p in parts if p)


def render() -> str:
    def cell(text):
        return re.sub(r"\{(\w+)\}", r"<\1>", text).replace("|", "\\|")

    lines = [
        "# Bad inputs and the line each gets",
        "",
        "Every bad input the tests try (tests/test_bad_inputs.py), the command it was given to, and the one line",
        "that command ends with: a non-zero exit, no traceback, and no partial output left at a final path. Lines",
        "starting `ERROR:` are DVC's own, for a params.yaml it cannot read before any stage runs; `<name>` stands",
        "for what differs between runs. The bad values of params.yaml's keys are fmnist/params.py's to refuse:",
        "tests/test_params.py and the params tests of tests/test_bad_inputs.py try them.",
        "",
        "Generated from tests/bad_input_cases.py by `python tests/bad_input_cases.py`.",
        "",
        "| input | variant | command | line |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| `{cell(c.input)}` | {cell(c.variant)} | `{c.command}` | `{cell(c.line)}` |" for c in CASES]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(render())
    print(f"wrote {DOC.relative_to(ROOT)}")
