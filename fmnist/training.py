"""How every model is trained: `train(...)`, the one function that the train stage, the seed study, the bench
and the op profiler call (nothing else calls Keras's `fit`; tests/test_training.py checks it), so that a change
to how a model trains reaches everything that measures it.

The speed tricks live here and in fmnist/models.py, each with why it exists and what it measured:
- FusedAdam: TensorFlow's fused Adam kernel, one op per variable instead of ~12 (MLP epoch 0.70-0.80 -> 0.55 s).
- steps_per_execution = one epoch: no return to Python between steps (MLP epoch ~1.7x faster than 1 step).
- shuffled_epochs: each epoch's permuted copy made by one gather while the previous epoch trains; batches are
  contiguous slices (Keras's per-batch gather of random rows: MLP epoch ~20 % longer).
- tf.data autotuning off: its thread made the end of about half the epochs wait up to ~1.7 s.
- A fixed thread count per model (params.yaml `threads`): the same bytes on any number of cores, and batches
  of 128 are faster on one thread than split over two.
- oneDNN's kernels on every CPU (fmnist/__init__.py) unless a model's params choose Eigen's (`onednn: false`).
- models.FastBatchNormalization: batch norm's training step in closed form, compiled by XLA (models.py).
"""
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from fmnist import models, use_threads
from fmnist.predict import NO_AUTOTUNE, as_written, batches, sliced
from fmnist.paths import CLASS_NAMES



def make_deterministic(seed: int, threads: int) -> None:
    """Seed Python, numpy and TensorFlow, make TensorFlow's ops deterministic and split each one over a fixed
    number of threads: same seed and thread count, same bytes, on any number of cores of one CPU kind."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    use_threads(threads)


def as_tensors(arrays: tuple) -> tuple:
    """A split's numpy arrays as TensorFlow tensors, made once and then read by fit, final_metrics and predict
    without another copy: tf.constant copies every numpy array it is given, and each copy of the 150 MB of
    training features took 0.3-0.5 s in a stage's new process (page faults on memory new to it)."""
    return tuple(tf.constant(a) for a in arrays)


def targets(labels, loss: str):
    """Integer class ids for the sparse cross-entropy; one-hot vectors for the categorical one."""
    return keras.utils.to_categorical(labels, len(CLASS_NAMES)) if loss == "categorical_crossentropy" else labels


