"""The system under test, assembled: models -> generator + scorer, from one RunConfig."""
from __future__ import annotations

from dataclasses import dataclass

from harness.config.schema import RunConfig
from harness.critics.scorer import Scorer
from harness.generators import Generator, make_generator
from harness.models import Models, load_models


@dataclass
class System:
    config: RunConfig
    models: Models
    generator: Generator
    scorer: Scorer


def build_system(cfg: RunConfig, models: Models | None = None) -> System:
    """Load the models of `cfg` (or reuse `models`) and build the generator and the four critics."""
    import torch

    from harness.critics import resolve_run
    from harness.models.precision import channels_last

    cfg = resolve_run(cfg)  # every critic's settings typed, plugins loaded (one line when one is broken)
    torch.set_num_threads(cfg.threads)  # before any model runs: results must not depend on the core count
    models = models or load_models(cfg.models, cfg.device, batch_size=cfg.critics.batch_size)
    models.clip.precision = models.classifier.precision = cfg.precision
    models.classifier.model = channels_last(models.classifier.model, cfg.device)
    generator = make_generator(models, cfg.generator, cfg.device)
    generator.precision = cfg.precision
    check_budget(cfg, generator, models.clip)
    scorer = Scorer.from_models(models, cfg.critics)
    if scorer.plugins:  # a plugin critic's faults show on two images, before any job
        probe_plugins(generator, scorer)
    return System(cfg, models, generator, scorer)


def probe_plugins(generator, scorer) -> None:
    """Score two images of the generator with every critic: a plugin critic that raises, exits or returns out of
    its contract (shape, finite, declared range) is one PluginError naming it before the first job runs."""
    from harness.judges.panel import PROBE_CAPTION

    images = generator.decode(generator.initial_latents(2, 0))
    scorer.score(images, PROBE_CAPTION)


def generation_bytes(cfg: RunConfig, generator, clip) -> int:
    """About how much memory one generation takes: each of its images decoded in float32 (and its 8-bit copy
    kept), its crops at CLIP's input size, and the latents and 8-bit images of the population kept."""
    side = int(generator.image_size)
    crops = cfg.critics.region_word.grid ** 2 + int(cfg.critics.region_word.center)
    clip_side = int(getattr(clip, "image_size", 224))
    evaluated = max(cfg.search.population, cfg.search.offspring)
    per_image = 3 * side * side * (4 * 3 + 1) + crops * 3 * clip_side * clip_side * 4
    kept = (cfg.search.population + cfg.search.offspring) * (3 * side * side + 8 * generator.latent_dim)
    return evaluated * per_image + kept


def check_budget(cfg: RunConfig, generator, clip) -> None:
    """Refuse, before any compute, a population whose one generation cannot fit in this machine's memory."""
    import os

    from harness.errors import HarnessError

    need = generation_bytes(cfg, generator, clip)
    try:
        have = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return
    if need > have:
        gib = 1024 ** 3
        raise HarnessError(f"search.population={cfg.search.population} and search.offspring={cfg.search.offspring} "
                           f"need about {need / gib:.0f} GiB for one generation ({generator.image_size}-px images, "
                           f"their crops and latents), more than this machine's {have / gib:.0f} GiB of memory; "
                           "lower search.population and search.offspring")
