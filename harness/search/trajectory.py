"""evo_trajectory: evolution along the denoising path, after EvoSearch (He et al. 2025, "Scaling Image and Video
Generation via Test-Time Evolutionary Search", github tinnerhrhe/EvoSearch-codes, SD 2.1).

Generation 0 denoises `sizes[0]` initial noises (the first of the shared initial latents) to images, keeping each
path's state x_t and noise prediction at every later step of the evolution schedule. Generation g >= 1 starts at
evolution step e = schedule[g - 1]: from every individual whose path passed e (all generations so far), the best
`elites` states are kept and the rest of the generation are mutated copies of tournament winners (each tournament a
random 90 % of them, as the reference), each then denoised from e to an image. Selection ranks by the method's
objectives: one critic by its score, several by NSGA-II's non-dominated rank and crowding (pymoo), so the seed's
four-objective question carries over.

Mutation keeps each state's law at its step. At step 0 the state is the noise itself: sqrt(1 - r^2) x + r e, exactly
N(0, I). At a later step x_t = sqrt(a) x0 + sqrt(1 - a) eps (a: the cumulative alpha there); with the noise predicted
from x_t (kept from the path, no extra NFE) the noise part moves: eps' = sqrt(1 - r^2) eps + r e, x_t' = sqrt(a) x0 +
sqrt(1 - a) eps', which is x_t's law whenever the prediction is the noise (tests/test_trajectory.py). The reference
adds the sampler's step noise instead (x + sigma_t e), which widens the law; r = `trajectory_mutation`.

Each child's sampler noise after its start comes from a fresh seed (generation 0 takes each noise's hash, as every
initial-noise method's image does, so the shared initial population gives the same images), so a kept elite explores
a new continuation (with eta = 0 the sampler adds no noise and an elite repeats its image: EvoSearch runs eta = 1);
the best seen are kept either way. The final population is the best `sizes[-1]` of all seen. The schedules come from the method and are
scaled to the run's budget by harness.search.budget; the archive stores each individual's state with its start step
and seed (latents.npz), from which it re-decodes.
"""
from __future__ import annotations

import numpy as np

from harness.search.base import Population, Strategy

SEED_MAX = 2 ** 63 - 1


def order_by_objectives(scores: np.ndarray, seed_key) -> np.ndarray:
    """Indices best first: one objective by its score (ties: the earlier), several by non-dominated rank then
    crowding distance (pymoo's RankAndCrowding over all of them)."""
    if scores.shape[1] == 1:
        return np.argsort(-scores[:, 0], kind="stable")
    from pymoo.core.population import Population as PymooPopulation
    from pymoo.core.problem import Problem
    from pymoo.operators.survival.rank_and_crowding import RankAndCrowding

    pop = PymooPopulation.new(X=np.zeros((len(scores), 1)), F=-scores, index=np.arange(len(scores)))
    ranked = RankAndCrowding().do(Problem(n_var=1, n_obj=scores.shape[1]), pop, n_survive=len(scores),
                                  random_state=np.random.default_rng(seed_key))
    return np.asarray(ranked.get("index"), dtype=np.int64)


def mutate_state(x: np.ndarray, eps: np.ndarray | None, alpha_bar: float, rate: float, rng) -> np.ndarray:
    """Mutated copies of states x [n, D] at a step with cumulative alpha `alpha_bar` (eps: the noise predicted
    from each; None at step 0, where the state is the noise)."""
    fresh = rng.standard_normal(x.shape)
    if eps is None:
        return np.sqrt(1 - rate ** 2) * x + rate * fresh
    return x + np.sqrt(1 - alpha_bar) * ((np.sqrt(1 - rate ** 2) - 1) * eps + rate * fresh)


