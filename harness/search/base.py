"""What every search strategy is: ask latents, tell their scores, keep a population (harness.search.strategies)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Population:
    X: np.ndarray  # latents float64 [P, D]
    scores: np.ndarray  # all four scores float64 [P, 4]
    payload: list  # one entry per individual (uint8 images)


class Strategy:
    generation: int = 0  # generations told so far
    n_generations: int = 1

    @property
    def has_next(self) -> bool:
        return self.generation < self.n_generations
