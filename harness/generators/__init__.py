"""Generators behind one interface (harness.generators.base.Generator), by name."""
from __future__ import annotations

from harness.errors import HarnessError
from harness.generators.base import Generator
from harness.generators.biggan import BigGANGenerator
from harness.generators.stylegan2 import StyleGAN2Generator

GENERATORS: dict[str, type[Generator]] = {"biggan": BigGANGenerator, "stylegan2_ada": StyleGAN2Generator}


def make_generator(models, cfg, device: str = "cpu") -> Generator:
    """The generator for loaded `models` (BigGAN or StyleGAN2-ADA network) and a GeneratorConfig `cfg`."""
    from harness.models.stylegan2 import Generator as StyleGAN2Net

    net = models.generator
    if isinstance(net, StyleGAN2Net):
        return StyleGAN2Generator(net, space=cfg.space, truncation=cfg.truncation, noise_mode=cfg.noise_mode,
                                  class_label=cfg.class_label, class_bound=cfg.class_bound,
                                  batch_size=cfg.batch_size, device=device)
    for key, default in (("space", "z"), ("noise_mode", "const"), ("class_label", None)):
        if getattr(cfg, key) != default:
            raise HarnessError(f"generator.{key}={getattr(cfg, key)} applies to StyleGAN2-ADA networks only; "
                               f"BigGAN takes {key}={default} (or use --set models.generator=stylegan2_ada:PKL)")
    return BigGANGenerator(net, truncation=cfg.truncation, class_bound=cfg.class_bound,
                           batch_size=cfg.batch_size, device=device)


__all__ = ["GENERATORS", "Generator", "BigGANGenerator", "StyleGAN2Generator", "make_generator"]