class TrajectoryStrategy(Strategy):
    def __init__(self, method, X0: np.ndarray, seed: int, objective_index: list[int], plan):
        self.sizes, self.evolution, self.elites = list(plan.sizes), list(plan.evolution_steps), plan.elites
        self.n_generations = len(self.sizes)
        self.objective_index = objective_index
        self.rate = float(method.trajectory_mutation)
        self.seed = seed
        self.X0 = X0[:self.sizes[0]]
        self.rng = np.random.default_rng([seed, 0xE70])
        self.pool: dict[int, list] = {e: [] for e in self.evolution if e > 0}  # step -> [(states, eps, scores)]
        self.pop: Population | None = None
        self.meta = {"start_step": np.zeros(0, dtype=np.int64), "noise_seed": np.zeros(0, dtype=np.uint64)}
        self._asked = None  # (start step, seeds) of the batch being evaluated
        self._kept = {}
        self._alphas: dict[int, float] = {}  # cumulative alpha at each evolution step (from the generator)
        self.pop_all: dict | None = None  # generation 0: the initial noises and their scores

    def ask(self, sample) -> np.ndarray:
        from harness.generators.diffusion import genome_seeds

        if self.generation == 0:
            self._asked = (0, genome_seeds(self.X0))
            return self.X0
        step = self.evolution[self.generation - 1]
        n = self.sizes[self.generation]
        if step == 0:  # the initial noises: every generation-0 individual with its score
            states, eps = self.pop_all["X"], None
            scores = self.pop_all["scores"]
        else:
            parts = self.pool.pop(step)
            states = np.concatenate([p[0] for p in parts])
            eps = np.concatenate([p[1] for p in parts])
            scores = np.concatenate([p[2] for p in parts])
        order = order_by_objectives(scores[:, self.objective_index], [self.seed, self.generation])
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        elites = order[:self.elites]
        winners = []
        for _ in range(n - len(elites)):  # tournament over a random 90 % of the pool (the reference's)
            candidates = self.rng.permutation(len(states))[:max(1, int(len(states) * 0.9))]
            winners.append(candidates[np.argmin(rank[candidates])])
        winners = np.asarray(winners, dtype=np.int64)
        alpha = self.alpha_bar(step)
        children = mutate_state(states[winners], None if eps is None else eps[winners], alpha, self.rate, self.rng)
        X = np.concatenate([states[elites], children])
        self._asked = (step, self.rng.integers(0, SEED_MAX, len(X), dtype=np.int64).astype(np.uint64))
        return X

    def alpha_bar(self, step: int) -> float:
        return self._alphas.get(step, 0.0)

    def decode(self, generator, X: np.ndarray):
        """Images of the asked states (harness.search.loop calls this instead of generator.decode)."""
        self._alphas = {e: generator.alpha_bar(e) for e in self.evolution}
        start, seeds = self._asked
        images, self._kept = generator.denoise(X, start, seeds, keep=tuple(e for e in self.pool if e > start))
        return images

    def tell(self, X, scores, payload) -> None:
        start, seeds = self._asked
        for step, (states, eps) in self._kept.items():
            self.pool[step].append((states, eps, scores))
        if self.generation == 0:
            self.pop_all = {"X": X, "scores": scores}
        meta = {"start_step": np.full(len(X), start, dtype=np.int64), "noise_seed": np.asarray(seeds, np.uint64)}
        if self.pop is not None:
            X = np.concatenate([self.pop.X, X])
            scores = np.concatenate([self.pop.scores, scores])
            payload = self.pop.payload + list(payload)
            meta = {k: np.concatenate([self.meta[k], v]) for k, v in meta.items()}
        keep = np.sort(order_by_objectives(scores[:, self.objective_index], [self.seed, 0xE71])[:self.sizes[-1]])
        self.pop = Population(X[keep], scores[keep], [payload[i] for i in keep])
        self.meta = {k: v[keep] for k, v in meta.items()}
        self._asked, self._kept = None, {}
        self.generation += 1

    def population(self) -> Population:
        return self.pop

    def trajectory(self) -> dict[str, np.ndarray]:
        """Per individual of the population: the step its state is at, and its sampler seed (latents.npz)."""
        return dict(self.meta)
