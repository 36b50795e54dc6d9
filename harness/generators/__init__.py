"""Generators behind one interface (harness.generators.base.Generator), by name."""
from __future__ import annotations

from harness.generators.base import Generator
from harness.generators.biggan import BigGANGenerator

GENERATORS: dict[str, type[Generator]] = {"biggan": BigGANGenerator}


def make_generator(models, cfg, device: str = "cpu") -> Generator:
    """The generator for loaded `models` and a GeneratorConfig `cfg`."""
    return BigGANGenerator(models.generator, truncation=cfg.truncation, class_bound=cfg.class_bound,
                           batch_size=cfg.batch_size, device=device)


__all__ = ["GENERATORS", "Generator", "BigGANGenerator", "make_generator"]
