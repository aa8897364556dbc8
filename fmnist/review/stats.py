"""How much a result can move by chance: pure functions, no I/O (tested in tests/test_stats.py and
tests/test_verdicts.py).

A rerun on another CPU, or with another training seed, gives another sample of the same random quantity: the
seed study (`make seeds`, metrics/seeds.json) measures its spread, and the band below says how far two
independent runs may fall apart before the difference means something.

The rule for seed replicas (base against head, n seeds each, the same seeds on both sides)
------------------------------------------------------------------------------------------
* Interval: for each model, the differences d_s = head accuracy - base accuracy at seed s, s = 1..n, and the
  two-sided Student-t confidence interval for their mean, mean(d) +- t(1 - alpha/2, n - 1) * sd(d) / sqrt(n): the
  paired t interval. Paired, because seed s fixes the same split, initial weights, batch order and dropout
  masks at both revisions. The paired interval is valid whatever the correlation between base and head (a
  two-sample interval would be too narrow if the correlation were negative, and needlessly wide if positive);
  when the measured correlation is near 0, all pairing costs is n - 1 degrees of freedom instead of 2n - 2.
* What it is about: the mean over seeds of the accuracy on the fixed 10,000 test images. How a new set of
  images would move it is the test-set question McNemar's test (below) answers for single runs.
* Correction: k models are judged at once, so each model's interval is a Bonferroni interval at alpha / k
  (alpha = 0.05 for the family). The chance that any of the k verdicts says better or worse when no model
  changed is then at most alpha. The p-values are reported Bonferroni-adjusted, min(1, k * p).
* Words, with a margin m (0.005 = 0.5 points of accuracy):
    better / worse   the interval excludes 0 and does not lie inside (-m, +m): its sign is the direction (noted
                     "real, but possibly smaller than the margin" when it reaches inside the margin);
    equivalent       the whole interval lies inside (-m, +m) (noted "real but smaller than the margin" when it
                     also excludes 0);
    inconclusive     otherwise: the interval includes 0 and reaches beyond the margin, so more seeds are needed.
* Power: a verdict is given with its n and the smallest true difference the paired t test detects with 80 %
  power at that n and alpha / k (minimum_detectable_effect, exact with the noncentral t distribution).
  simulate_coverage checks, by resampling measured per-image predictions, that the interval covers the true
  difference as often as it claims.
"""
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize as scipy_optimize
from scipy import special as scipy_special
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


# Seed replicas: n retrainings per revision, paired by seed (the rule is in the module docstring).

FAMILY_ALPHA = 0.05  # chance that any model's verdict says better or worse when nothing changed
MARGIN = 0.005  # accuracy difference (a fraction: 0.5 points) below which two revisions count as equivalent
POWER = 0.8  # power at which minimum_detectable_effect is stated
MAX_SEEDS = 1000  # seeds_for_equivalence gives up beyond this


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")


