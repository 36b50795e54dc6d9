"""Hypervolume of a population's first front, on scores normalized to [0, 1] (pymoo's HV).

Scores are higher-is-better in known ranges (each critic's `score_range`); they are mapped to
losses 1 - (s - lo) / (hi - lo) in [0, 1] and measured against the fixed reference point
(1.1, ..., 1.1), so values are comparable across generations, captions and methods.
"""
from __future__ import annotations

import numpy as np
from pymoo.indicators.hv import HV

REFERENCE = 1.1


def normalized_losses(scores: np.ndarray, ranges: list[tuple[float, float]]) -> np.ndarray:
    """scores [N, M] higher-is-better -> losses [N, M] in [0, 1] (lower is better)."""
    scores = np.asarray(scores, dtype=np.float64)
    lo = np.array([r[0] for r in ranges])
    hi = np.array([r[1] for r in ranges])
    return np.clip(1.0 - (scores - lo) / (hi - lo), 0.0, 1.0)


def hypervolume(scores: np.ndarray, ranges: list[tuple[float, float]]) -> float:
    """Hypervolume dominated by `scores` [N, M] (higher is better) w.r.t. the fixed reference point."""
    losses = normalized_losses(scores, ranges)
    if len(losses) == 0:
        return 0.0
    return float(HV(ref_point=np.full(losses.shape[1], REFERENCE))(losses))
