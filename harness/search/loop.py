"""The search loop: caption -> latents -> images -> critics -> next latents, observed through callbacks.

The loop knows nothing of files or terminals: the archive, progress bars and checkpoints attach as
callbacks (`on_generation(record, strategy)`), and a checkpointed strategy resumes the loop.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from harness.config.schema import MethodConfig, SearchConfig
from harness.critics.timing import phase
from harness.search.pick import PICKS, all_picks, pareto_ranks
from harness.search.strategies import Strategy, make_strategy


def quantize(images: torch.Tensor) -> torch.Tensor:
    """Round images to 8 bits: the scores then describe exactly the PNGs a run stores."""
    return (images * 255.0).round() / 255.0


def to_uint8(images: torch.Tensor) -> list[np.ndarray]:
    """images float [B, 3, H, W] in [0, 1] -> B uint8 arrays [3, H, W]."""
    return list((images.detach().float().cpu() * 255.0).round_().clamp_(0, 255).to(torch.uint8).numpy())


@dataclass
class GenerationRecord:
    """The population after one generation (generation 0 = the evaluated initial population)."""

    generation: int
    X: np.ndarray  # latents float64 [P, D]
    scores: dict[str, np.ndarray]  # critic name -> float64 [P]
    ranks: np.ndarray  # Pareto rank in the method's objectives, int [P]
    evaluations: int  # generator + critic evaluations so far
    selected: int | None = None  # index of the final pick (last generation only)
    classes: dict[str, np.ndarray] | None = None  # top_class, top_class_weight, effective_classes (class genomes)
    spent: dict | None = None  # nfe, decoder_calls, critic_images so far (checkpointed with the strategy)


@dataclass
class SearchResult:
    caption: str
    method: str
    seed: int
    pick: str
    selected: int  # index into the final population
    X: np.ndarray  # final population latents [P, D]
    scores: dict[str, np.ndarray]  # final population scores
    ranks: np.ndarray
    images: list  # final population, uint8 numpy [3, H, W] each
    evaluations: int
    history: list[GenerationRecord] = field(default_factory=list)
    picks: dict[str, int] = field(default_factory=dict)  # every pick policy -> its index (selected = picks[pick])
    spent: dict = field(default_factory=dict)  # nfe, decoder_calls, critic_images, budget_nfe (harness.search.budget)
    trajectory: dict | None = None  # evo_trajectory: each individual's start_step and noise_seed (latents.npz)

    @property
    def selected_image(self) -> np.ndarray:
        return self.images[self.selected]

    @property
    def selected_scores(self) -> dict[str, float]:
        return {k: float(v[self.selected]) for k, v in self.scores.items()}


def objective_index(method: MethodConfig, names) -> list[int]:
    """The positions of the method's objectives among the scorer's critic names."""
    names = list(names)
    missing = [n for n in method.objectives if n not in names]
    if missing:
        from harness.errors import HarnessError

        raise HarnessError(f"method {method.name!r} optimises {missing[0]!r}, which is not among this run's critics "
                           f"({', '.join(names)})")
    return [names.index(name) for name in method.objectives]


def new_strategy(method: MethodConfig, search: SearchConfig, generator, seed: int, names) -> Strategy:
    """A fresh strategy whose initial latents depend only on (generator, seed): shared by all methods. Its
    generations are those the run's NFE budget pays for (harness.search.budget)."""
    from harness.search.budget import check_sampler, plan as budget_plan

    check_sampler(method, getattr(generator, "scheduler", None) is not None)
    plan = budget_plan(method, search, getattr(generator, "nfe_per_image", 1))
    if method.algorithm == "evo_trajectory":
        from harness.search.trajectory import TrajectoryStrategy

        X0 = generator.initial_latents(plan.sizes[0], seed)
        return TrajectoryStrategy(method, X0, seed, objective_index(method, names), plan)
    X0 = generator.initial_latents(plan.search.population, seed)
    xl, xu = generator.bounds()
    return make_strategy(method, plan.search, X0, xl, xu, seed, objective_index(method, names), generator.blocks())


def run_search(caption, method: MethodConfig, scorer, generator, search: SearchConfig, seed: int,
               callbacks=(), strategy: Strategy | None = None, evaluations: int = 0, timer=None,
               spent: dict | None = None) -> SearchResult:
    """Evolve latents for `caption` (a caption object with id, text and requirements, or its text) with
    `method`; resume from `strategy` when given. A text-conditioned generator is conditioned on the caption.

    evaluations, spent: how many evaluations (and NFE, decoder calls, critic images) the restored strategy had
    already spent.
    timer: an optional harness.perf.Stopwatch charged with the optimizer, generator and critic phases.
    """
    from harness.search.budget import budget_nfe
    caption_object, caption = caption, getattr(caption, "text", caption)
    generator.condition(caption_object)
    names = list(scorer.names)  # the run's critics: every one is scored for every method
    strategy = strategy or new_strategy(method, search, generator, seed, names)
    index = objective_index(method, names)
    scorer.context(caption)  # caption words checked before any image is made
    history = []

    spent = dict(spent or {"nfe": 0, "decoder_calls": 0, "critic_images": 0})
    spent["budget_nfe"] = budget_nfe(search, getattr(generator, "nfe_per_image", 1))
    while strategy.has_next:
        with phase(timer, "optimizer"):
            X = strategy.ask(generator.initial_latents)
        before = dict(getattr(generator, "counters", {}))
        with phase(timer, "generator"):  # scored exactly as stored (8-bit PNG), so rescoring matches
            images = quantize(strategy.decode(generator, X) if hasattr(strategy, "decode") else generator.decode(X))
        for key in ("nfe", "decoder_calls"):
            spent[key] += getattr(generator, "counters", {}).get(key, 0) - before.get(key, 0)
        spent["critic_images"] += len(X)
        named = scorer.score(images, caption, timer=timer)
        S = np.stack([named[n] for n in names], axis=1)
        payload = to_uint8(images)
        with phase(timer, "optimizer"):
            strategy.tell(X, S, payload)
        evaluations += len(X)
        pop = strategy.population()
        record = GenerationRecord(strategy.generation - 1, pop.X, dict(zip(names, pop.scores.T)),
                                  pareto_ranks(pop.scores[:, index]), evaluations, classes=generator.class_info(pop.X),
                                  spent=dict(spent))
        if not strategy.has_next:
            record.selected = PICKS[method.pick](pop.scores[:, index], record.scores)
        history.append(record)
        for cb in callbacks:
            cb.on_generation(record, strategy)

    pop = strategy.population()
    named = dict(zip(names, pop.scores.T))
    ranks = pareto_ranks(pop.scores[:, index])
    picks = all_picks(pop.scores[:, index], named)
    return SearchResult(caption, method.name, seed, method.pick, picks[method.pick], pop.X, named, ranks, pop.payload,
                        evaluations, history, picks, spent,
                        strategy.trajectory() if hasattr(strategy, "trajectory") else None)
