"""The caption is the unit of evidence: every interval and test that describes or compares methods.

Seeds of one caption share that caption's difficulty, so (caption, seed) values are not independent
observations: intervals come from a two-stage (cluster) bootstrap and tests from per-caption means.

* `Design` holds the captions and seeds of a table of jobs (columns `caption_id`, `seed`) and the
  (caption, seed) cells present. Values are laid out as matrices [..., C, S], NaN where a cell has
  no value (missing job, or a judge score of an image the run did not keep: dropped, never zeroed).
* `Design.resamples(B, seed)`: stage 1 draws C captions with replacement, `rng.integers(0, C, (B, C))`
  from `numpy.random.default_rng(seed)` (the very resamples `scipy.stats.bootstrap` draws for C
  values); stage 2, from an independent stream, draws within each drawn caption as many seeds as it
  has, with replacement, from the seeds it has. A resample's statistic is the mean over the drawn
  captions of the mean of their drawn seeds (finite values only), so every caption weighs the same.
  Every column of every method is evaluated on the same resamples (common random numbers), and
  seeds are drawn per caption, not per method, so paired structure is kept.
* The point estimate is the mean of the caption means; the interval the percentile interval of the
  resampled statistics (`bca_interval` where a percentile interval would sit on its point estimate).
* Tests: Wilcoxon signed-rank over per-caption mean differences; its p floor at C captions is 2 / 2^C.

Identical seeds within every caption give exactly the interval and p of the C caption means (tested).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

UNIT = "caption"
STAGE_TWO = 0x5EED  # the second stream's key: default_rng([seed, STAGE_TWO])


@dataclass(frozen=True)
class Resamples:
    captions: np.ndarray  # int [B, C]: caption index of each drawn slot
    seeds: np.ndarray  # int [B, C, S]: seed column of each stage-two draw (valid where `valid`)
    valid: np.ndarray  # bool [B, C, S]: draws beyond the drawn caption's seed count are padding


class Design:
    """The (caption, seed) grid of a job table; values as matrices [..., C, S]."""

    def __init__(self, captions, seeds):
        frame = pd.DataFrame({"caption_id": list(captions), "seed": list(seeds)})
        self.captions = list(dict.fromkeys(frame["caption_id"]))
        self.seeds = sorted(dict.fromkeys(int(s) for s in frame["seed"]))
        self._c = {c: i for i, c in enumerate(self.captions)}
        self._s = {s: i for i, s in enumerate(self.seeds)}
        self.present = np.zeros((len(self.captions), len(self.seeds)), dtype=bool)
        self.present[frame["caption_id"].map(self._c).to_numpy(), frame["seed"].astype(int).map(self._s).to_numpy()] = True
        self.counts = self.present.sum(axis=1)  # seeds per caption
        order = np.argsort(~self.present, axis=1, kind="stable")
        self.seed_columns = order  # [C, S]: the first counts[c] entries of row c are caption c's seed columns
        self._draws: dict[tuple[int, int], Resamples] = {}

    @classmethod
    def of(cls, frame: pd.DataFrame) -> "Design":
        return cls(frame["caption_id"], frame["seed"])

    def matrix(self, frame: pd.DataFrame, column: str) -> np.ndarray:
        """frame's `column` as [C, S] (NaN where the cell has no finite value); one row per (caption, seed)."""
        out = np.full(self.present.shape, np.nan)
        if len(frame):
            c = frame["caption_id"].map(self._c).to_numpy()
            s = frame["seed"].astype(int).map(self._s).to_numpy()
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
            out[c, s] = values
        out[~np.isfinite(out)] = np.nan
        return out

    def resamples(self, n: int, seed: int = 0) -> Resamples:
        """The two-stage resamples (drawn once per (n, seed) and kept: every column uses the same)."""
        key = (int(n), int(seed))
        if key not in self._draws:
            C, S = self.present.shape
            captions = np.random.default_rng(seed).integers(0, C, (n, C))
            u = np.random.default_rng([seed, STAGE_TWO]).random((n, C, S))
            per = self.counts[captions][..., None]  # [B, C, 1] seeds of each drawn caption
            draw = np.minimum((u * per).astype(np.int64), per - 1)
            seeds = np.take_along_axis(self.seed_columns[captions], draw, axis=2)
            self._draws[key] = Resamples(captions, seeds, np.arange(S)[None, None, :] < per)
        return self._draws[key]


