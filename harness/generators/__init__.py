"""Generators behind one interface (harness.generators.base.Generator), by name.

A new generator: one file with a Generator subclass and its `from_config(net, cfg, device)`, one
line in GENERATORS, and (for its weights) a loader in harness.models that sets Models.generator_kind.
"""
from __future__ import annotations

from harness.generators.base import Generator
from harness.generators.biggan import BigGANGenerator
from harness.generators.stylegan2 import StyleGAN2Generator

GENERATORS: dict[str, type[Generator]] = {"biggan": BigGANGenerator, "stylegan2_ada": StyleGAN2Generator}


def make_generator(models, cfg, device: str = "cpu") -> Generator:
    """The generator for loaded `models` (its network and generator_kind) and a GeneratorConfig `cfg`."""
    return GENERATORS[models.generator_kind].from_config(models.generator, cfg, device)


__all__ = ["GENERATORS", "Generator", "BigGANGenerator", "StyleGAN2Generator", "make_generator"]
