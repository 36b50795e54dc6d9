"""Search strategies with one ask/tell interface; each is picklable, so a checkpoint is a pickle.

ask(sample) -> latents float64 [N, D] to evaluate; tell(latents, scores [N, M], payload) keeps the
next population. `sample(n, key)` draws n latents from the generator's initial distribution.
The population holds latents, objective scores (higher is better), all four scores and a payload
per individual (the images), so nothing is decoded twice.
"""
from __future__ import annotations

import numpy as np

from harness.config.schema import MethodConfig, SearchConfig
from harness.search.base import Population, Strategy
from harness.search.zero_order import make_zero_order


def ga_tournament(pop, P, random_state=None, **kwargs):
    """pymoo's GA tournament comparison, as a module-level function so checkpoints can pickle it
    (pymoo's own is wrapped by a decorator into a local function that pickle cannot name)."""
    from pymoo.algorithms.soo.nonconvex.ga import comp_by_cv_and_fitness

    return comp_by_cv_and_fitness(pop, P, random_state=random_state, **kwargs)


class PymooStrategy(Strategy):
    """NSGA-II (several objectives) or a GA (one objective) from pymoo, driven by ask and tell."""

    def __init__(self, method: MethodConfig, search: SearchConfig, X0: np.ndarray, xl, xu, seed: int,
                 objective_index: list[int], blocks: list):
        from pymoo.algorithms.moo.nsga2 import NSGA2
        from pymoo.algorithms.soo.nonconvex.ga import GA
        from pymoo.core.problem import Problem

        from harness.search.operators import make_operators

        self.objective_index = objective_index
        self.n_generations = search.generations
        crossover, mutation = make_operators(method, blocks)
        operators = dict(pop_size=search.population, n_offsprings=search.offspring, sampling=X0,
                         crossover=crossover, mutation=mutation, eliminate_duplicates=True)
        if method.algorithm == "nsga2":
            self.algorithm = NSGA2(**operators)
        else:
            from pymoo.operators.selection.tournament import TournamentSelection

            self.algorithm = GA(selection=TournamentSelection(func_comp=ga_tournament), **operators)
        problem = Problem(n_var=X0.shape[1], n_obj=len(objective_index), xl=xl, xu=xu)
        self.algorithm.setup(problem, termination=("n_gen", search.generations), seed=seed, verbose=False)

    def ask(self, sample) -> np.ndarray:
        self._asked = self.algorithm.ask()
        return self._asked.get("X")

    def tell(self, X: np.ndarray, scores: np.ndarray, payload: list) -> None:
        from pymoo.core.evaluator import Evaluator
        from pymoo.problems.static import StaticProblem

        pop = self._asked
        F = -scores[:, self.objective_index]
        Evaluator().eval(StaticProblem(self.algorithm.problem, F=F), pop)
        pop.set("scores", scores)
        pop.set("payload", np.array(payload + [None], dtype=object)[:-1])
        self.algorithm.tell(infills=pop)
        self._asked = None
        self.generation += 1

    def population(self) -> Population:
        pop = self.algorithm.pop
        return Population(pop.get("X"), np.asarray(pop.get("scores"), dtype=np.float64), list(pop.get("payload")))


class RandomStrategy(Strategy):
    """best_of_n: the same evaluations as the evolutionary methods, spent on random latents.

    Generation 0 is the shared initial population; each later generation draws `offspring` new
    latents. The population kept is the best `population` of all seen (rank and crowding).
    """

    def __init__(self, search: SearchConfig, X0: np.ndarray, seed: int, objective_index: list[int]):
        self.X0 = X0
        self.seed = seed
        self.pop_size = search.population
        self.offspring = search.offspring
        self.n_generations = search.generations
        self.objective_index = objective_index
        self.pop: Population | None = None

    def ask(self, sample) -> np.ndarray:
        if self.generation == 0:
            return self.X0
        return sample(self.offspring, [self.seed, self.generation])

    def tell(self, X, scores, payload) -> None:
        from pymoo.core.population import Population as PymooPopulation
        from pymoo.core.problem import Problem
        from pymoo.operators.survival.rank_and_crowding import RankAndCrowding

        if self.pop is not None:
            X = np.concatenate([self.pop.X, X])
            scores = np.concatenate([self.pop.scores, scores])
            payload = self.pop.payload + list(payload)
        if len(X) > self.pop_size:
            pop = PymooPopulation.new(X=X, F=-scores[:, self.objective_index], index=np.arange(len(X)))
            problem = Problem(n_var=X.shape[1], n_obj=len(self.objective_index))
            keep = RankAndCrowding().do(problem, pop, n_survive=self.pop_size, random_state=np.random.default_rng(
                [self.seed, self.generation])).get("index")
            keep = np.sort(keep)
            X, scores, payload = X[keep], scores[keep], [payload[i] for i in keep]
        self.pop = Population(X, scores, list(payload))
        self.generation += 1

    def population(self) -> Population:
        return self.pop


class SingleStrategy(Strategy):
    """no_selection: one latent (the first of the shared initial population), no search."""

    def __init__(self, X0: np.ndarray):
        self.X0 = X0[:1]
        self.n_generations = 1
        self.pop: Population | None = None

    def ask(self, sample) -> np.ndarray:
        return self.X0

    def tell(self, X, scores, payload) -> None:
        self.pop = Population(X, scores, list(payload))
        self.generation += 1

    def population(self) -> Population:
        return self.pop


def make_strategy(method: MethodConfig, search: SearchConfig, X0, xl, xu, seed: int,
                  objective_index: list[int], blocks: list) -> Strategy:
    """blocks: the genome's blocks of genes (Generator.blocks()), for the per-block operators."""
    if method.algorithm in ("nsga2", "ga"):
        return PymooStrategy(method, search, X0, xl, xu, seed, objective_index, blocks)
    if method.algorithm in ("zero_order", "zero_order_greedy"):
        return make_zero_order(method, search, X0, xl, xu, seed, objective_index, blocks)
    if method.algorithm == "random":
        return RandomStrategy(search, X0, seed, objective_index)
    return SingleStrategy(X0)
