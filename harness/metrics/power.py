"""Statistical power over captions: what effect a run could detect, and how many captions (and seeds) a
given effect needs.

The answer's decision rests on the two-sided Wilcoxon signed-rank test over per-caption mean differences
(scipy.stats.wilcoxon: exact up to 50 captions, normal approximation above). Power is that test's own,
for normally distributed caption-level differences:

* up to EXACT_UP_TO captions, from the test's exact null distribution (its critical values) and a fixed,
  seeded simulation of the alternative. Each simulated sample z (effect 0, sd 1) rejects upward exactly
  when its signed-rank statistic of z + delta reaches the critical value; that statistic counts the
  positive Walsh averages (z_i + z_j) / 2 + delta, i <= j, so it grows with delta and each sample has one
  threshold delta. Power at any delta is then the share of thresholds below it (plus the lower tail's),
  and the minimum detectable effect is a quantile of the thresholds: no root finding, no noise in delta.
* above it, from the noncentral t distribution at the Wilcoxon's asymptotic relative efficiency under
  normal differences, 3 / pi (n * 3 / pi effective captions), with both tails computed as upper tails
  (scipy's nct.cdf returns NaN in the far lower tail); power that is 1 to machine precision is 1.

Seeds enter through the variance of a caption's mean difference, sd^2 = between + within / seeds:
`within` is the pooled variance of the differences among one caption's seeds, `between` the variance
of the captions' true mean differences (the caption means' variance minus within / seeds, floored at 0).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import optimize, stats

ALPHA = 0.05
POWER = 0.8
EXACT_UP_TO = 50  # scipy.stats.wilcoxon's exact test ('auto') holds up to 50 pairs
SIMULATIONS = 20_000
ARE = 3.0 / np.pi
ASSUMED_TEST = (f"two-sided Wilcoxon signed-rank test over per-caption mean differences, normal differences: "
                f"exact critical values and {SIMULATIONS:,} seeded simulations up to {EXACT_UP_TO} captions, the "
                f"noncentral t at the Wilcoxon's efficiency 3/pi above")


def wilcoxon_min_captions(alpha: float = ALPHA) -> int:
    """The fewest captions at which the two-sided Wilcoxon signed-rank test can reach p < alpha at all (its
    smallest p with n captions is 2 / 2^n): below it no effect, however large, is detectable."""
    n = 1
    while 2.0 / 2.0 ** n >= alpha:
        n += 1
    return n


def t_power(effect: float, sd: float, n: float, alpha: float = ALPHA) -> float:
    """Power of the two-sided one-sample t-test with n observations of standard deviation sd (n may be an
    effective, fractional count). Both tails as upper tails: stable at any noncentrality."""
    if n < 2 or not sd > 0 or not np.isfinite(effect):
        return float("nan")
    df = n - 1
    nc = abs(effect) / sd * np.sqrt(n)
    crit = stats.t.ppf(1 - alpha / 2, df)
    upper, lower = stats.nct.sf(crit, df, nc), stats.nct.sf(crit, df, -nc)
    if not np.isfinite(upper):  # far beyond any tabulated tail: the normal limit
        upper = stats.norm.sf(crit - nc)
    if not np.isfinite(lower):
        lower = stats.norm.sf(crit + nc)
    return float(min(1.0, max(0.0, upper + lower)))


@lru_cache(maxsize=None)
def _null_counts(n: int) -> np.ndarray:
    """How many of the 2^n sign patterns give each signed-rank sum W+ = 0 .. n(n+1)/2 (exact in float64
    up to n = 52)."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for k in range(1, n + 1):
        counts[k:] = counts[k:] + counts[:-k].copy()
    return counts


@lru_cache(maxsize=None)
def wilcoxon_critical(n: int, alpha: float = ALPHA) -> tuple[int, int]:
    """(low, high): the exact two-sided test with n pairs rejects when W+ <= low or W+ >= high, i.e. when
    2 * min(P(W+ <= w), P(W+ >= w)) < alpha (low = -1 and high past the maximum: it never rejects)."""
    counts = _null_counts(n)
    total = 2.0 ** n
    cdf = np.cumsum(counts) / total
    sf = np.cumsum(counts[::-1])[::-1] / total
    p = np.minimum(1.0, 2.0 * np.minimum(cdf, sf))
    reject = np.flatnonzero(p < alpha)
    top = len(counts) - 1
    low = [w for w in reject if w <= top / 2]
    high = [w for w in reject if w > top / 2]
    return (max(low) if low else -1), (min(high) if high else top + 1)


