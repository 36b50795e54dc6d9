"""Zero-order search (Ma et al., CVPR 2025, "Inference-Time Scaling for Diffusion Models beyond Scaling Denoising
Steps"), as the paper and its reference implementation run it, and the harness's earlier greedy variant.

`zero_order` (the paper): the first pivot is one random noise (the first of the shared initial latents, the
latent no_selection shows); every round evaluates the pivot again with its neighbours; when a neighbour scores
above the pivot the best neighbour becomes the next pivot, otherwise the search restarts from fresh random noise.
A neighbour of Gaussian genes lies on the pivot's sphere at cosine sqrt(1 - s^2) from it (the reference's
`threshold`; s = `noise_mutation_sigma`, 0.3122 for the reference's 0.95): the same norm, a uniformly random
direction at that angle, so a neighbour of N(0, I) noise is exactly N(0, I). Bounded genes (GAN class genomes)
move by s x range / 4, clipped (integers rounded).

`zero_order_greedy` (the harness's variant until 2026-12-07): the first pivot is the best of the evaluated shared
initial population, neighbours are sqrt(1 - s^2) p + s e, the best seen is always the pivot (no restart), and the
pivot is not evaluated again.

Both spend the budget of every other method: `population` evaluations in generation 0, `offspring` in each later
one (a round of the paper is pivot + offspring - 1 neighbours); both keep the best `population` seen, best first,
by the method's one objective.
"""
from __future__ import annotations

import numpy as np

from harness.config.schema import MethodConfig, SearchConfig
from harness.search.base import Population, Strategy


def sphere_neighbours(pivot: np.ndarray, cosine: float, n: int, rng) -> np.ndarray:
    """n points with the norm of `pivot` [D] at angle arccos(cosine) from it, in uniformly random directions."""
    norm = max(float(np.linalg.norm(pivot)), 1e-12)
    u = pivot / norm
    v = rng.standard_normal((n, len(pivot)))
    w = v - (v @ u)[:, None] * u[None]
    w /= np.maximum(np.linalg.norm(w, axis=1, keepdims=True), 1e-12)
    return norm * (cosine * u[None] + np.sqrt(max(0.0, 1.0 - cosine ** 2)) * w)


class _ZeroOrder(Strategy):
    def __init__(self, method: MethodConfig, search: SearchConfig, X0: np.ndarray, xl, xu, seed: int,
                 objective_index: list[int], blocks: list):
        self.X0, self.xl, self.xu = X0, np.asarray(xl, dtype=np.float64), np.asarray(xu, dtype=np.float64)
        self.pop_size, self.offspring, self.n_generations = search.population, search.offspring, search.generations
        self.objective = objective_index[0]
        self.sigma = float(method.noise_mutation_sigma)
        self.blocks = blocks
        self.seed = seed
        self.rng = np.random.default_rng([seed, 0x2E0])
        self.pop: Population | None = None

    def neighbours(self, pivot: np.ndarray, n: int, sphere: bool) -> np.ndarray:
        out = np.repeat(pivot[None], n, axis=0)
        if n == 0:
            return out
        noise = self.rng.standard_normal(out.shape)
        for b in self.blocks:
            cols = slice(b.start, b.stop)
            if getattr(b, "gaussian", False):
                if sphere:
                    out[:, cols] = sphere_neighbours(pivot[cols], np.sqrt(1 - self.sigma ** 2), n, self.rng)
                else:
                    out[:, cols] = np.sqrt(1 - self.sigma ** 2) * out[:, cols] + self.sigma * noise[:, cols]
            else:
                step = self.sigma * (self.xu[cols] - self.xl[cols]) / 4
                out[:, cols] = np.clip(out[:, cols] + step * noise[:, cols], self.xl[cols], self.xu[cols])
                if b.integer:
                    out[:, cols] = np.round(out[:, cols])
        return out

    def keep(self, X, scores, payload) -> None:
        """The best `population` of all seen, best first (ties: the earlier first)."""
        if self.pop is not None:
            X = np.concatenate([self.pop.X, X])
            scores = np.concatenate([self.pop.scores, scores])
            payload = self.pop.payload + list(payload)
        order = np.argsort(-scores[:, self.objective], kind="stable")[:self.pop_size]
        self.pop = Population(X[order], scores[order], [payload[i] for i in order])

    def population(self) -> Population:
        return self.pop


class ZeroOrderStrategy(_ZeroOrder):
    """The paper's zero-order search (module docstring): random first pivot, pivot re-scored, restart when no
    neighbour improves on it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pivot = self.X0[0]
        self.carried = False  # is the pivot already in the kept population (carried from the last round)?
        self.restarts = 0

    def ask(self, sample) -> np.ndarray:
        if self.pivot is None:  # no neighbour improved: fresh random noise
            self.pivot = np.asarray(sample(1, [self.seed, 0x2E0, self.generation]), dtype=np.float64)[0]
            self.carried = False
        size = self.pop_size if self.generation == 0 else self.offspring
        return np.concatenate([self.pivot[None], self.neighbours(self.pivot, size - 1, sphere=True)])

    def tell(self, X, scores, payload) -> None:
        objective = scores[:, self.objective]
        best = 1 + int(np.argmax(objective[1:])) if len(X) > 1 else 0
        improved = len(X) > 1 and objective[best] > objective[0]
        first = 1 if self.carried else 0  # a carried pivot is kept already: its second evaluation is not kept twice
        self.keep(X[first:], scores[first:], list(payload)[first:])
        if improved:
            self.pivot, self.carried = X[best].copy(), True
        else:
            self.pivot, self.carried = None, False
            self.restarts += 1
        self.generation += 1


class GreedyZeroOrderStrategy(_ZeroOrder):
    """The harness's earlier variant (module docstring): the best of the initial population as the first pivot,
    the best seen is always the pivot, no restart, the pivot not evaluated again."""

    def ask(self, sample) -> np.ndarray:
        if self.generation == 0:
            return self.X0
        return self.neighbours(self.pop.X[0], self.offspring, sphere=False)

    def tell(self, X, scores, payload) -> None:
        self.keep(X, scores, payload)
        self.generation += 1


def make_zero_order(method: MethodConfig, search: SearchConfig, X0, xl, xu, seed: int, objective_index: list[int],
                    blocks: list) -> Strategy:
    cls = GreedyZeroOrderStrategy if method.algorithm == "zero_order_greedy" else ZeroOrderStrategy
    return cls(method, search, X0, xl, xu, seed, objective_index, blocks)
