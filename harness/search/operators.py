"""Variation operators per block of genes, composed of pymoo's own SBX and polynomial mutation.

A genome may mix blocks (BigGAN: noise, then class logits, class indices and weights, or a class
embedding). Each block gets pymoo's SBX and PM on its own columns and bounds, with the method's
settings for that block; integer blocks (class indices) are rounded after each operator, as pymoo's
RoundingRepair does for integer variables. Probabilities follow pymoo 0.6:

  crossover_prob      per mating: does SBX happen at all (pymoo `Crossover(prob=...)`)
  crossover_eta       SBX distribution index (low = children far from their parents)
  mutation_prob       per individual: is it mutated at all (pymoo `Mutation(prob=...)`)
  mutation_prob_var   per gene: probability that a gene of a mutated individual changes (pymoo 0.6
                      `prob_var`; pymoo 0.4's PM `prob` meant this); None = pymoo's default 1/genes
  mutation_eta        PM distribution index

The class blocks may override the per-gene probability and η (`class_mutation_prob_var`,
`class_mutation_eta`); every other setting applies to the whole genome.

Gaussian blocks (a diffusion model's initial noise, drawn N(0, I)) get operators that keep N(0, I): SBX's blend
of two samples shrinks their norm and a bounded mutation clips their tails, and off-distribution noise decodes to
degraded images. Crossover slerps the parents' directions at a uniform t, one child from each end, and gives each
child the norm of its nearer parent (`slerp_keeping_norm`): exactly N(0, I) for independent parents, and norms that
never drift when parents repeat. Plain slerp narrowed the norms' spread to 0.84 of the chi distribution's (KS
p < 1e-4); the rotation cos(a) x + sin(a) y is exactly N(0, I) for independent parents but its norms grow without
bound once parents repeat and correlate, as a population's do (tests/test_diffusion.py; the search-power
measurement behind the change is in benchmarks/README.md);
mutation is sqrt(1 - s^2) x + s e with e ~ N(0, I) and s = `noise_mutation_sigma`, for independent x and e exactly
N(0, I). `crossover_prob` and `mutation_prob` keep their meanings.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymoo.core.crossover import Crossover
from pymoo.core.mutation import Mutation
from pymoo.core.problem import Problem
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM


@dataclass(frozen=True)
class BlockSettings:
    start: int
    stop: int
    integer: bool
    crossover_eta: float
    mutation_prob_var: float
    mutation_eta: float
    gaussian: bool = False  # N(0, I) genes: slerp and variance-preserving mutation instead of SBX and PM
    sigma: float = 0.3  # their mutation's step: sqrt(1 - s^2) x + s e


def slerp(x: np.ndarray, y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation of rows x and y at t [n] (linear where they are parallel)."""
    nx, ny = np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1)
    cos = np.clip((x * y).sum(1) / np.maximum(nx * ny, 1e-12), -1.0, 1.0)
    omega = np.arccos(cos)
    sin = np.sin(omega)
    parallel = sin < 1e-6
    safe = np.where(parallel, 1.0, sin)
    a = np.where(parallel, 1 - t, np.sin((1 - t) * omega) / safe)
    b = np.where(parallel, t, np.sin(t * omega) / safe)
    return a[:, None] * x + b[:, None] * y