@lru_cache(maxsize=None)
def _thresholds(n: int, alpha: float = ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Per simulated sample of n standard normal differences: the shift delta above which it rejects upward
    and the shift below which it rejects downward (sorted)."""
    low, high = wilcoxon_critical(n, alpha)
    pairs = np.triu_indices(n)
    top = len(pairs[0])
    rng = np.random.default_rng(20261206 + n)
    up, down = [], []
    kth = [k for k, use in ((top - high, high <= top), (top - low - 1, low >= 0)) if use]
    for start in range(0, SIMULATIONS, 2000):
        z = rng.standard_normal((min(2000, SIMULATIONS - start), n))
        walsh = (z[:, pairs[0]] + z[:, pairs[1]]) / 2.0  # W+(delta) = #{walsh + delta > 0}
        part = np.partition(walsh, kth, axis=1) if kth else walsh
        if high <= top:  # W+ >= high  <=>  the high-th largest Walsh average + delta > 0
            up.append(-part[:, top - high])
        if low >= 0:  # W+ <= low  <=>  the (low+1)-th largest Walsh average + delta <= 0
            down.append(-part[:, top - low - 1])
    return (np.sort(np.concatenate(up)) if up else np.array([np.inf]),
            np.sort(np.concatenate(down)) if down else np.array([-np.inf]))


def wilcoxon_power(effect: float, sd: float, n: int, alpha: float = ALPHA) -> float:
    """Power of the two-sided Wilcoxon signed-rank test over n captions whose mean differences are normal
    with mean `effect` and sd `sd`."""
    if not np.isfinite(effect) or not np.isfinite(sd) or n < 1:
        return float("nan")
    if n < wilcoxon_min_captions(alpha):
        return 0.0
    if sd == 0:
        return 1.0 if effect != 0 else 0.0
    delta = abs(effect) / sd
    if n > EXACT_UP_TO:
        return t_power(delta, 1.0, n * ARE, alpha)
    up, down = _thresholds(n, alpha)
    return float(min(1.0, (np.searchsorted(up, delta, side="right")
                           + len(down) - np.searchsorted(down, delta, side="left")) / SIMULATIONS))


def minimum_detectable_effect(sd: float, n: int, alpha: float = ALPHA, power: float = POWER) -> float | None:
    """The smallest |mean difference| the Wilcoxon test over n captions detects with probability `power`
    (None below `wilcoxon_min_captions`, where nothing is detectable, and when the differences never varied,
    sd = 0: there is no spread to state an effect against)."""
    if n < max(2, wilcoxon_min_captions(alpha)) or not np.isfinite(sd) or sd == 0:
        return None
    if n <= EXACT_UP_TO:
        up, _ = _thresholds(n, alpha)  # the lower tail adds nothing at delta > 0 worth a threshold
        k = int(np.ceil(power * SIMULATIONS))
        return float(max(up[k - 1], 0.0) * sd) if k <= len(up) and np.isfinite(up[k - 1]) else None
    hi = 1.0
    while t_power(hi, 1.0, n * ARE, alpha) < power:
        hi *= 2
        if hi > 1e6:
            return None
    return float(optimize.brentq(lambda e: t_power(e, 1.0, n * ARE, alpha) - power, 0.0, hi, xtol=1e-12) * sd)


def captions_needed(effect: float, sd: float, alpha: float = ALPHA, power: float = POWER,
                    limit: int = 1_000_000) -> int | None:
    """The fewest captions at which an effect of `effect` is detected with probability `power` (never fewer
    than the Wilcoxon test needs to reach p < alpha at all)."""
    if not np.isfinite(sd) or not np.isfinite(effect) or effect == 0:
        return None
    floor = max(2, wilcoxon_min_captions(alpha))
    if sd == 0:
        return floor
    if wilcoxon_power(effect, sd, EXACT_UP_TO, alpha) >= power:
        lo, hi = floor, EXACT_UP_TO
    else:
        lo = hi = EXACT_UP_TO + 1
        while wilcoxon_power(effect, sd, hi, alpha) < power:
            lo, hi = hi, hi * 2
            if hi > limit:
                return None
    while lo < hi:  # power grows with n: bisect for the first n that reaches it
        mid = (lo + hi) // 2
        if wilcoxon_power(effect, sd, mid, alpha) >= power:
            hi = mid
        else:
            lo = mid + 1
    return int(hi)


def variance_components(differences: np.ndarray) -> dict:
    """differences [C, S] (NaN where missing) -> {'between', 'within', 'seeds' (harmonic mean per caption),
    'captions', 'caption_sd' (sd of the caption means)}."""
    d = np.asarray(differences, dtype=np.float64)
    n = np.isfinite(d).sum(axis=1)
    rows = d[n > 0]
    n = n[n > 0]
    means = np.array([np.nanmean(r) for r in rows])
    caption_var = float(np.var(means, ddof=1)) if len(means) > 1 else float("nan")
    multi = n > 1
    within = (float(sum(np.nansum((r - m) ** 2) for r, m, k in zip(rows, means, multi) if k)
                    / max(int((n[multi] - 1).sum()), 1)) if multi.any() else float("nan"))
    seeds = float(len(n) / np.sum(1.0 / n)) if len(n) else float("nan")
    between = max(caption_var - (within / seeds if np.isfinite(within) else 0.0), 0.0) if np.isfinite(caption_var) \
        else float("nan")
    return {"between": between, "within": within, "seeds": seeds, "captions": int(len(n)),
            "caption_sd": float(np.sqrt(caption_var)) if np.isfinite(caption_var) else float("nan")}


def caption_sd(components: dict, seeds: float | None = None) -> float:
    """The sd of a caption's mean difference with `seeds` seeds per caption (None: the run's own)."""
    if seeds is None or not np.isfinite(components["within"]):
        return components["caption_sd"]
    return float(np.sqrt(components["between"] + components["within"] / seeds))


def plan(answer: dict, effects: dict[str, float] | None = None, default_effect: float | None = None,
         seeds: int | None = None, alpha: float = ALPHA, target: float = POWER) -> list[dict]:
    """For each comparison x held-out judge of a metrics.json `answer` section: the effect tested (`effects`
    per judge, else `default_effect`, else the observed difference), the caption-level sd, the power this
    run had, its minimum detectable effect, and the captions needed at the run's seeds and at `seeds`."""
    from harness.metrics.evidence import Design

    rows = []
    for comp in answer.get("comparisons", []):
        for judge, entry in comp["judges"].items():
            table = entry.get("differences") or []
            design = Design([r[0] for r in table], [r[1] for r in table]) if table else None
            d = np.full(design.present.shape, np.nan) if design else np.zeros((0, 0))
            for cid, seed, value in table:
                d[design.captions.index(cid), design.seeds.index(int(seed))] = value
            parts = variance_components(d) if table else {"captions": 0, "caption_sd": float("nan"),
                                                          "within": float("nan"), "between": float("nan"),
                                                          "seeds": float("nan")}
            effect = (effects or {}).get(judge, default_effect)
            observed = entry.get("value")
            effect = abs(observed) if effect is None and observed is not None else effect
            sd_now = parts["caption_sd"]
            n_now = parts["captions"]
            row = {"comparison": f"{comp['method']} − {comp['control']}", "judge": judge, "observed": observed,
                   "effect": effect, "caption_sd": sd_now, "captions": n_now,
                   "seeds": int(round(parts["seeds"])) if np.isfinite(parts["seeds"]) else 0,
                   "within_sd": float(np.sqrt(parts["within"])) if np.isfinite(parts["within"]) else None,
                   "power_now": (wilcoxon_power(effect, sd_now, n_now, alpha) if effect and n_now >= wilcoxon_min_captions(alpha)
                                 else (0.0 if effect else None)),
                   "mde_now": minimum_detectable_effect(sd_now, n_now, alpha, target),
                   "captions_needed": captions_needed(effect, sd_now, alpha, target) if effect else None}
            if seeds is not None:
                row["captions_needed_at_seeds"] = (captions_needed(effect, caption_sd(parts, seeds), alpha, target)
                                                   if effect else None)
            rows.append(row)
    return rows
