"""The Fashion-MNIST pipeline, as a library its stages (stages/) call: data -> models -> training ->
evaluation -> results and plots. Two packages of tools sit beside it and use it; it never imports them:

- fmnist.review: the reviewer's tools (make check, make seeds, make report, the pull-request comment)
- fmnist.speed: the speed tools (make bench, the PyTorch peer, the op profile)

docs/architecture.md draws the whole."""
import os
import sys

# oneDNN's kernels by default, on every x86-64 CPU. TensorFlow turns them on by itself only for CPUs with
# AVX-512 VNNI or BF16, AVX-VNNI or AMX; on the AVX2 CPUs most laptops have it falls back to Eigen's kernels,
# which trained LeNet-5 3x slower (6.5 against 2.1 s per epoch on 24,000 images, oneDNN capped at AVX2 to stand
# for such a CPU). On CPUs where TensorFlow turns it on anyway this changes nothing, to the byte. Set here because
# every entry point imports this package before TensorFlow, which reads the variable once, when it loads. A
# model whose params say `onednn: false` chooses Eigen's instead, with use_onednn below.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
# TensorFlow's C++ INFO and WARNING lines (its start-up banner) stay out of the logs. Set here for the same
# reason, so that no entry point sets it itself before its imports.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def use_onednn(onednn: bool) -> None:
    """TensorFlow's kernels for this process: oneDNN's (True) or its own, Eigen's (False). TensorFlow reads the
    choice once, when it loads: call this before importing it."""
    wanted = "1" if onednn else "0"
    if "tensorflow" in sys.modules and os.environ.get("TF_ENABLE_ONEDNN_OPTS") != wanted:
        raise RuntimeError(f"TensorFlow is already loaded with TF_ENABLE_ONEDNN_OPTS="
                           f"{os.environ.get('TF_ENABLE_ONEDNN_OPTS')}; choose the kernels before importing it")
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = wanted


def use_threads(threads: int) -> None:
    """Split every TensorFlow op over `threads` threads, whatever the number of cores: how a reduction is split
    decides its last bits, so a fixed count gives the same bytes on any machine of one CPU kind. Settable only
    before TensorFlow's first op."""
    import tensorflow as tf

    if tf.config.threading.get_intra_op_parallelism_threads() != threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)


# Packages Keras and TensorFlow import when they are installed, for integrations this project does not use
# (scikit-learn wrappers, pandas and SciPy-sparse inputs, matplotlib image galleries). Hidden while Keras
# loads, they take its import from 3.6-4.0 to 2.0-2.1 s, in each of the five TensorFlow stages.
KERAS_UNUSED_IMPORTS = ("sklearn", "scipy", "pandas", "matplotlib")


def import_keras():
    """Keras, imported without the packages of KERAS_UNUSED_IMPORTS that are not loaded yet: they stay
    importable afterwards, by the project and by Keras, only Keras's integrations with them stay off."""
    hidden = [name for name in KERAS_UNUSED_IMPORTS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # `import name` now raises ImportError, which Keras and TensorFlow catch
    try:
        import keras
    finally:
        for name in hidden:
            del sys.modules[name]
    return keras
