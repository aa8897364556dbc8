"""Where one epoch's time goes, op by op: TensorFlow's profiler over one epoch (after the epoch that traces
the graph) of a model as the train stage fits it, summed per op type and per op.

    python -m fmnist.speed.op_profile [lenet] [--top 15]

The model's kernels and threads are its params' (`onednn`, `threads`); run it under ONEDNN_MAX_CPU_ISA=AVX2 to
see another CPU kind's oneDNN kernels. Op types named _Mkl... are oneDNN's kernels; the others are TensorFlow's
own (Eigen). Durations are each op kernel's
wall time on the thread that ran it: ops running side by side on the two threads both count.
"""
import argparse
import collections
import os
import tempfile
from pathlib import Path



def op_durations(logdir: Path) -> dict:
    """Sum of durations (ms) and counts of the op-kernel events ("name:type") in the profile's xplane.pb."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    space.ParseFromString(next(logdir.rglob("*.xplane.pb")).read_bytes())
    ops = collections.defaultdict(lambda: [0.0, 0])
    for plane in space.planes:
        if plane.name != "/host:CPU":
            continue
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if ":" in name and not name.startswith(("Iterator", "$", "EagerLocalExecute")) and "::" not in name:
                    ops[name][0] += event.duration_ps / 1e9
                    ops[name][1] += 1
    return ops


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="lenet")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()

    from fmnist import data, params, use_onednn, use_threads

    p = params.load(f"train_{args.model}").model_copy(update={"epochs": 2})
    use_onednn(p.onednn)  # the model's kernels, as in its train stage

    import keras
    import tensorflow as tf

    from fmnist import training

    use_threads(p.threads)
    train, val = (training.as_tensors(data.load(split)) for split in ("train", "val"))
    logdir = Path(tempfile.mkdtemp(prefix="op-profile-"))

    class ProfileSecondEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                tf.profiler.experimental.start(str(logdir))

        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                tf.profiler.experimental.stop()

    seconds = training.train(args.model, p, params.load_seed(), train, val,
                             callbacks=[ProfileSecondEpoch()]).epoch_seconds
    ops = op_durations(logdir)
    by_type = collections.defaultdict(lambda: [0.0, 0])
    for name, (ms, count) in ops.items():
        by_type[name.rsplit(":", 1)[1]][0] += ms
        by_type[name.rsplit(":", 1)[1]][1] += count
    total = sum(ms for ms, _ in ops.values())
    print(f"{args.model}: profiled epoch {seconds[1]:.2f} s (unprofiled first epoch {seconds[0]:.2f} s, "
          f"with tracing); op kernels {total / 1e3:.2f} s in all; "
          f"ONEDNN_MAX_CPU_ISA={os.environ.get('ONEDNN_MAX_CPU_ISA', '-')}, "
          f"TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS', '-')}")
    print("\nby op type:                          ms   share  count")
    for kind, (ms, count) in sorted(by_type.items(), key=lambda kv: -kv[1][0])[:args.top]:
        print(f"  {kind:32s} {ms:8.0f} {ms / total:6.1%} {count:6d}")
    print("\nby op:")
    for name, (ms, count) in sorted(ops.items(), key=lambda kv: -kv[1][0])[:args.top]:
        print(f"  {name[-70:]:70s} {ms:8.0f} {ms / total:6.1%} {count:6d}")


if __name__ == "__main__":
    main()
