"""Generators behind one interface (harness.generators.base.Generator), by name.

A new generator: one file with a Generator subclass and its `from_config(net, cfg, device)`, one line in
GENERATORS, and (for its weights) a loader in harness.models. Outside the package, an entry point of
harness.generators names a Generator subclass that also loads its own network (`load_net(arg, profile,
device, cache_dir)`, optionally `files(arg, profile)`), chosen with `--set models.generator=NAME:ARG`.
"""
from __future__ import annotations

from harness.generators.base import Generator
from harness.generators.biggan import BigGANGenerator
from harness.generators.diffusion import DiffusionGenerator
from harness.generators.stylegan2 import StyleGAN2Generator

GENERATORS: dict[str, type[Generator]] = {"biggan": BigGANGenerator, "stylegan2_ada": StyleGAN2Generator,
                                          "diffusion": DiffusionGenerator}


def make_generator(models, cfg, device: str = "cpu") -> Generator:
    """The generator for loaded `models` (its network and generator_kind: a registered one, or a generator
    plugin of harness.generators) and a GeneratorConfig `cfg`."""
    cls = GENERATORS.get(models.generator_kind)
    if cls is None:
        from harness.models.profiles import load_generator_plugin

        from harness.contracts import INSTANCE, check
        from harness.errors import HarnessError

        cls = load_generator_plugin(models.generator_kind)
        if not (isinstance(cls, type) and issubclass(cls, Generator)):
            raise HarnessError(f"models.generator: the generator plugin {models.generator_kind!r} is not a subclass "
                               "of harness.generators.base.Generator")
        made = cls.from_config(models.generator, cfg, device)
        check(made, "generator", models.generator_kind, "models.generator", INSTANCE["generator"])
        return made
    return cls.from_config(models.generator, cfg, device)


__all__ = ["GENERATORS", "Generator", "BigGANGenerator", "DiffusionGenerator", "StyleGAN2Generator", "make_generator"]
