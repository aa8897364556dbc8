"""Scores of predictions against the true classes: numpy only, shared by evaluate and the seed study."""
import numpy as np


def cross_entropy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean -log p(true class), clipped as Keras clips (1e-7), so it equals the training loss."""
    picked = probabilities[np.arange(len(labels)), labels].astype(np.float64)
    return float(-np.mean(np.log(np.clip(picked, 1e-7, 1.0))))


def test_scores(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """Test loss and accuracy (3.3.1, 4.2.4)."""
    return {"loss": cross_entropy(probabilities, labels),
            "accuracy": float(np.mean(probabilities.argmax(axis=1) == labels))}


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, n_classes: int) -> np.ndarray:
    """counts[actual, predicted]: how often each true class got each predicted class (4.2.5)."""
    pairs = labels.astype(np.int64) * n_classes + predictions.astype(np.int64)
    return np.bincount(pairs, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_scores(matrix: np.ndarray) -> dict:
    """Each class's precision, recall and F1 from a confusion matrix, computed as scikit-learn's
    classification_report computes them with zero_division=0: a score whose denominator is 0 is 0."""
    true_positives = np.diag(matrix).astype(np.float64)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    return {"precision": _divide(true_positives, predicted), "recall": _divide(true_positives, actual),
            "f1-score": _divide(2 * true_positives, actual + predicted)}


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    safe = np.where(denominator == 0, 1, denominator).astype(np.float64)
    return np.where(denominator == 0, 0.0, numerator / safe)
