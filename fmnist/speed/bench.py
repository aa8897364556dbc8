"""`make bench`: how fast the pipeline is on this machine, and how far from the compute floor.

    python -m fmnist.speed.bench [--epochs 4] [--no-pipeline] [--peers [--rounds 3] [--peer-threads N]] [--readme]

Per model: seconds per epoch (the median over epochs after the first, which also traces the graph), samples
per second, training FLOPs per sample counted from the layer shapes, and the ratio of the epoch time to its
floor: the epoch's FLOPs divided by this machine's float32 matrix-multiply rate (oneDNN's, on every core),
measured in the same run. Each model trains in a process of its own, with the kernels and threads its params
choose, as in its train stage.
For the pipeline: the wall time of `dvc repro -f` (every stage) and of a no-op `dvc repro`, and each stage's
peak memory. Needs data/processed (run the pipeline once first). Writes benchmarks/latest.json, with the CPU
(model, vector ISA, any oneDNN or PyTorch ISA cap from the environment) the numbers are from.

With --peers (`make bench PEERS=1`), every model is also trained by a plain PyTorch eager loop
(fmnist/speed/peers.py) on the same data and batch size, in the same run, each project measurement followed by the
peer's, three rounds by default: the table gains PyTorch's s/epoch and the ratio project / PyTorch, the median of
the rounds with its range. PyTorch is not a dependency of the project: the bench installs it, pinned, in its own
environment, .bench-venv, when that is missing.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


from fmnist import data, machine, params, paths, use_onednn, use_threads
from fmnist.stage import STAGE_LOG_ENV
from fmnist.files import replace_marked_block, write_json
from fmnist.processes import in_own_process

OUT = Path("benchmarks/latest.json")
BENCH_PAGE = Path("docs/speed.md")  # the page whose marked block --readme refreshes
BENCH_START, BENCH_END = "<!-- bench:start -->", "<!-- bench:end -->"
PEER_VENV = Path(".bench-venv")
# The peer's environment: the CPU build of torch (pip takes it from a local wheel or the CPU index; a plain
# `pip install torch` may fetch the CUDA build), and the project's own numpy, to read the same .npy files.
PEER_REQUIREMENTS = ("torch==2.13.0", f"numpy=={machine.package_version(('numpy',))}")
PEER_MODELS = ("mlp", "lenet", "dropout", "bn")  # the models fmnist/speed/peers.py implements
# Environment variables that cap or switch the kernels each framework runs (recorded with the results).
ISA_CONTROLS = ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS")
# Project/peer pairs per model with --peers. On a shared 2-core machine both frameworks' epochs drift by up to
# +-25 % within minutes, so one pair's ratio can land either side of 1 (docs/speed.md); three give a median and
# a range.
PEER_ROUNDS = 3


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


def bench_model(name: str, epochs: int, gflops: float, n_train: int | None = None) -> dict:
    """Model `name` trained for `epochs` on the first `n_train` training images (all by default), timed as the
    train stage times it, in a process of its own: the kernels and threads its params choose."""
    return in_own_process(measure_model, name, epochs, gflops, n_train)


def measure_model(name: str, epochs: int, gflops: float, n_train: int | None) -> dict:
    p = params.load(f"train_{name}").model_copy(update={"epochs": epochs})
    use_onednn(p.onednn)
    from fmnist import training

    train, val = data.load("train"), data.load("val")
    train = (train[0][:n_train], train[1][:n_train])
    use_threads(p.threads)  # as the train stage does: threads first, then the tensors
    train, val = training.as_tensors(train), training.as_tensors(val)
    result = training.train(name, p, params.load_seed(), train, val)
    epoch = statistics.median(result.epoch_seconds[1:])
    forward = forward_flops(result.model)
    # Training a sample costs a forward and a backward pass (~2x forward); validating one, a forward pass.
    epoch_flops = 3 * forward * len(train[0]) + forward * len(val[0])
    floor = epoch_flops / (gflops * 1e9)
    return {
        "batch_size": p.batch_size, "threads": p.threads, "onednn": p.onednn,
        "seconds_per_epoch": epoch, "epoch_seconds": result.epoch_seconds,
        "samples_per_second": len(train[0]) / epoch, "train_flops_per_sample": 3 * forward,
        "weights_sha256": training.weights_digest(result.model),
        "floor_seconds_per_epoch": floor, "ratio_to_floor": epoch / floor,
    }


def bench_data_sizes(epochs: int, gflops: float, n_train: int, full_size_seconds: float) -> dict:
    """How LeNet-5's epoch time grows with the number of training images (the full size is already measured)."""
    sizes = {}
    for fraction in (0.25, 0.5):
        n = int(n_train * fraction)
        sizes[n] = bench_model("lenet", epochs, gflops, n)["seconds_per_epoch"]
    sizes[n_train] = full_size_seconds
    return sizes


