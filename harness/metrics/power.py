"""Statistical power over captions: what effect a run could detect, and how many captions (and seeds) a
given effect needs.

The calculation assumes the test the answer's decision rests on, approximated by its parametric twin:
a two-sided one-sample t-test on the per-caption mean differences between two methods (the answer
uses the Wilcoxon signed-rank test on the same means; under normal differences its asymptotic relative
efficiency is 3/pi = 0.955, so it needs about 5 % more captions than stated here). Power is computed
exactly from the noncentral t distribution (scipy.stats.nct).

Seeds enter through the variance of a caption's mean difference, sd^2 = between + within / seeds:
`within` is the pooled variance of the differences among one caption's seeds, `between` the variance
of the captions' true mean differences (the caption means' variance minus within / seeds, floored at 0).
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, stats

ALPHA = 0.05
POWER = 0.8
ASSUMED_TEST = ("two-sided one-sample t-test on per-caption mean differences (noncentral t); the Wilcoxon "
                "signed-rank test the answer uses needs about 5 % more captions (ARE 3/pi)")


def wilcoxon_min_captions(alpha: float = ALPHA) -> int:
    """The fewest captions at which the two-sided Wilcoxon signed-rank test can reach p < alpha at all (its
    smallest p with n captions is 2 / 2^n): below it no effect, however large, is detectable."""
    n = 1
    while 2.0 / 2.0 ** n >= alpha:
        n += 1
    return n


def t_power(effect: float, sd: float, n: int, alpha: float = ALPHA) -> float:
    """Power of the two-sided one-sample t-test with n observations of standard deviation sd."""
    if n < 2 or not sd > 0:
        return float("nan")
    df = n - 1
    nc = abs(effect) / sd * np.sqrt(n)
    crit = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))


def minimum_detectable_effect(sd: float, n: int, alpha: float = ALPHA, power: float = POWER) -> float | None:
    """The smallest |mean difference| detected with probability `power` at n captions (None below
    `wilcoxon_min_captions`, where nothing is detectable by the test the answer uses)."""
    if n < max(2, wilcoxon_min_captions(alpha)) or not np.isfinite(sd):
        return None
    if sd == 0:
        return 0.0
    hi = sd
    while t_power(hi, sd, n, alpha) < power:
        hi *= 2
        if hi > sd * 1e6:
            return None
    return float(optimize.brentq(lambda e: t_power(e, sd, n, alpha) - power, 0.0, hi, xtol=sd * 1e-9))


def captions_needed(effect: float, sd: float, alpha: float = ALPHA, power: float = POWER,
                    limit: int = 1_000_000) -> int | None:
    """The fewest captions at which an effect of `effect` is detected with probability `power` (never fewer
    than the Wilcoxon test needs to reach p < alpha at all)."""
    if not np.isfinite(sd) or not np.isfinite(effect) or effect == 0:
        return None
    floor = max(2, wilcoxon_min_captions(alpha))
    if sd == 0:
        return floor
    lo, hi = floor, floor
    while t_power(effect, sd, hi, alpha) < power:
        lo, hi = hi, hi * 2
        if hi > limit:
            return None
    while lo < hi:  # power grows with n: bisect for the first n that reaches it
        mid = (lo + hi) // 2
        if t_power(effect, sd, mid, alpha) >= power:
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
                   "power_now": (t_power(effect, sd_now, n_now, alpha) if effect and n_now >= wilcoxon_min_captions(alpha)
                                 else (0.0 if effect else None)),
                   "mde_now": minimum_detectable_effect(sd_now, n_now, alpha, target),
                   "captions_needed": captions_needed(effect, sd_now, alpha, target) if effect else None}
            if seeds is not None:
                row["captions_needed_at_seeds"] = (captions_needed(effect, caption_sd(parts, seeds), alpha, target)
                                                   if effect else None)
            rows.append(row)
    return rows
