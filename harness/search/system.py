"""The system under test, assembled: models -> generator + scorer, from one RunConfig."""
from __future__ import annotations

from dataclasses import dataclass

from harness.config.schema import RunConfig
from harness.critics import Scorer
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

    from harness.models.precision import channels_last

    torch.set_num_threads(cfg.threads)  # before any model runs: results must not depend on the core count
    models = models or load_models(cfg.models, cfg.device, batch_size=cfg.critics.batch_size)
    models.clip.precision = models.classifier.precision = cfg.precision
    models.classifier.model = channels_last(models.classifier.model, cfg.device)
    generator = make_generator(models, cfg.generator, cfg.device)
    generator.precision = cfg.precision
    return System(cfg, models, generator, Scorer.from_models(models, cfg.critics))
