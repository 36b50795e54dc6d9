"""One generation of four_objective, timed: evaluations/s, peak memory, and where the wall time goes.

Batched: the real loop (harness.search.run_search) with a Stopwatch; the generation after the
initial one is reported (ask, decode, score, tell, records). Per-individual: the reference loop
(harness.critics.reference) on as many latents, one image at a time through the generator and every critic.
"""
from __future__ import annotations

import resource
import time

import torch

from harness.config.methods import load_method
from harness.config.run import build_run_config
from harness.critics.reference import naive_scores
from harness.critics.timing import Stopwatch
from harness.search import Callback, run_search
from harness.search.loop import quantize
from harness.search.system import build_system
import harness.tiny  # noqa: F401,E402  (the tiny profile's builders)

CAPTION = "a street scene with a double-decker bus on the road."


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(profile: str, device: str = "cpu", sets=()):
    cfg = build_run_config(sets=list(sets), models__profile=profile, device=device)
    system = build_system(cfg)
    warm = system.generator.decode(system.generator.initial_latents(1, 0))
    system.scorer.score(warm, CAPTION)  # per-caption text and the label embeddings, once, before timing
    return system


def batched_generation(system, population: int, seed: int = 0) -> dict:
    cfg = build_run_config(_plain(system.config), sets=[f"search.population={population}", f"search.offspring={population}",
                                 "search.generations=2"])
    cuda = system.config.device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    watch = Stopwatch(sync_cuda=cuda)
    marks = []

    class Mark(Callback):
        def on_generation(self, record, strategy):
            if cuda:
                torch.cuda.synchronize()
            marks.append((time.perf_counter(), dict(watch.totals)))

    run_search(CAPTION, load_method("four_objective"), system.scorer, system.generator, cfg.search, seed,
               callbacks=[Mark()], timer=watch)
    (t0, p0), (t1, p1) = marks
    wall = t1 - t0
    split = {k: p1.get(k, 0.0) - p0.get(k, 0.0) for k in p1}
    split["harness overhead"] = wall - sum(split.values())
    return {"population": population, "wall_s": wall, "evals_per_s": population / wall, "split_s": split,
            "peak_rss_mib": peak_rss_mib(),
            "peak_cuda_mib": torch.cuda.max_memory_allocated() / 2**20 if cuda else None}


def per_individual(system, population: int, seed: int = 0) -> dict:
    X = system.generator.initial_latents(population, seed)
    cuda = system.config.device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for x in X:
        image = quantize(system.generator.decode(x[None]))
        naive_scores(system.models, system.config.critics, image, CAPTION)
    if cuda:
        torch.cuda.synchronize()
    wall = time.perf_counter() - start
    return {"population": population, "wall_s": wall, "evals_per_s": population / wall}


def _plain(cfg) -> dict:
    from harness.config.typed import to_dict

    return to_dict(cfg)