def caption_means(values: np.ndarray) -> np.ndarray:
    """[..., C, S] -> [..., C]: each caption's mean over its finite seeds (NaN when it has none)."""
    with np.errstate(invalid="ignore"):
        n = np.isfinite(values).sum(-1)
        return np.where(n > 0, np.nansum(values, -1) / np.maximum(n, 1), np.nan)


def point(values: np.ndarray) -> np.ndarray:
    """[..., C, S] -> [...]: the mean of the caption means (captions without a value left out)."""
    means = caption_means(values)
    with np.errstate(invalid="ignore"):
        n = np.isfinite(means).sum(-1)
        return np.where(n > 0, np.nansum(means, -1) / np.maximum(n, 1), np.nan)


GATHER_ELEMENTS = 1 << 22  # values gathered at once by `resampled` (32 MiB of float64)


def resampled(values: np.ndarray, draws: Resamples) -> np.ndarray:
    """[..., C, S] -> [..., B]: the statistic (mean of drawn captions' means of drawn seeds) per resample.
    Computed a block of resamples at a time: gathering all B at once held [..., B, C, S] several times over
    (1.3 GiB for 8 judges x 3 methods over Parti's 1,632 captions, 8 GiB at 4 seeds x 5 methods)."""
    B = draws.captions.shape[0]
    per = max(1, int(np.prod(values.shape[:-2], dtype=np.int64)) * draws.seeds[0].size)
    step = max(1, GATHER_ELEMENTS // per)
    out = []
    for b in range(0, B, step):
        gathered = values[..., draws.captions[b:b + step, :, None], draws.seeds[b:b + step]]  # [..., b, C, S]
        out.append(point(np.where(draws.valid[b:b + step], gathered, np.nan)))
    return np.concatenate(out, axis=-1) if out else np.empty((*values.shape[:-2], 0))


def percentile_interval(dist: np.ndarray, confidence: float) -> list[float] | None:
    dist = np.asarray(dist, dtype=np.float64)
    dist = dist[np.isfinite(dist)]
    if len(dist) < 10:
        return None
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(dist, [alpha, 1 - alpha])
    return [float(lo), float(hi)]


def bca_interval(dist: np.ndarray, estimate: float, jackknife: np.ndarray, confidence: float) -> list[float] | None:
    """Bias-corrected and accelerated interval (Efron 1987) from a bootstrap distribution, the point
    estimate and the leave-one-caption-out (jackknife) estimates; None where it is undefined (every
    resample on one side of the estimate)."""
    from scipy import stats

    dist = np.asarray(dist, dtype=np.float64)
    dist = dist[np.isfinite(dist)]
    jack = np.asarray(jackknife, dtype=np.float64)
    jack = jack[np.isfinite(jack)]
    if len(dist) < 10 or len(jack) < 3:
        return None
    share = (np.sum(dist < estimate) + 0.5 * np.sum(dist == estimate)) / len(dist)  # scipy's percentileofscore 'mean'
    if not 0 < share < 1:
        return None
    z0 = stats.norm.ppf(share)
    d = jack.mean() - jack
    denom = 6.0 * (d ** 2).sum() ** 1.5
    a = (d ** 3).sum() / denom if denom > 0 else 0.0
    alpha = (1 - confidence) / 2
    z = stats.norm.ppf([alpha, 1 - alpha])
    levels = stats.norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
    if not np.all(np.isfinite(levels)):
        return None
    lo, hi = np.quantile(dist, levels)
    return [float(lo), float(hi)]


def counts(values: np.ndarray) -> dict:
    """How many finite values, captions and seeds the evidence of a [C, S] matrix holds."""
    finite = np.isfinite(values)
    return {"n": int(finite.sum()), "captions": int(finite.any(axis=1).sum()), "seeds": int(finite.any(axis=0).sum())}


def interval_of(values: np.ndarray, design: Design, n_resamples: int, confidence: float, seed: int = 0):
    """The cluster-bootstrap interval of the mean of caption means of a [C, S] matrix (None below 2 captions)."""
    if counts(values)["captions"] < 2:
        return None
    finite = values[np.isfinite(values)]
    if np.ptp(finite) == 0:
        return [float(finite[0]), float(finite[0])]
    return percentile_interval(resampled(values, design.resamples(n_resamples, seed)), confidence)


def describe(values: np.ndarray, design: Design, n_resamples: int, confidence: float,
             higher_is_better: bool | None = True, **extra) -> dict:
    """A metrics.json number for a [C, S] matrix: the mean of caption means, its cluster-bootstrap interval,
    N (finite values), captions, seeds and the resampling unit."""
    from harness.metrics.stats import value_entry

    n = counts(values)
    value = float(point(values)) if n["n"] else None
    interval = interval_of(values, design, n_resamples, confidence)
    return value_entry(value, n["n"], interval, higher_is_better, unit=UNIT, captions=n["captions"],
                       seeds=n["seeds"], **extra)


def column_entry(frame: pd.DataFrame, column: str, cfg, higher_is_better: bool | None = True,
                 design: Design | None = None, **extra) -> dict:
    """describe() of one column of a job table (columns caption_id, seed, `column`)."""
    design = design or Design.of(frame)
    values = design.matrix(frame, column)
    if not np.isfinite(values).any():
        from harness.metrics.stats import value_entry

        note = "; ".join(x for x in ("no value (no stored image, or not applicable)", extra.pop("note", None)) if x)
        return value_entry(None, 0, None, higher_is_better, unit=UNIT, captions=0, seeds=0, note=note, **extra)
    return describe(values, design, cfg.bootstrap, cfg.confidence, higher_is_better, **extra)


def wilcoxon_over_captions(differences: np.ndarray) -> tuple[float, str, int]:
    """Two-sided Wilcoxon signed-rank p over the per-caption mean differences of a [C, S] matrix of
    paired differences: (p, note, captions tested)."""
    from harness.metrics.stats import wilcoxon_p

    means = caption_means(differences)
    means = means[np.isfinite(means)]
    p, note = wilcoxon_p(means)
    return p, note, len(means)


def paired_entry(a: np.ndarray, b: np.ndarray, design: Design, n_resamples: int, confidence: float,
                 higher_is_better: bool = True, **extra) -> dict:
    """a - b over the (caption, seed) cells both have: mean of caption mean differences, cluster-bootstrap
    interval, Wilcoxon p over captions and its floor."""
    from harness.metrics.stats import value_entry, wilcoxon_floor

    d = a - b
    n = counts(d)
    p, note, tested = wilcoxon_over_captions(d)
    if n["n"] and np.nanmax(np.abs(d)) == 0:
        interval = [0.0, 0.0]
    else:
        interval = interval_of(d, design, n_resamples, confidence)
    entry = value_entry(float(point(d)) if n["n"] else None, n["n"], interval, higher_is_better, unit=UNIT,
                        captions=n["captions"], seeds=n["seeds"], p_value=p, p_floor=wilcoxon_floor(tested),
                        test="Wilcoxon signed-rank over per-caption mean differences", **extra)
    if note:
        entry["note"] = note
    return entry


def differences_table(d: np.ndarray, design: Design) -> list[list]:
    """[C, S] paired differences as [[caption_id, seed, difference], ...] (finite cells only)."""
    return [[design.captions[c], design.seeds[s], float(d[c, s])] for c, s in zip(*np.nonzero(np.isfinite(d)))]
