"""Scores of predicted probabilities against the true classes: numpy only, shared by evaluate and the seed study."""
import numpy as np


def cross_entropy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean -log p(true class), clipped as Keras clips (1e-7), so it equals the training loss."""
    picked = probabilities[np.arange(len(labels)), labels].astype(np.float64)
    return float(-np.mean(np.log(np.clip(picked, 1e-7, 1.0))))


def test_scores(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """Test loss and accuracy (3.3.1, 4.2.4)."""
    return {"loss": cross_entropy(probabilities, labels),
            "accuracy": float(np.mean(probabilities.argmax(axis=1) == labels))}