@dataclass(frozen=True)
class PairedDifference:
    """One model's replicas at two revisions, paired by seed; every accuracy is a fraction."""
    n: int  # seeds: pairs
    alpha: float  # the interval is two-sided (1 - alpha)
    base_mean: float
    base_sd: float
    head_mean: float
    head_sd: float
    mean_difference: float  # mean of head - base
    sd_difference: float  # sample sd (n - 1) of head - base
    low: float  # the paired t interval for the mean difference
    high: float
    p_value: float  # two-sided paired t test of "mean difference = 0"
    correlation: float | None  # Pearson's r of base and head; None when either side has sd 0

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def paired_difference(base: Sequence[float], head: Sequence[float], alpha: float = FAMILY_ALPHA) -> PairedDifference:
    """Mean head - base accuracy over seeds, its paired t interval and p-value, and the spread of each side.

    Paired t, because the replicas are paired by seed (same split, initial weights, batch order): it is valid
    whatever the correlation of base and head, and `correlation` shows whether pairing helped. When every
    difference is the same the sd is 0: the interval is that one value, and p is 1 if it is 0, else 0."""
    _check_alpha(alpha)
    a, b = np.asarray(base, dtype=float), np.asarray(head, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"base and head need one accuracy per seed, the same seeds on both sides; "
                         f"got {a.size} and {b.size} values")
    n = a.size
    if n < 2:
        raise ValueError(f"a paired interval needs at least 2 seeds, got {n}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("accuracies must be finite numbers")
    d = b - a
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0:
        low = high = mean
        p_value = 1.0 if mean == 0 else 0.0
    else:
        standard_error = sd / math.sqrt(n)
        # scipy.special's Student t functions: the same numbers as scipy.stats.t, without its per-call cost
        half = float(scipy_special.stdtrit(n - 1, 1 - alpha / 2)) * standard_error
        low, high = mean - half, mean + half
        p_value = float(min(1.0, 2 * scipy_special.stdtr(n - 1, -abs(mean) / standard_error)))
    base_sd, head_sd = float(a.std(ddof=1)), float(b.std(ddof=1))
    correlation = None
    if base_sd > 0 and head_sd > 0:
        covariance = float(((a - a.mean()) * (b - b.mean())).sum()) / (n - 1)
        correlation = max(-1.0, min(1.0, covariance / (base_sd * head_sd)))
    return PairedDifference(n=n, alpha=alpha, base_mean=float(a.mean()), base_sd=base_sd,
                            head_mean=float(b.mean()), head_sd=head_sd, mean_difference=mean, sd_difference=sd,
                            low=low, high=high, p_value=p_value, correlation=correlation)


@dataclass(frozen=True)
class Verdict:
    """A verdict's word (better, worse, equivalent or inconclusive) and an optional note qualifying it."""
    word: str
    note: str = ""


REAL_BUT_SMALL = "real but smaller than the margin"
REAL_MAYBE_SMALL = "real, but possibly smaller than the margin"


def paired_verdict(difference: PairedDifference, margin: float = MARGIN) -> Verdict:
    """better / worse / equivalent / inconclusive from the interval and the margin (rule: module docstring).

    Only the interval decides, so the family's alpha is whatever `difference` was computed at (alpha / k).
    Inside the margin means strictly inside: an interval touching +-margin is not shown to be within it."""
    if not margin > 0:
        raise ValueError(f"margin must be > 0, got {margin}")
    low, high = difference.low, difference.high
    if -margin < low and high < margin:
        return Verdict("equivalent", REAL_BUT_SMALL if difference.excludes_zero else "")
    if low > 0:
        return Verdict("better", "" if low >= margin else REAL_MAYBE_SMALL)
    if high < 0:
        return Verdict("worse", "" if high <= -margin else REAL_MAYBE_SMALL)
    return Verdict("inconclusive")


def adjusted_alpha(alpha: float, k: int) -> float:
    """Bonferroni: each of k models' intervals at alpha / k keeps the family's chance of a false verdict <= alpha.

    Bonferroni rather than Holm: it widens intervals, and intervals are what the verdicts read; Holm adjusts
    p-values and has no matching intervals."""
    _check_alpha(alpha)
    if k < 1:
        raise ValueError(f"a family has at least 1 model, got k={k}")
    return alpha / k


def bonferroni_p(p_value: float, k: int) -> float:
    """The p-value to compare with the family's alpha when k models are tested at once: min(1, k * p)."""
    if not 0 <= p_value <= 1 or k < 1:
        raise ValueError(f"needs 0 <= p <= 1 and k >= 1; got p={p_value}, k={k}")
    return min(1.0, k * p_value)


def _power(noncentrality: float, df: int, critical: float) -> float:
    """Probability that |T| > critical when T is noncentral t: the two-sided t test's power.

    The lower tail P(T < -c | delta) is computed as P(T > c | -delta): the same by symmetry, and scipy's nct.cdf
    returns NaN there for 1 degree of freedom and large delta."""
    return float(scipy_stats.nct.sf(critical, df, noncentrality) + scipy_stats.nct.sf(critical, df, -noncentrality))


def minimum_detectable_effect(sd_diff: float, n: int, alpha: float = FAMILY_ALPHA, power: float = POWER) -> float:
    """The smallest true mean difference that the two-sided paired t test at `alpha` detects with `power`.

    With n pairs whose differences have sd sigma, t = mean / (s / sqrt(n)) follows a noncentral t with n - 1
    degrees of freedom and noncentrality delta = mu * sqrt(n) / sigma; the effect is the delta at which
    P(|t| > t(1 - alpha/2, n - 1)) = power, times sigma / sqrt(n). Exact, not the normal approximation
    (z(1 - alpha/2) + z(power)) * sigma / sqrt(n), which for 8 seeds understates it by 14 %."""
    _check_alpha(alpha)
    if n < 2 or sd_diff < 0 or not alpha < power < 1:
        raise ValueError(f"needs n >= 2, sd >= 0 and alpha < power < 1; got n={n}, sd={sd_diff}, power={power}")
    if sd_diff == 0:
        return 0.0
    df = n - 1
    critical = float(scipy_stats.t.ppf(1 - alpha / 2, df))
    high = critical + float(scipy_stats.norm.ppf(power)) + 1
    while _power(high, df, critical) < power:
        high *= 2
    delta = scipy_optimize.brentq(lambda nc: _power(nc, df, critical) - power, 0.0, high, xtol=1e-12, rtol=1e-12)
    return delta * sd_diff / math.sqrt(n)


def seeds_for_equivalence(mean_diff: float, sd_diff: float, margin: float = MARGIN, alpha: float = FAMILY_ALPHA,
                          max_seeds: int = MAX_SEEDS) -> int | None:
    """How many seeds an `equivalent` verdict would need if the measured mean and sd were the truth.

    The smallest n >= 2 at which the interval's half-width t(1 - alpha/2, n - 1) * sd / sqrt(n) is below
    margin - |mean| (the interval is then inside the margin). None when |mean| >= margin (no number of seeds
    can do it) or when more than `max_seeds` would be needed. A planning figure: the measured mean and sd are
    themselves uncertain."""
    _check_alpha(alpha)
    if not margin > 0 or sd_diff < 0 or max_seeds < 2:
        raise ValueError(f"needs margin > 0, sd >= 0 and max_seeds >= 2; got {margin}, {sd_diff}, {max_seeds}")
    room = margin - abs(mean_diff)
    if room <= 0:
        return None
    n = np.arange(2, max_seeds + 1)
    half_width = scipy_stats.t.ppf(1 - alpha / 2, n - 1) * sd_diff / np.sqrt(n)
    enough = np.flatnonzero(half_width < room)
    return int(n[enough[0]]) if enough.size else None


@dataclass(frozen=True)
class Comparison:
    """One model's place in a family verdict: its interval at alpha / k, the verdict, and what it rests on."""
    difference: PairedDifference  # at the Bonferroni alpha / k
    verdict: Verdict
    p_adjusted: float  # Bonferroni: min(1, k * p)
    detectable: float  # minimum_detectable_effect at n, alpha / k and POWER, from the measured sd of differences


def compare_models(pairs: Mapping[str, tuple[Sequence[float], Sequence[float]]], alpha: float = FAMILY_ALPHA,
                   margin: float = MARGIN) -> dict[str, Comparison]:
    """Every model's verdict when k = len(pairs) models are judged at once: {model: (base, head)} -> Comparison.

    The family's chance of any false better/worse is kept <= alpha by Bonferroni intervals (alpha / k each)."""
    if not pairs:
        raise ValueError("no models to compare")
    k = len(pairs)
    each = adjusted_alpha(alpha, k)
    comparisons = {}
    for model, (base, head) in pairs.items():
        difference = paired_difference(base, head, each)
        comparisons[model] = Comparison(
            difference=difference, verdict=paired_verdict(difference, margin),
            p_adjusted=bonferroni_p(difference.p_value, k),
            detectable=minimum_detectable_effect(difference.sd_difference, difference.n, each))
    return comparisons


@dataclass(frozen=True)
class Coverage:
    """How often simulated studies' intervals covered the true difference."""
    covered: int
    studies: int
    with_replacement: bool  # the pool had fewer than 2 * n_seeds replicas, so replicas were drawn with replacement

    @property
    def fraction(self) -> float:
        return self.covered / self.studies

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Clopper-Pearson interval for the true coverage: how far `fraction` may be from it by chance."""
        ci = scipy_stats.binomtest(self.covered, self.studies).proportion_ci(confidence)
        return float(ci.low), float(ci.high)

    @property
    def note(self) -> str:
        return ("fewer replicas than 2 x seeds: drawn with replacement, so base and head may share one"
                if self.with_replacement else "")


STUDIES_PER_BATCH = 100  # simulated studies computed together (memory: this x test images)


def simulate_coverage(correct: np.ndarray, shift: float, n_seeds: int, n_studies: int, alpha: float,
                      rng: np.random.Generator) -> Coverage:
    """How often the paired interval covers a known difference, simulated from measured per-image predictions.

    `correct` is (replicas x test images), True where that replica of ONE configuration classified the image
    right. Each study (1) resamples the test images with replacement, (2) draws 2 * n_seeds distinct replicas
    (with replacement if the pool is smaller), the first half as base and the second as head, (3) moves each
    head replica by `shift`: each image it gets wrong (for a negative shift: right) on the resampled set is
    flipped with probability q = shift / (1 - its accuracy there) (or -shift / accuracy); copies of one image
    flip together, and (4) computes paired_difference at `alpha`.
    The truth is `shift`: the expected head - base accuracy on that resampled test set, because base and head
    replicas come from the same pool (equal expected accuracy before the shift) and q makes each head
    replica's expected gain on that set exactly `shift`. Two disjoint halves of a finite pool have
    Var(mean difference) = 2 S^2 / n, as independent draws would, so the interval's variance is not biased."""
    correct = np.asarray(correct, dtype=bool)
    if correct.ndim != 2 or correct.shape[0] < 2 or correct.shape[1] < 1:
        raise ValueError(f"correct must be (replicas >= 2) x (images >= 1), got shape {correct.shape}")
    if n_seeds < 2 or n_studies < 1:
        raise ValueError(f"needs n_seeds >= 2 and n_studies >= 1; got {n_seeds}, {n_studies}")
    _check_alpha(alpha)
    replicas, images = correct.shape
    with_replacement = replicas < 2 * n_seeds
    ever_wrong = np.flatnonzero(~correct.all(axis=0))  # the images some replica gets wrong: the only ones to count
    wrong = (~correct[:, ever_wrong]).T.astype(np.float32)  # float32 sums of 0/1 are exact below 2**24
    covered = 0
    for start in range(0, n_studies, STUDIES_PER_BATCH):
        studies = min(STUDIES_PER_BATCH, n_studies - start)
        # times[s, j]: how often test image j occurs in study s's resampled test set
        times = np.stack([np.bincount(rng.integers(0, images, images), minlength=images) for _ in range(studies)])
        multiplicity = np.arange(1, times.max() + 1)
        # by_times[k-1, s, r]: images occurring k times in study s that replica r gets wrong; and all of them
        wrong_by_times = np.stack([(times[:, ever_wrong] == k).astype(np.float32) @ wrong
                                   for k in multiplicity]).astype(np.int64)
        all_by_times = np.stack([(times == k).sum(axis=1) for k in multiplicity])[:, :, None]
        accuracy = 1 - np.tensordot(multiplicity, wrong_by_times, 1) / images  # studies x replicas
        if with_replacement:
            drawn = rng.integers(0, replicas, (studies, 2 * n_seeds))
        else:
            drawn = np.argsort(rng.random((studies, replicas)), axis=1)[:, :2 * n_seeds]
        base_drawn, head_drawn = drawn[:, :n_seeds], drawn[:, n_seeds:]
        base = np.take_along_axis(accuracy, base_drawn, axis=1)
        head = np.take_along_axis(accuracy, head_drawn, axis=1)
        head_wrong = np.take_along_axis(wrong_by_times, head_drawn[None], axis=2)
        if shift >= 0:
            flippable, room, sign = head_wrong, 1 - head, 1
        else:
            flippable, room, sign = all_by_times - head_wrong, head, -1
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(room > 0, abs(shift) / room, np.inf if shift else 0.0)
        if np.any(q > 1):
            raise ValueError(f"a shift of {shift} needs more flips than some head replica has images to flip")
        flipped = rng.binomial(flippable, q[None])
        head = head + sign * np.tensordot(multiplicity, flipped, 1) / images
        for base_accuracies, head_accuracies in zip(base, head):
            difference = paired_difference(base_accuracies, head_accuracies, alpha)
            covered += difference.low <= shift <= difference.high
    return Coverage(covered=int(covered), studies=n_studies, with_replacement=with_replacement)


# `make check` on another machine: how far may a rerun's headline metrics move before the check fails?
#
# A rerun on another CPU kind is another draw of the seed noise. The check judges every headline metric of
# every model (6 x 4 = 24 here); at 99 % each, a correct commit would fail some 1 - 0.99^24 = 21 % of the time.
# The family-wise rate of one check is held at CHECK_FAMILY_ALPHA by a weighted Bonferroni split: most of it goes
# to the test accuracies, the number reviewers read (so that a shift of about 1 point of MLP test accuracy still
# fails with 8 seeds), the rest is spread over the other metrics, whose bands are wider. Their sum is the family's
# alpha, so the rate is at most CHECK_FAMILY_ALPHA whatever the metrics' correlation; check_false_alarm_rate
# measures it by simulation from the seed study's own runs.

CHECK_FAMILY_ALPHA = 0.01  # chance that one `make check` of a correct commit on another machine fails
HEADLINE_METRIC = "test_accuracy"
HEADLINE_SHARE = 0.8  # of CHECK_FAMILY_ALPHA, spent on the models' test accuracies


def check_alphas(metrics: Sequence[str], n_models: int, family_alpha: float = CHECK_FAMILY_ALPHA,
                 headline: str = HEADLINE_METRIC, share: float = HEADLINE_SHARE) -> dict[str, float]:
    """Each metric's two-sided alpha in one model's check: the headline metric gets `share` of the family's
    alpha, split over the models; the others split the rest. The alphas of all models sum to family_alpha."""
    if headline not in metrics or n_models < 1 or not 0 < share < 1:
        raise ValueError(f"needs {headline} among the metrics, n_models >= 1 and 0 < share < 1")
    _check_alpha(family_alpha)
    others = len(metrics) - 1
    rest = family_alpha * (1 - share) / (n_models * others) if others else 0.0
    headline_alpha = family_alpha * (share if others else 1.0) / n_models
    return {metric: headline_alpha if metric == headline else rest for metric in metrics}


def check_band(sd: float, n: int, alpha: float) -> float:
    """How far a rerun may move a metric whose spread over n seeds is sd: the two-sided (1 - alpha) prediction
    interval of the difference of two runs, t(n - 1) * sd * sqrt(2) (difference_band at confidence 1 - alpha)."""
    return difference_band(sd, n, 1 - alpha)


def check_false_alarm_rate(runs_by_model: Mapping[str, np.ndarray], alphas: Mapping[str, float],
                           metrics: Sequence[str], studies: int, rng: np.random.Generator) -> float:
    """How often `make check` would fail a correct commit: simulated from the seed study's runs.

    For each model, runs x metrics values (the seed study's `runs`). A simulated world draws, per model, n + 2
    runs from a normal distribution with the runs' own means, sds and correlations: n make the seed study (its sds
    set the bands), the other two are the committed run and the rerun. The check fails when any metric of any model
    moves by more than its band. Returns the fraction of `studies` worlds in which it failed."""
    failed = np.zeros(studies, dtype=bool)
    for runs in runs_by_model.values():
        runs = np.asarray(runs, dtype=np.float64)
        n = runs.shape[0]
        covariance = np.cov(runs, rowvar=False) + 1e-18 * np.eye(runs.shape[1])
        draws = rng.multivariate_normal(runs.mean(axis=0), covariance, size=(studies, n + 2), method="eigh")
        sd = draws[:, :n, :].std(axis=1, ddof=1)
        quantile = np.array([scipy_stats.t.ppf(1 - alphas[m] / 2, n - 1) for m in metrics])
        moved = np.abs(draws[:, n, :] - draws[:, n + 1, :])
        failed |= (moved > quantile * sd * np.sqrt(2)).any(axis=1)
    return float(failed.mean())
