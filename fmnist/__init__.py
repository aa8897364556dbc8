"""Shared code of the Fashion-MNIST pipeline: IDX reading, params schema, models, plots."""
import os
import sys

# oneDNN's kernels by default, on every x86-64 CPU. TensorFlow turns them on by itself only for CPUs with
# AVX-512 VNNI or BF16, AVX-VNNI or AMX; on the AVX2 CPUs most laptops have it falls back to Eigen's kernels,
# which trained LeNet-5 3x slower (6.5 against 2.1 s per epoch on 24,000 images, oneDNN capped at AVX2 to stand
# for such a CPU). On CPUs where TensorFlow turns it on anyway this changes nothing, to the byte. Set here because
# every entry point imports this package before TensorFlow, which reads the variable once, when it loads. A
# model whose params say `onednn: false` chooses Eigen's instead, with use_onednn below.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def use_onednn(onednn: bool) -> None:
    """TensorFlow's kernels for this process: oneDNN's (True) or its own, Eigen's (False). TensorFlow reads the
    choice once, when it loads: call this before importing it."""
    wanted = "1" if onednn else "0"
    if "tensorflow" in sys.modules and os.environ.get("TF_ENABLE_ONEDNN_OPTS") != wanted:
        raise RuntimeError(f"TensorFlow is already loaded with TF_ENABLE_ONEDNN_OPTS="
                           f"{os.environ.get('TF_ENABLE_ONEDNN_OPTS')}; choose the kernels before importing it")
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = wanted
