"""The statistics that decide verdicts, on cases whose answers are known."""
import math

import pytest
from scipy import stats as scipy_stats

from fmnist import stats


def test_summarize_gives_the_sample_spread():
    summary = stats.summarize([0.89, 0.90, 0.91])
    assert summary["mean"] == pytest.approx(0.90)
    assert summary["sd"] == pytest.approx(0.01)  # n - 1 in the denominator: sqrt((1e-4 + 0 + 1e-4) / 2)
    assert (summary["min"], summary["max"], summary["n"]) == (0.89, 0.91, 3)


def test_summarize_refuses_a_single_value():
    with pytest.raises(ValueError, match="at least 2"):
        stats.summarize([0.9])


def test_difference_band_is_t_times_sd_times_root_two():
    # 5 seeds: 4 degrees of freedom, two-sided 99 %: t = 4.604094...
    assert stats.difference_band(0.001, 5) == pytest.approx(4.604094 * 0.001 * math.sqrt(2), rel=1e-6)
    assert stats.difference_band(0.001, 5, confidence=0.95) == pytest.approx(2.776445 * 0.001 * math.sqrt(2), rel=1e-6)


def test_difference_band_covers_its_confidence_of_simulated_run_pairs():
    """Draw a seed study and two further runs many times: the band should hold the runs' difference in about
    99 % of draws (it is a prediction interval, so it accounts for sd being estimated from 5 runs)."""
    rng = __import__("numpy").random.default_rng(0)
    draws = 4000
    inside = 0
    for _ in range(draws):
        study = rng.normal(0.9, 0.003, size=5)
        a, b = rng.normal(0.9, 0.003, size=2)
        inside += abs(a - b) <= stats.difference_band(study.std(ddof=1), 5)
    assert scipy_stats.binomtest(inside, draws, 0.99).pvalue > 0.001


@pytest.mark.parametrize("sd, n, confidence", [(0.1, 1, 0.99), (-0.1, 5, 0.99), (0.1, 5, 1.0)])
def test_difference_band_refuses_impossible_inputs(sd, n, confidence):
    with pytest.raises(ValueError):
        stats.difference_band(sd, n, confidence)
