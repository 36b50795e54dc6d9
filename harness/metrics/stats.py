"""Intervals and tests shared by the metrics: percentile bootstrap (scipy) and Wilcoxon (scipy)."""
from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats


def mean_along(x, axis=-1):
    return np.mean(x, axis=axis)


mean_along.vectorized = True


def bootstrap_interval(data, statistic=np.mean, n_resamples: int = 1000, confidence: float = 0.95,
                       seed: int = 0, paired: bool = False) -> list[float] | None:
    """Percentile bootstrap interval of `statistic`; None when there are fewer than 2 observations.

    data: one array, or a tuple of equal-length arrays with paired=True (resampled together).
    A statistic with `vectorized = True` takes `axis` and is evaluated on all resamples at once (scipy
    draws the same resamples either way, so the interval is the same); np.mean is replaced by one.
    """
    if statistic is np.mean:
        statistic = mean_along
    arrays = data if isinstance(data, tuple) else (np.asarray(data, dtype=np.float64),)
    n = len(arrays[0])
    if n < 2:
        return None
    if all(np.ptp(a) == 0 for a in arrays) and not paired:
        value = float(statistic(*arrays))
        return [value, value]
    with warnings.catch_warnings():  # a resample may be constant: its statistic is NaN and is dropped below
        warnings.simplefilter("ignore")
        res = stats.bootstrap(arrays, statistic, n_resamples=n_resamples, confidence_level=confidence,
                              method="percentile", paired=paired,
                              vectorized=bool(getattr(statistic, "vectorized", False)),
                              random_state=np.random.default_rng(seed))
    dist = res.bootstrap_distribution
    dist = dist[np.isfinite(dist)]
    if len(dist) < max(10, n_resamples // 2):
        return None
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(dist, [alpha, 1 - alpha])
    return [float(lo), float(hi)]


def finite(values) -> np.ndarray:
    """The finite values of an array (model scores are NaN for images a run did not keep)."""
    values = np.asarray(values, dtype=np.float64)
    return values[np.isfinite(values)]


def value_entry(value, n: int, interval=None, higher_is_better: bool | None = True, **extra) -> dict:
    """The shape every number in metrics.json takes."""
    out = {"value": None if value is None or (isinstance(value, float) and np.isnan(value)) else float(value),
           "n": int(n), "interval": interval, "higher_is_better": higher_is_better}
    out.update(extra)
    return out


def wilcoxon_floor(n: int) -> float:
    """The smallest two-sided p-value the exact Wilcoxon signed-rank test can reach with n pairs:
    every difference of one sign, 2 / 2**n (0.25 at n = 3). ldexp, not 2.0 ** n: from n = 1024 pairs on
    (Parti has 1,632 captions) the float power overflows, while 2**(1 - n) only underflows to 0."""
    return min(1.0, math.ldexp(1.0, 1 - n)) if n > 0 else 1.0


def wilcoxon_p(differences: np.ndarray) -> tuple[float, str]:
    """Two-sided Wilcoxon signed-rank p-value of paired differences; p = 1 when all are zero."""
    d = np.asarray(differences, dtype=np.float64)
    if len(d) == 0:
        return float("nan"), "no pairs"
    if np.all(d == 0):
        return 1.0, "no difference"
    if len(d) < 2:
        return float("nan"), "too few pairs"
    return float(stats.wilcoxon(d, zero_method="zsplit").pvalue), ""