def bench_pipeline() -> dict:
    """Wall time of a forced full run and of a no-op run, and every stage's peak memory and wall time."""
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as log:
        env = dict(os.environ, **{STAGE_LOG_ENV: log.name})
        start = time.perf_counter()
        if subprocess.run(["dvc", "repro", "-f"], env=env, stdout=subprocess.DEVNULL).returncode:
            raise SystemExit(f"bench: `dvc repro -f` failed (its error is above); the models' numbers are in {OUT}, "
                             "without the pipeline's")
        full = time.perf_counter() - start
        entries = [json.loads(line) for line in log.read().splitlines()]
    peaks = {entry["stage"]: entry["peak_mib"] for entry in entries}
    stage_seconds = {entry["stage"]: entry["seconds"] for entry in entries}
    start = time.perf_counter()
    subprocess.run(["dvc", "repro"], check=True, stdout=subprocess.DEVNULL)
    noop = time.perf_counter() - start
    return {"full_repro_seconds": full, "training_epochs_seconds": training_epochs_seconds(),
            "noop_repro_seconds": noop, "peak_memory_mib": peaks, "stage_seconds": stage_seconds}


def training_epochs_seconds() -> float:
    """The training epochs' share of a pipeline run: the sum of every train stage's epochs, from the
    timing.json each wrote."""
    return sum(json.loads((paths.model_metrics_dir(name) / "timing.json").read_text())["seconds_all_epochs"]
               for name in paths.MODEL_NAMES)


def ensure_peer_venv(venv: Path = PEER_VENV) -> Path:
    """The peer's python: creates `venv` with PEER_REQUIREMENTS when missing or installed with other pins."""
    python, stamp = venv / "bin" / "python", venv / ".installed"
    wanted = "\n".join(PEER_REQUIREMENTS) + "\n"
    if not python.exists() or not stamp.exists() or stamp.read_text() != wanted:
        print(f"installing {', '.join(PEER_REQUIREMENTS)} in {venv}/ (the PyTorch peer's environment)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q",
                        *PEER_REQUIREMENTS], check=True)
        stamp.write_text(wanted)
    return python


def bench_peer(python: Path, name: str, epochs: int, threads: int) -> dict:
    """The PyTorch eager peer of model `name`, in its own process: same batch size, learning rate and schedule
    as the project's params, `threads` threads."""
    p = params.load(f"train_{name}")
    command = [str(python), "-m", "fmnist.speed.peers", "--model", name, "--batch-size", str(p.batch_size),
               "--epochs", str(epochs), "--learning-rate", str(p.learning_rate), "--lr-schedule", p.lr_schedule,
               "--threads", str(threads), "--seed", str(params.load_seed()), "--data-dir", str(paths.PROCESSED_DIR)]
    if name == "dropout":
        command += ["--dropout-rate", str(p.dropout_rate), "--dropout-after", *p.dropout_after]
    start = time.perf_counter()
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    peer = json.loads(output)
    peer["process_seconds"] = time.perf_counter() - start
    return peer


def cpu_record() -> dict:
    """Which CPU the numbers are from, and how the environment capped the frameworks' kernels (which kernels
    and threads each model uses is its params', recorded with its numbers)."""
    fp = machine.fingerprint()
    return {"cpu": fp["cpu"], "vector_isa": fp["vector_isa"], "isa_extensions": fp["isa_extensions"],
            "cpus_available": fp["cpus_available"],
            "isa_controls": {key: os.environ[key] for key in ISA_CONTROLS if key in os.environ},
            "load_average_at_start": os.getloadavg()[0]}


