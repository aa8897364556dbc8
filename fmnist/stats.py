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
