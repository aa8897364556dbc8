"""`make bench`: how fast the pipeline is on this machine, and how far from the compute floor.

    python -m fmnist.bench [--epochs 4] [--no-pipeline] [--readme]

Per model: seconds per epoch (the median over epochs after the first, which also traces the graph), samples
per second, training FLOPs per sample counted from the layer shapes, and the ratio of the epoch time to its
floor: the epoch's FLOPs divided by this machine's float32 matrix-multiply rate, measured in the same run.
For the pipeline: the wall time of `dvc repro -f` (every stage) and of a no-op `dvc repro`, and each stage's
peak memory. Needs data/processed (run the pipeline once first). Writes benchmarks/latest.json.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fmnist import data, params, paths  # noqa: E402
from fmnist.errors import PEAK_MEMORY_LOG_ENV  # noqa: E402
from fmnist.files import write_json  # noqa: E402
from fmnist.report import replace_readme_block  # noqa: E402

OUT = Path("benchmarks/latest.json")
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def gemm_gflops(n=4096, repeats=5) -> float:
    """float32 GEMM rate of TensorFlow on this machine: median of `repeats` n x n x n products."""
    import tensorflow as tf

    a, b = tf.random.uniform((n, n)), tf.random.uniform((n, n))
    tf.linalg.matmul(a, b).numpy()  # warm-up
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        tf.linalg.matmul(a, b).numpy()
        seconds.append(time.perf_counter() - start)
    return 2 * n ** 3 / statistics.median(seconds) / 1e9


def forward_flops(model) -> int:
    """Multiply-adds of the dense and convolution layers, x2, per sample. Pooling, activations and batch
    norm are a few FLOPs per value and left out."""
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            total += 2 * layer.kernel.shape[0] * layer.units
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw, c_in, c_out = layer.kernel.shape
            h, w = layer.output.shape[1:3]
            total += 2 * h * w * c_out * kh * kw * c_in
    return total


def bench_model(name: str, epochs: int, gflops: float, train, val) -> dict:
    from fmnist import models, training

    p = params.load(f"train_{name}")
    p = replace(p, epochs=epochs)
    seed = params.load_seed()
    training.make_deterministic(seed, params.load_threads())
    model = models.build(name, p)
    training.compile_model(model, p, n_train=len(train[0]))
    timer = training.EpochTimer()
    training.fit(model, train, val, p, seed, callbacks=[timer], verbose=0)
    epoch = statistics.median(timer.seconds[1:])
    forward = forward_flops(model)
    # Training a sample costs a forward and a backward pass (~2x forward); validating one, a forward pass.
    epoch_flops = 3 * forward * len(train[0]) + forward * len(val[0])
    floor = epoch_flops / (gflops * 1e9)
    return {
        "batch_size": p.batch_size, "seconds_per_epoch": epoch, "epoch_seconds": timer.seconds,
        "samples_per_second": len(train[0]) / epoch, "train_flops_per_sample": 3 * forward,
        "floor_seconds_per_epoch": floor, "ratio_to_floor": epoch / floor,
    }


def bench_data_sizes(epochs: int, gflops: float, train, val, full_size_seconds: float) -> dict:
    """How LeNet-5's epoch time grows with the number of training images (the full size is already measured)."""
    sizes = {}
    for fraction in (0.25, 0.5):
        n = int(len(train[0]) * fraction)
        sizes[n] = bench_model("lenet", epochs, gflops, (train[0][:n], train[1][:n]), val)["seconds_per_epoch"]
    sizes[len(train[0])] = full_size_seconds
    return sizes


def bench_pipeline() -> dict:
    """Wall time of a forced full run and of a no-op run, and every stage's peak memory."""
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as log:
        env = dict(os.environ, **{PEAK_MEMORY_LOG_ENV: log.name})
        start = time.perf_counter()
        subprocess.run(["dvc", "repro", "-f"], check=True, env=env, stdout=subprocess.DEVNULL)
        full = time.perf_counter() - start
        peaks = {entry["stage"]: entry["peak_mib"] for entry in map(json.loads, log.read().splitlines())}
    start = time.perf_counter()
    subprocess.run(["dvc", "repro"], check=True, stdout=subprocess.DEVNULL)
    noop = time.perf_counter() - start
    return {"full_repro_seconds": full, "noop_repro_seconds": noop, "peak_memory_mib": peaks}


def table(result: dict) -> str:
    lines = [f"Measured by `make bench` on {result['machine']}; float32 GEMM {result['gemm_gflops']:.0f} GFLOP/s.", "",
             "| model | batch | s/epoch | samples/s | train MFLOP/sample | floor s/epoch | × floor |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, m in result["models"].items():
        lines.append(f"| {name} | {m['batch_size']} | {m['seconds_per_epoch']:.2f} | {m['samples_per_second']:,.0f} "
                     f"| {m['train_flops_per_sample'] / 1e6:.2f} | {m['floor_seconds_per_epoch']:.2f} "
                     f"| {m['ratio_to_floor']:.1f} |")
    growth = result["lenet_seconds_per_epoch_by_train_size"]
    lines += ["", "LeNet-5 seconds per epoch by training-set size (validation fixed at 12,000): "
              + ", ".join(f"{int(n):,}: {sec:.2f} s" for n, sec in growth.items()) + "."]
    if "pipeline" in result:
        pipe = result["pipeline"]
        lines += ["", f"`dvc repro -f` (all stages): {pipe['full_repro_seconds']:.0f} s; "
                      f"no-op `dvc repro`: {pipe['noop_repro_seconds']:.1f} s.", "",
                  "| stage | peak memory (MiB) |", "|---|---:|"]
        lines += [f"| {stage} | {mib:,.0f} |" for stage, mib in pipe["peak_memory_mib"].items()]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs per model; the first is not counted")
    parser.add_argument("--no-pipeline", action="store_true", help="skip timing dvc repro")
    parser.add_argument("--readme", action="store_true", help="put the table of benchmarks/latest.json in README.md")
    args = parser.parse_args()
    if args.readme:
        replace_readme_block(README_START, README_END, table(json.loads(OUT.read_text())))
        return

    train, val = data.load("train"), data.load("val")
    gflops = gemm_gflops()
    result = {"machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
              "gemm_gflops": gflops, "models": {}}
    for name in paths.MODEL_NAMES:
        result["models"][name] = bench_model(name, args.epochs, gflops, train, val)
        print(f"{name}: {result['models'][name]['seconds_per_epoch']:.2f} s/epoch", flush=True)
    result["lenet_seconds_per_epoch_by_train_size"] = bench_data_sizes(
        args.epochs, gflops, train, val, full_size_seconds=result["models"]["lenet"]["seconds_per_epoch"])
    if not args.no_pipeline:
        result["pipeline"] = bench_pipeline()
    write_json(OUT, result)
    print(table(result))


if __name__ == "__main__":
    main()