def cpu_line(cpu: dict) -> str:
    """E.g. "AMD EPYC, AVX-512, capped at ONEDNN_MAX_CPU_ISA=AVX2, ATEN_CPU_CAPABILITY=avx2"."""
    caps = ", ".join(f"{key}={value}" for key, value in cpu.get("isa_controls", {}).items())
    return ", ".join(filter(None, [cpu["cpu"], cpu["vector_isa"], f"capped at {caps}" if caps else None]))


def kernels_text(m: dict) -> str:
    """A model's TensorFlow kernels and threads, e.g. "Eigen, 1" (older records: "—")."""
    if "onednn" not in m:
        return "—"
    return f"{'oneDNN' if m['onednn'] else 'Eigen'}, {m['threads']}"


def table(result: dict) -> str:
    peers = any("peer" in m for m in result["models"].values())
    heading = f"Measured by `{result.get('command', 'make bench')}` on {result['machine']}"
    if "cpu" in result:
        heading += f" ({cpu_line(result['cpu'])})"
    lines = [f"{heading}; float32 GEMM {result['gemm_gflops']:.0f} GFLOP/s.", "",
             "| model | batch | kernels, threads | s/epoch | samples/s | train MFLOP/sample | floor s/epoch | × floor |"
             + (" PyTorch eager s/epoch | project / PyTorch | PyTorch × floor |" if peers else ""),
             "|---|---:|---|---:|---:|---:|---:|---:|" + ("---:|---:|---:|" if peers else "")]
    for name, m in result["models"].items():
        line = (f"| {name} | {m['batch_size']} | {kernels_text(m)} | {m['seconds_per_epoch']:.2f} "
                f"| {m['samples_per_second']:,.0f} "
                f"| {m['train_flops_per_sample'] / 1e6:.2f} | {m['floor_seconds_per_epoch']:.2f} "
                f"| {m['ratio_to_floor']:.1f} |")
        if peers:
            peer = m.get("peer")
            line += (f" {peer['seconds_per_epoch']:.2f} | {ratio_text(m)} "
                     f"| {peer['seconds_per_epoch'] / m['floor_seconds_per_epoch']:.1f} |" if peer else " — | — | — |")
        lines.append(line)
    if peers:
        lines += ["", "PyTorch eager: the same layers, data, batch size, Adam and learning-rate schedule, "
                  f"{peer_threads(result)} thread(s), in its own process (fmnist/speed/peers.py); an epoch is "
                  "timed as the project's: shuffle, training steps, validation pass. A ratio below 1: the "
                  "project is faster." + (" With several rounds, project and peer alternate; the ratio is "
                  "their median, min–max in brackets." if result.get("rounds", 1) > 1 else "")]
    growth = result.get("lenet_seconds_per_epoch_by_train_size")
    if growth:
        lines += ["", "LeNet-5 seconds per epoch by training-set size (validation fixed at 12,000): "
                  + ", ".join(f"{int(n):,}: {sec:.2f} s" for n, sec in growth.items()) + "."]
    if "pipeline" in result:
        pipe = result["pipeline"]
        epochs = pipe.get("training_epochs_seconds")
        share = (f", {pipe['full_repro_seconds'] / epochs:.2f}× its training epochs ({epochs:.0f} s)"
                 if epochs else "")
        lines += ["", f"`dvc repro -f` (all stages): {pipe['full_repro_seconds']:.0f} s{share}; "
                      f"no-op `dvc repro`: {pipe['noop_repro_seconds']:.1f} s."]
        seconds = pipe.get("stage_seconds")  # older records have only the peak memory
        if seconds:
            lines += ["", f"Each stage's process, start to end: {sum(seconds.values()):.0f} s in all; the other "
                          f"{pipe['full_repro_seconds'] - sum(seconds.values()):.0f} s are DVC's "
                          "(start-up, hashing, caching)."]
        lines += ["", "| stage | peak memory (MiB) |" + (" seconds |" if seconds else ""),
                  "|---|---:|" + ("---:|" if seconds else "")]
        lines += [f"| {stage} | {mib:,.0f} |" + (f" {seconds[stage]:.1f} |" if seconds else "")
                  for stage, mib in pipe["peak_memory_mib"].items()]
    return "\n".join(lines)


