"""Compute counted as the field counts it: function evaluations (NFE), one per denoiser step per image (a GAN image
is 1), and every method of a run planned to spend one budget of them.

The budget is `search.nfe`, else the evolutionary methods' `population + offspring x (generations - 1)` images at
the generator's steps per image. A method that searches initial latents (NSGA-II, GA, random search, zero-order)
gets as many generations as the budget pays for; `no_selection` makes one image; `evo_trajectory` scales its
schedules (harness.search.trajectory): the evolution steps to the generator's step count, the population sizes so
its NFE, sum of size x steps still to denoise, comes as close to the budget as whole individuals allow.
Checked before any model loads (the suite's step count is in its config).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from harness.config.schema import MethodConfig, SearchConfig
from harness.errors import ConfigError

@dataclass(frozen=True)
class Plan:
    search: SearchConfig  # the method's own search settings (generations paid by the budget)
    nfe: int  # what it will spend
    budget: int  # the run's budget in NFE
    evolution_steps: tuple[int, ...] = ()  # evo_trajectory: the steps where a generation evolves
    sizes: tuple[int, ...] = ()  # evo_trajectory: each generation's size (initial first)
    elites: int = 0

    @property
    def generations(self) -> int:
        return len(self.sizes) if self.sizes else self.search.generations


def is_diffusion(generator: str | None) -> bool:
    """Does `models.generator` name a diffusion pipeline (`diffusion` or `diffusion:ID`)?"""
    return (generator or "").split(":", 1)[0] == "diffusion"


def steps_per_image(cfg) -> int:
    """NFE of one image from noise: the diffusion generator's steps, 1 for a GAN (cfg: a RunConfig)."""
    return int(cfg.generator.steps) if is_diffusion(cfg.models.generator) else 1


def check_sampler(method: MethodConfig, multistep: bool) -> None:
    """evo_trajectory evolves states along the denoising path: it needs a sampler that can start part-way."""
    if method.algorithm == "evo_trajectory" and not multistep:
        raise ConfigError(f"method {method.name!r} evolves states along the denoising path: it needs "
                          f"models.generator=diffusion with generator.scheduler=ddim (a multi-step sampler)")


def budget_nfe(search: SearchConfig, steps: int) -> int:
    return int(search.nfe) if search.nfe is not None else search.budget * steps


def plan(method: MethodConfig, search: SearchConfig, steps: int) -> Plan:
    """What `method` spends under the run's budget; ConfigError (one line) when the budget cannot pay for it."""
    budget = budget_nfe(search, steps)
    if method.algorithm == "single":
        return Plan(dataclasses.replace(search, generations=1), steps, budget)
    if method.algorithm == "evo_trajectory":
        return trajectory_plan(method, search, steps, budget)
    if search.nfe is None:
        return Plan(search, search.budget * steps, budget)
    images = budget // steps
    if images < search.population:
        raise ConfigError(f"search.nfe={budget} is smaller than one generation of {method.name}: population "
                          f"{search.population} x {steps} step(s) = {search.population * steps} NFE; raise search.nfe "
                          f"or lower search.population")
    generations = 1 + (images - search.population) // search.offspring
    searched = dataclasses.replace(search, generations=generations)
    return Plan(searched, searched.budget * steps, budget)


def trajectory_plan(method: MethodConfig, search: SearchConfig, steps: int, budget: int) -> Plan:
    where = f"baselines/{method.name}.yaml"
    evolution = [round(s * steps / method.schedule_steps) for s in method.evolution_schedule]
    if any(a >= b for a, b in zip(evolution, evolution[1:])) or evolution[-1] >= steps:
        raise ConfigError(f"{where}: evolution_schedule {method.evolution_schedule} (for {method.schedule_steps} "
                          f"steps) becomes {evolution} at generator.steps={steps}: not increasing within 0..{steps - 1}; "
                          f"write one for {steps} steps and set schedule_steps: {steps}")
    costs = [steps] + [steps - s for s in evolution]  # NFE per individual: from noise, then from each evolution step
    written = sum(n * c for n, c in zip(method.population_schedule, costs))
    sizes = [max(2, int(n * budget / written)) for n in method.population_schedule]
    spent = sum(n * c for n, c in zip(sizes, costs))
    if spent > budget:
        raise ConfigError(f"search.nfe={budget} is smaller than {method.name}'s smallest schedule (2 per generation: "
                          f"{spent} NFE at {steps} steps); raise search.nfe")
    sizes[-1] += (budget - spent) // costs[-1]  # what is left pays for more of the last generation
    spent = sum(n * c for n, c in zip(sizes, costs))
    elites = min(method.elites, min(sizes[1:]) - 1)
    return Plan(dataclasses.replace(search, population=sizes[0], generations=len(sizes)), spent, budget,
                tuple(evolution), tuple(sizes), elites)
