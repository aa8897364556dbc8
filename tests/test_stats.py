"""The statistics that decide verdicts, on cases whose answers are known."""
import math

import pytest
from scipy import stats as scipy_stats

from fmnist.review import stats


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


def test_mcnemar_without_discordant_images_is_1():
    assert stats.mcnemar_exact(0, 0) == 1.0


def test_mcnemar_ten_fixed_none_broken_is_2_in_1024():
    # Under "equally good" each of the 10 discordant images falls either way with p 1/2: 10-0 has probability
    # 1/1024, and 0-10 is as extreme on the other side.
    assert stats.mcnemar_exact(10, 0) == pytest.approx(2 / 1024, rel=1e-12)
    assert stats.mcnemar_exact(0, 10) == stats.mcnemar_exact(10, 0)


def test_mcnemar_balanced_counts_give_1():
    assert stats.mcnemar_exact(7, 7) == 1.0


@pytest.mark.parametrize("fixed, broken", [(520, 460), (3000, 2890), (41, 17)])
def test_mcnemar_matches_scipys_exact_binomial_test(fixed, broken):
    expected = scipy_stats.binomtest(fixed, fixed + broken, 0.5, alternative="two-sided").pvalue
    assert stats.mcnemar_exact(fixed, broken) == pytest.approx(expected, rel=1e-9)


def test_mcnemar_refuses_negative_counts():
    with pytest.raises(ValueError):
        stats.mcnemar_exact(-1, 3)


def test_fixed_and_broken_count_per_true_class():
    actual = ["Bag", "Bag", "Coat", "Coat", "Shirt"]
    base = ["Bag", "Coat", "Coat", "Shirt", "Coat"]
    head = ["Coat", "Bag", "Coat", "Coat", "Bag"]  # Bag: one broken, one fixed; Coat: one fixed; Shirt: never right
    assert stats.fixed_and_broken(actual, base, head) == {
        "Bag": {"fixed": 1, "broken": 1}, "Coat": {"fixed": 1, "broken": 0}, "Shirt": {"fixed": 0, "broken": 0}}


def test_fixed_and_broken_refuses_lists_of_different_lengths():
    with pytest.raises(ValueError, match="one prediction per image"):
        stats.fixed_and_broken(["Bag"], ["Bag"], [])


@pytest.mark.parametrize("identical, change, band, p, expected", [
    (True, 0.0, 0.01, 1.0, "unchanged"),
    (False, +0.02, 0.01, 0.001, "better"),
    (False, -0.02, 0.01, 0.001, "worse"),
    (False, -0.02, 0.01, 0.20, "within noise"),   # beyond the band, but the test set does not support it
    (False, -0.005, 0.01, 0.001, "within noise"),  # significant, but another seed moves as much
    (False, -0.01, 0.01, 0.001, "within noise"),   # on the band's edge is inside it
    (False, -0.02, None, 0.001, "within noise"),   # no seed study: no band, so never better or worse
])
def test_verdict_needs_both_the_band_and_the_test(identical, change, band, p, expected):
    assert stats.verdict(identical, change, band, p) == expected
