"""The per-class scores evaluate writes (fmnist.evaluation) against scikit-learn's, to the bit."""
import numpy as np
import pytest
from sklearn.metrics import classification_report, confusion_matrix

from fmnist import evaluation

N_CLASSES = 10


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_confusion_matrix_and_per_class_scores_are_scikit_learns(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, N_CLASSES, 500).astype(np.uint8)
    predictions = np.where(rng.random(500) < 0.7, labels, rng.integers(0, N_CLASSES, 500))
    predictions[predictions == 3] = 4  # class 3 is never predicted: its precision is 0/0
    labels[labels == 7] = 8  # class 7 never occurs: its recall is 0/0
    predictions[(predictions == 7) & (seed == 2)] = 8  # and, for one seed, its F1 as well

    matrix = evaluation.confusion_matrix(labels, predictions, N_CLASSES)
    np.testing.assert_array_equal(matrix, confusion_matrix(labels, predictions, labels=range(N_CLASSES)))
    report = classification_report(labels, predictions, labels=range(N_CLASSES), output_dict=True, zero_division=0)
    scores = evaluation.per_class_scores(matrix)
    for kind, values in scores.items():
        assert [float(v) for v in values] == [report[str(c)][kind] for c in range(N_CLASSES)], kind
    assert scores["precision"][3] == 0 and scores["recall"][7] == 0