def ratio_text(m: dict) -> str:
    """project / PyTorch: one round's, or the median of the rounds' with their range."""
    ratios = [r["ratio"] for r in m.get("rounds", [])]
    if len(ratios) > 1:
        return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"
    return f"{m['seconds_per_epoch'] / m['peer']['seconds_per_epoch']:.2f}"


def peer_threads(result: dict) -> str:
    threads = {m["peer"]["threads"] for m in result["models"].values() if "peer" in m}
    return ", ".join(map(str, sorted(threads)))


def bench_with_peer(name: str, epochs: int, gflops: float, python: Path, rounds: int, threads: int) -> dict:
    """Project and peer alternately, `rounds` times: the machine's load drifts, so each ratio compares two
    neighbouring measurements. Reports the median round's project and peer numbers."""
    runs = []
    for _ in range(rounds):
        project = bench_model(name, epochs, gflops)
        peer = bench_peer(python, name, epochs, threads)
        runs.append((project, peer))
        print(f"{name}: {project['seconds_per_epoch']:.2f} s/epoch, PyTorch eager "
              f"{peer['seconds_per_epoch']:.2f} s/epoch", flush=True)
    ratios = [project["seconds_per_epoch"] / peer["seconds_per_epoch"] for project, peer in runs]
    project, peer = runs[sorted(range(rounds), key=ratios.__getitem__)[(rounds - 1) // 2]]
    return {**project, "peer": peer, "rounds": [
        {"seconds_per_epoch": p["seconds_per_epoch"], "peer_seconds_per_epoch": q["seconds_per_epoch"], "ratio": r}
        for (p, q), r in zip(runs, ratios)]}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs per model; the first is not counted")
    parser.add_argument("--no-pipeline", action="store_true", help="skip timing dvc repro")
    parser.add_argument("--readme", action="store_true",
                        help="put the table of benchmarks/latest.json in docs/speed.md")
    parser.add_argument("--peers", action="store_true",
                        help="also time PyTorch eager on every model (installs it in .bench-venv if missing)")
    parser.add_argument("--rounds", type=int,
                        help=f"with --peers: project/peer pairs per model (default {PEER_ROUNDS})")
    parser.add_argument("--peer-threads", type=int, help="with --peers: PyTorch's threads (default: every core)")
    parser.add_argument("--only-peered", action="store_true",
                        help="with --peers: skip the models without a peer and the data-size series")
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = PEER_ROUNDS if args.peers else 1
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, not {args.rounds}")
    return args


def main():
    args = parse_args()
    if args.readme:
        replace_marked_block(BENCH_PAGE, BENCH_START, BENCH_END, table(json.loads(OUT.read_text())))
        return

    n_train = len(data.load("train")[0])  # also: the pipeline has run (data/processed exists)
    python = ensure_peer_venv() if args.peers else None
    cores = machine.cpus_available()

    # The machine's GEMM rate: oneDNN's, on every core (set before TensorFlow's first op, which fixes it).
    use_threads(cores)
    gflops = gemm_gflops()
    result = {"machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
              "cpu": cpu_record(), "command": "python -m fmnist.speed.bench " + " ".join(sys.argv[1:]),
              "gemm_gflops": gflops, "rounds": args.rounds if args.peers else 1, "models": {}}
    threads = args.peer_threads or cores
    for name in paths.MODEL_NAMES:
        if args.peers and name in PEER_MODELS:
            result["models"][name] = bench_with_peer(name, args.epochs, gflops, python, args.rounds, threads)
        elif not (args.peers and args.only_peered):
            result["models"][name] = bench_model(name, args.epochs, gflops)
            print(f"{name}: {result['models'][name]['seconds_per_epoch']:.2f} s/epoch", flush=True)
    if not (args.peers and args.only_peered):
        result["lenet_seconds_per_epoch_by_train_size"] = bench_data_sizes(
            args.epochs, gflops, n_train, full_size_seconds=result["models"]["lenet"]["seconds_per_epoch"])
    if not args.no_pipeline:
        write_json(OUT, result)  # the models' numbers survive a pipeline run that fails
        result["pipeline"] = bench_pipeline()
    write_json(OUT, result)
    print(table(result))


if __name__ == "__main__":
    main()
