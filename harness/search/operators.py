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
                                 float(min(0.5, default_prob_var) if prob_var is None else prob_var), float(eta)))
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
        for block, op in zip(self.blocks, self.ops):
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
        for block, op in zip(self.blocks, self.ops):
            part = op._do(_sub_problem(problem, block), Xp[:, block.start:block.stop], random_state=random_state)
            Xp[:, block.start:block.stop] = np.round(part) if block.integer else part
        return Xp


def make_operators(method, blocks) -> tuple[BlockSBX, BlockPM]:
    settings = block_settings(method, blocks)
    return BlockSBX(settings, method.crossover_prob), BlockPM(settings, method.mutation_prob)