@keras.saving.register_keras_serializable(package="fmnist")
class FusedAdam(keras.optimizers.Adam):
    """Keras's Adam, with each variable updated by TensorFlow's fused Adam kernel (`ResourceApplyAdam`, the one
    tf.keras 2 used): one op reads the gradient and updates the two moments and the weights in one pass, where
    Keras 3 runs ~12 ops per variable, and the step's scalars (the beta powers, the learning rate) are computed
    once per step instead of once per variable. The same update rule, variables and config as Keras's Adam;
    saved as Keras's Adam (models.standard_keras). MLP epoch 0.70-0.80 -> 0.55-0.58 s on 2 threads, CNNs
    unchanged (fewer, larger steps). One device, dense float32 gradients, no AMSGrad: what this project needs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.amsgrad:
            raise ValueError("FusedAdam: TensorFlow's fused Adam kernel has no AMSGrad; use keras.optimizers.Adam")

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        dtype = trainable_variables[0].dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.constant(self.beta_1, dtype), tf.constant(self.beta_2, dtype)
        beta_1_power, beta_2_power = tf.pow(beta_1, step), tf.pow(beta_2, step)
        learning_rate, epsilon = tf.cast(learning_rate, dtype), tf.constant(self.epsilon, dtype)
        for gradient, variable in zip(grads, trainable_variables):
            index = self._get_variable_index(variable)
            tf.raw_ops.ResourceApplyAdam(
                var=variable.handle, m=self._momentums[index].handle, v=self._velocities[index].handle,
                beta1_power=beta_1_power, beta2_power=beta_2_power, lr=learning_rate, beta1=beta_1, beta2=beta_2,
                epsilon=epsilon, grad=tf.convert_to_tensor(gradient, dtype))


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Batches per epoch, the last one smaller when batch_size does not divide n_train."""
    return -(-n_train // batch_size)


def _compile(model: keras.Model, p, n_train: int) -> None:
    """Adam (FusedAdam) with the params' learning rate, constant or cosine-decayed to 0 over all steps; the params' loss
    (a cross-entropy matching the target encoding); accuracy as the metric."""
    steps = p.epochs * steps_per_epoch(n_train, p.batch_size)
    learning_rate = (p.learning_rate if p.lr_schedule == "constant"
                     else keras.optimizers.schedules.CosineDecay(p.learning_rate, decay_steps=steps))
    # A whole epoch per call into the compiled TensorFlow function: no round trips through Python between
    # steps (32 steps per call made an MLP epoch ~1.7x faster than 1; the updates are the same).
    model.compile(optimizer=FusedAdam(learning_rate), loss=p.loss, metrics=["accuracy"],
                  steps_per_execution=steps_per_epoch(n_train, p.batch_size))


class EpochTimer(keras.callbacks.Callback):
    """Wall seconds of each epoch (training and validation)."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def shuffled_epochs(x, y, batch_size: int, seed: int) -> tf.data.Dataset:
    """Training batches of (x, y), epoch after epoch without end: epoch e (from 0) is the rows in the order of
    `stateless_shuffle` with seed (seed, e), cut into batches in order. Each epoch's permuted copy of the data
    is made with one gather, on a tf.data thread, while the previous epoch trains; the training step then reads
    each batch as a contiguous slice of that copy. Keras's way, a gather of random rows for every batch, made
    the MLP's epoch ~20 % longer (docs/speed.md). Read with one iterator for all epochs: fit's steps_per_epoch."""
    arrays, n = (tf.constant(x), tf.constant(y)), len(x)

    @as_written
    def permuted(epoch):
        order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=tf.stack([seed, epoch]))
        return tuple(tf.gather(a, order) for a in arrays)

    dataset = tf.data.Dataset.counter().map(permuted).prefetch(1).flat_map(
        as_written(lambda *rows: sliced(rows, batch_size)))
    return dataset.with_options(NO_AUTOTUNE)


def _fit(model: keras.Model, train, val, p, seed: int, callbacks=(), verbose=2) -> dict:
    """Train for p.epochs on batches shuffled anew every epoch (shuffled_epochs), validating after each; returns
    the history."""
    (x_train, y_train), (x_val, y_val) = train, val
    return model.fit(
        shuffled_epochs(x_train, targets(y_train, p.loss), p.batch_size, seed), epochs=p.epochs,
        steps_per_epoch=steps_per_epoch(len(x_train), p.batch_size),  # one iterator for all epochs
        validation_data=batches(x_val, targets(y_val, p.loss)), verbose=verbose, callbacks=list(callbacks),
        shuffle=False,  # the batches above are shuffled already
    ).history


def _final_metrics(model: keras.Model, history: dict, train, p) -> dict:
    """Loss and accuracy at the end of training: on the train split with the final weights in inference mode
    (no dropout, batch norm's moving statistics), so that train - validation is a fair overfitting gap, and on
    the validation split as the last epoch measured it."""
    train_loss, train_accuracy = model.evaluate(batches(train[0], targets(train[1], p.loss)), verbose=0)
    return {"train_loss": train_loss, "train_accuracy": train_accuracy,
            "val_loss": history["val_loss"][-1], "val_accuracy": history["val_accuracy"][-1]}




@dataclass(frozen=True)
class Trained:
    """What `train` returns."""

    model: keras.Model  # the trained model, with the project's fast layers (models.standard_keras to save it)
    history: dict[str, list[float]]  # per epoch: loss, accuracy, val_loss, val_accuracy
    final: dict[str, float]  # _final_metrics: train loss and accuracy in inference mode, last validation epoch
    epoch_seconds: list[float]  # wall seconds of each epoch, the first one tracing the graph
    probe_before: np.ndarray | None = None  # the model's output on `probe` before and after training
    probe_after: np.ndarray | None = None


def train(model_name: str, p, seed: int, train_split: tuple, val_split: tuple, *,
          callbacks: Sequence[keras.callbacks.Callback] = (), verbose: int = 0,
          probe: np.ndarray | None = None) -> Trained:
    """Model `model_name` built from its params section `p`, trained from `seed` for p.epochs on `train_split`
    and validated every epoch on `val_split` ((x, y) pairs, numpy arrays or tensors from as_tensors).

    Deterministic: the same params, seed, data and threads (p.threads) give the same weights to the byte on
    one CPU kind. TensorFlow's kernels (p.onednn) must have been chosen before it loaded (fmnist.use_onednn),
    and its threads before its first op: call use_threads(p.threads) before making tensors."""
    make_deterministic(seed, p.threads)
    train_split, val_split = _tensors(train_split), _tensors(val_split)
    model = models.build(model_name, p)
    _compile(model, p, n_train=len(train_split[0]))
    before = _output(model, probe)
    timer = EpochTimer()
    history = _fit(model, train_split, val_split, p, seed, callbacks=[*callbacks, timer], verbose=verbose)
    final = _final_metrics(model, history, train_split, p)
    return Trained(model, history, final, timer.seconds, before, _output(model, probe))


def _tensors(split: tuple) -> tuple:
    return tuple(a if isinstance(a, tf.Tensor) else tf.constant(a) for a in split)


def _output(model: keras.Model, x) -> np.ndarray | None:
    return None if x is None else keras.ops.convert_to_numpy(model(x, training=False))


def weights_digest(model: keras.Model) -> str:
    """sha256 of every weight's bytes in layer order: two trainings agree to the byte when their digests do."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()
