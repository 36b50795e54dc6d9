"""Pareto ranks and final-pick policies: which single image a method returns.

scores: float [N, M] with higher = better for every column. A policy receives the score columns
of the method's objectives plus all four named scores, and returns one index.
"""
from __future__ import annotations

import numpy as np


def pareto_ranks(scores: np.ndarray) -> np.ndarray:
    """Non-dominated sorting rank of each row (0 = first front); scores [N, M], higher is better."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    if len(scores) == 0:
        return np.zeros(0, dtype=np.int64)
    ranks = np.empty(len(scores), dtype=np.int64)
    for r, front in enumerate(NonDominatedSorting().do(-scores)):
        ranks[front] = r
    return ranks


def _front(objective_scores: np.ndarray) -> np.ndarray:
    return np.flatnonzero(pareto_ranks(objective_scores) == 0)


def best_text_image_on_front(objective_scores: np.ndarray, named: dict[str, np.ndarray]) -> int:
    """Among the first front of the method's objectives, the highest text_image (ties: lowest index)."""
    front = _front(objective_scores)
    return int(front[np.argmax(named["text_image"][front])])


def compromise(objective_scores: np.ndarray, named: dict[str, np.ndarray]) -> int:
    """Among the first front, the highest sum of objectives min-max normalized over the population."""
    s = np.asarray(objective_scores, dtype=np.float64).reshape(len(objective_scores), -1)
    span = s.max(0) - s.min(0)
    norm = (s - s.min(0)) / np.where(span > 0, span, 1.0)
    front = _front(s)
    return int(front[np.argmax(norm[front].sum(1))])


def best_text_image(objective_scores: np.ndarray, named: dict[str, np.ndarray]) -> int:
    """The highest text_image in the whole population."""
    return int(np.argmax(named["text_image"]))


PICKS = {"best_text_image_on_front": best_text_image_on_front, "compromise": compromise,
         "best_text_image": best_text_image}
