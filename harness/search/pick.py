"""Pareto ranks and final-pick policies: which single image a method returns.

scores: float [N, M] with higher = better for every column. A policy receives the score columns
of the method's objectives plus all four named scores, and returns one index. Every job stores the
pick of every policy (`picks`); the method's own `pick` decides its `selected` image.

Policies that use all of a method's objectives (pymoo's decision-making modules, on the first front
with each objective normalised to [0, 1] over that front, ideal 0 and nadir 1):
  asf   equal-weight achievement scalarisation (Chebyshev): the smallest worst normalised shortfall;
  knee  pymoo's HighTradeoffPoints (Rachmawati & Srinivasan 2009); where it finds no clear knee, or
        the front is too small to have one (< 3 points), the asf pick; several knees: the best asf.
With one objective both are the argmax of that objective.
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


def _normalised_losses(objective_scores: np.ndarray, front: np.ndarray) -> np.ndarray:
    """The front's objectives as losses in [0, 1]: 0 at the front's best value, 1 at its worst."""
    F = -np.asarray(objective_scores, dtype=np.float64).reshape(len(objective_scores), -1)[front]
    ideal, nadir = F.min(0), F.max(0)
    span = nadir - ideal
    return (F - ideal) / np.where(span > 0, span, 1.0)


def _asf_order(losses: np.ndarray) -> np.ndarray:
    from pymoo.decomposition.asf import ASF

    values = ASF().do(losses, weights=np.ones(losses.shape[1]), _type="many_to_one").reshape(len(losses))
    return np.lexsort((losses.sum(1), values))  # ties on the worst shortfall: the smaller total


def asf(objective_scores: np.ndarray, named: dict[str, np.ndarray]) -> int:
    """Equal-weight achievement scalarisation over the first front (ties: smaller sum of losses, lower index)."""
    front = _front(objective_scores)
    return int(front[_asf_order(_normalised_losses(objective_scores, front))[0]])


def knee(objective_scores: np.ndarray, named: dict[str, np.ndarray]) -> int:
    """pymoo's high trade-off point of the first front; the asf pick when there is none."""
    import warnings

    from pymoo.mcdm.high_tradeoff import HighTradeoffPoints

    front = _front(objective_scores)
    losses = _normalised_losses(objective_scores, front)
    order = _asf_order(losses)
    unique = np.unique(losses, axis=0)
    if losses.shape[1] < 2 or len(unique) < 3:
        return int(front[order[0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        knees = HighTradeoffPoints().do(losses)
    if knees is None or len(knees) == 0:
        return int(front[order[0]])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return int(front[min(np.atleast_1d(knees), key=lambda i: rank[i])])


def best_text_image(objective_scores: np.ndarray, named: dict[str, np.ndarray]) -> int:
    """The highest text_image in the whole population."""
    return int(np.argmax(named["text_image"]))


PICKS = {"best_text_image_on_front": best_text_image_on_front, "compromise": compromise,
         "best_text_image": best_text_image, "asf": asf, "knee": knee}


def all_picks(objective_scores: np.ndarray, named: dict[str, np.ndarray]) -> dict[str, int]:
    """policy -> the index it picks in this population."""
    return {name: policy(objective_scores, named) for name, policy in PICKS.items()}