def slerp_keeping_norm(x: np.ndarray, y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The crossover of N(0, I) genes: the direction slerps from x's to y's at t, the norm is the nearer parent's
    (x's for t < 1/2, y's otherwise). For independent N(0, I) parents the child is exactly N(0, I) (its direction is
    uniform by symmetry, its norm one parent's chi-distributed norm, independent given t); for repeated or
    correlated parents its norm is still one of theirs, so norms never drift."""
    nx, ny = np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1)
    ux, uy = x / np.maximum(nx, 1e-12)[:, None], y / np.maximum(ny, 1e-12)[:, None]
    direction = slerp(ux, uy, t)
    direction /= np.maximum(np.linalg.norm(direction, axis=1), 1e-12)[:, None]
    return np.where(t < 0.5, nx, ny)[:, None] * direction


def gaussian_mutation(x: np.ndarray, sigma: float, rng) -> np.ndarray:
    """sqrt(1 - s^2) x + s e, e ~ N(0, I): keeps N(0, I) for x ~ N(0, I)."""
    return np.sqrt(1.0 - sigma ** 2) * x + sigma * rng.standard_normal(x.shape)


def block_settings(method, blocks) -> list[BlockSettings]:
    """The operator settings of each block of a genome (`blocks`: harness.generators.class_genome.Block)."""
    n_var = max(b.stop for b in blocks)
    default_prob_var = 1.0 / n_var  # pymoo's own default for the whole genome (min(0.5, 1/n_var))
    out = []
    for b in blocks:
        is_class = b.name.startswith("class")
        prob_var = method.class_mutation_prob_var if is_class and method.class_mutation_prob_var is not None \
            else method.mutation_prob_var
        eta = method.class_mutation_eta if is_class and method.class_mutation_eta is not None else method.mutation_eta
        out.append(BlockSettings(b.start, b.stop, b.integer, float(method.crossover_eta),
                                 float(min(0.5, default_prob_var) if prob_var is None else prob_var), float(eta),
                                 bool(getattr(b, "gaussian", False)), float(method.noise_mutation_sigma)))
    return out


def _sub_problem(problem, block: BlockSettings) -> Problem:
    return Problem(n_var=block.stop - block.start, xl=problem.xl[block.start:block.stop],
                   xu=problem.xu[block.start:block.stop])


class BlockSBX(Crossover):
    """pymoo's SBX on each block with its own η; `prob` (per mating) applies to the whole genome."""

    def __init__(self, blocks: list[BlockSettings], prob: float):
        super().__init__(2, 2, prob=prob)
        self.blocks = blocks
        self.ops = [SBX(eta=b.crossover_eta) for b in blocks]

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        Q = np.array(X, dtype=np.float64, copy=True)
        rng = random_state if random_state is not None else np.random.default_rng()
        for block, op in zip(self.blocks, self.ops):
            if block.gaussian:  # X: [2 parents, matings, genes]
                x, y = X[0, :, block.start:block.stop], X[1, :, block.start:block.stop]
                t = rng.random(len(x))
                Q[0, :, block.start:block.stop] = slerp_keeping_norm(x, y, t)
                Q[1, :, block.start:block.stop] = slerp_keeping_norm(y, x, t)
                continue
            part = op._do(_sub_problem(problem, block), X[..., block.start:block.stop], random_state=random_state)
            Q[..., block.start:block.stop] = np.round(part) if block.integer else part
        return Q


class BlockPM(Mutation):
    """pymoo's PM on each block with its own per-gene probability and η; `prob` is per individual."""

    def __init__(self, blocks: list[BlockSettings], prob: float):
        super().__init__(prob=prob)
        self.blocks = blocks
        self.ops = [PM(eta=b.mutation_eta, prob_var=b.mutation_prob_var) for b in blocks]

    def _do(self, problem, X, *args, random_state=None, **kwargs):
        Xp = np.array(X, dtype=np.float64, copy=True)
        rng = random_state if random_state is not None else np.random.default_rng()
        for block, op in zip(self.blocks, self.ops):
            if block.gaussian:
                Xp[:, block.start:block.stop] = gaussian_mutation(Xp[:, block.start:block.stop], block.sigma, rng)
                continue
            part = op._do(_sub_problem(problem, block), Xp[:, block.start:block.stop], random_state=random_state)
            Xp[:, block.start:block.stop] = np.round(part) if block.integer else part
        return Xp


def make_operators(method, blocks) -> tuple[BlockSBX, BlockPM]:
    settings = block_settings(method, blocks)
    return BlockSBX(settings, method.crossover_prob), BlockPM(settings, method.mutation_prob)
