"""How much a result can move by chance: pure functions, no I/O (tested in tests/test_stats.py).

A rerun on another CPU, or with another training seed, gives another sample of the same random quantity: the
seed study (`make seeds`, metrics/seeds.json) measures its spread, and the band below says how far two
independent runs may fall apart before the difference means something.
"""
import math
import statistics

from scipy import stats as scipy_stats

# Two runs are "the same result" when they differ by less than the 99 % prediction interval of the difference
# of two independent runs. 99 %, not 95 %: `make check` tests some 25 headline metrics at once, and a
# genuine rerun on another CPU should fail it about once in a hundred metrics, not once in twenty.
BAND_CONFIDENCE = 0.99


def summarize(values) -> dict:
    """mean, sample standard deviation (n - 1), min, max and n of a list of numbers."""
    values = [float(v) for v in values]
    if len(values) < 2:
        raise ValueError(f"a spread needs at least 2 values, got {len(values)}")
    return {"mean": statistics.fmean(values), "sd": statistics.stdev(values),
            "min": min(values), "max": max(values), "n": len(values)}


def difference_band(sd: float, n: int, confidence: float = BAND_CONFIDENCE) -> float:
    """Half-width of the prediction interval for the difference between two independent runs.

    Each run is one draw with standard deviation sigma, so their difference has sd sigma * sqrt(2); sigma is
    estimated by `sd` from `n` seeds, so the difference over (sd * sqrt(2)) follows Student's t with n - 1
    degrees of freedom. This is a band for one new run against one committed run, not the standard error of a
    mean: it stays wide however many seeds were run."""
    if n < 2 or sd < 0 or not 0 < confidence < 1:
        raise ValueError(f"needs n >= 2, sd >= 0 and 0 < confidence < 1; got n={n}, sd={sd}, confidence={confidence}")
    return float(scipy_stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd * math.sqrt(2)


# Paired comparison of two revisions' predictions on the same test images (`make report`).

VERDICT_ALPHA = 0.05  # McNemar's p below which a change in the predictions is more than chance


def mcnemar_exact(fixed: int, broken: int) -> float:
    """Two-sided exact McNemar p-value for a paired comparison of two classifiers.

    Only the discordant images carry information: `fixed` (wrong at base, right at head) and `broken` (right
    at base, wrong at head). If the two revisions were equally good, each discordant image would fall either
    way with probability 1/2, so min(fixed, broken) follows Binomial(fixed + broken, 1/2); the p-value doubles
    its lower tail. Exact, not the chi-square approximation, which is poor for the few discordant images a
    small change gives."""
    if fixed < 0 or broken < 0:
        raise ValueError(f"counts must be >= 0; got fixed={fixed}, broken={broken}")
    discordant = fixed + broken
    if discordant == 0:
        return 1.0
    return min(1.0, 2 * float(scipy_stats.binom.cdf(min(fixed, broken), discordant, 0.5)))


def fixed_and_broken(actual, base, head) -> dict:
    """Per class of the true label: how many test images the change fixed and how many it broke.

    `actual`, `base` and `head` are the labels and the two revisions' predictions, one per test image in the
    same order. Returns {class: {"fixed": n, "broken": n}} for every class that occurs in `actual`."""
    if not len(actual) == len(base) == len(head):
        raise ValueError(f"need one prediction per image; got {len(actual)} labels, "
                         f"{len(base)} and {len(head)} predictions")
    counts = {label: {"fixed": 0, "broken": 0} for label in dict.fromkeys(actual)}
    for label, before, after in zip(actual, base, head):
        if before != label and after == label:
            counts[label]["fixed"] += 1
        elif before == label and after != label:
            counts[label]["broken"] += 1
    return counts


def verdict(identical: bool, change: float, band, p_value: float, alpha: float = VERDICT_ALPHA) -> str:
    """One word for a model's change between two revisions: unchanged, better, worse or within noise.

    `identical`: every test image got the same prediction at both revisions. `change` is head minus base test
    accuracy and `band` the seed-noise band (difference_band), both as fractions; `p_value` is McNemar's.
    `better` or `worse` only when the change is beyond the band AND p < alpha: the band says the change is
    larger than retraining with another seed gives, the test says it is larger than the luck of which images
    are in the test set. Either alone is not enough. Without a band (None: no seed study for the model) the
    first condition cannot be shown, so the verdict is at most `within noise`."""
    if identical:
        return "unchanged"
    if band is not None and abs(change) > band and p_value < alpha:
        return "better" if change > 0 else "worse"
    return "within noise"
