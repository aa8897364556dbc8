"""Models at work on data they do not learn from: validation and test batches in order, and predictions.
Apart from fmnist/training.py so that evaluate, which only predicts, depends on neither training nor the models'
code (its models load as plain Keras)."""
import keras
import tensorflow as tf

# Batch for validation and inference: no gradients, so a large batch is simply faster.
INFERENCE_BATCH = 2048
# tf.data's autotuning off: its background thread made the end of every iterator, i.e. of ~half the epochs,
# wait up to ~1.7 s with both cores idle (LeNet-5 with batch norm took 5.1 s or 3.4 s per epoch depending on it).
NO_AUTOTUNE = tf.data.Options()
NO_AUTOTUNE.autotune.enabled = False
# The input pipelines' functions have no Python control flow on tensors: traced as they are, without
# AutoGraph's rewrite of their source, which took ~0.3 s per process.
as_written = tf.autograph.experimental.do_not_convert


def sliced(arrays: tuple, batch_size: int) -> tf.data.Dataset:
    """The rows of `arrays` (tensors of equal length) in batches, in order, each batch a contiguous slice."""
    n = arrays[0].shape[0]
    full = n // batch_size
    whole = tuple(tf.reshape(a[:full * batch_size], (full, batch_size, *a.shape[1:])) for a in arrays)
    dataset = tf.data.Dataset.from_tensor_slices(whole)
    if n % batch_size:  # the last, smaller batch
        dataset = dataset.concatenate(tf.data.Dataset.from_tensors(tuple(a[full * batch_size:] for a in arrays)))
    return dataset


def batches(x, y=None, batch_size: int = INFERENCE_BATCH) -> tf.data.Dataset:
    """x (and y), numpy arrays or tensors, in batches, in order: for validation and inference."""
    dataset = sliced(tuple(tf.constant(a) for a in ((x,) if y is None else (x, y))), batch_size)
    if y is None:
        dataset = dataset.map(as_written(lambda x: x))  # a 1-tuple would reach the model as a tuple
    return dataset.with_options(NO_AUTOTUNE)


def predict(model: keras.Model, x, batch_size: int = INFERENCE_BATCH):
    """Softmax probabilities, N x 10."""
    return model.predict(batches(x, batch_size=batch_size), verbose=0)
