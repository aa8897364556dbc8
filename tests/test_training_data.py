"""The batches training and inference read (fmnist.training): every row once per epoch, a new order each
epoch, the same orders for the same seed, and the last batch smaller when the batch size does not divide."""
import numpy as np
import pytest

N, FEATURES, BATCH = 10, 3, 4


def data():
    x = np.arange(N * FEATURES, dtype=np.float32).reshape(N, FEATURES)
    return x, np.arange(N, dtype=np.uint8)  # label i belongs to row i


def epochs_of_rows(seed, epochs=3, batch_size=BATCH):
    """The row ids of each epoch's batches, read from one iterator as fit reads them."""
    from fmnist import training  # TensorFlow: when a test needs it, not at collection (conftest.py says why)

    x, y = data()
    iterator = iter(training.shuffled_epochs(x, y, batch_size, seed))
    epochs_read = []
    for _ in range(epochs):
        batches = [next(iterator) for _ in range(training.steps_per_epoch(N, batch_size))]
        for features, labels in batches:  # each row still carries its own label
            np.testing.assert_array_equal(features.numpy(), x[labels.numpy()])
        epochs_read.append([labels.numpy().tolist() for features, labels in batches])
    return epochs_read


def test_every_epoch_is_a_new_permutation_of_all_rows_in_batches():
    epochs_read = epochs_of_rows(seed=0)
    for batches in epochs_read:
        assert [len(b) for b in batches] == [4, 4, 2]
        assert sorted(sum(batches, [])) == list(range(N))
    orders = [sum(batches, []) for batches in epochs_read]
    assert len({tuple(order) for order in orders}) == len(orders)
    assert orders[0] != list(range(N))


def test_the_orders_are_a_function_of_the_seed():
    assert epochs_of_rows(seed=0) == epochs_of_rows(seed=0)
    assert epochs_of_rows(seed=0) != epochs_of_rows(seed=1)


@pytest.mark.parametrize("batch_size", [1, 5, 10, 64])
def test_a_batch_size_that_divides_or_exceeds_the_rows(batch_size):
    (batches,) = epochs_of_rows(seed=0, epochs=1, batch_size=batch_size)
    assert [len(b) for b in batches] == [min(batch_size, N)] * (-(-N // batch_size))
    assert sorted(sum(batches, [])) == list(range(N))


def test_inference_batches_are_in_order():
    from fmnist import predict as inference

    x, y = data()
    with_labels = list(inference.batches(x, y, batch_size=BATCH))
    assert [labels.numpy().tolist() for _, labels in with_labels] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    features_only = list(inference.batches(x, batch_size=BATCH))
    np.testing.assert_array_equal(np.concatenate([f.numpy() for f in features_only]), x)
