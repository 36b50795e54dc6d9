"""The room that builds models: the `tiny` profile's small seeded models (and the `random` profile's random words),
written in the real file formats (harness.tiny.builders). Nothing in the loading path imports it: importing this
package registers its builders in harness.models.cache, which loading asks for folders; the `harness` command, its
runners and the tests import it. Registering imports no torch: a builder's module loads when a model is built.
"""
from __future__ import annotations

from importlib import import_module

from harness.models import cache

COMPONENTS = ("clip", "evaluator_clip", "classifier", "words", "generator", "stylegan2", "pickscore", "hpsv2_base",
              "hpsv2", "detector", "diffusion", "random-words")


def _builder(component: str):
    def build(folder):
        builders = import_module("harness.tiny.builders")
        return getattr(builders, builders.BUILT[component])(folder)
    return build


def register() -> None:
    """Every builder into harness.models.cache.BUILDERS (done on import)."""
    cache.BUILDERS.update({c: _builder(c) for c in COMPONENTS})


register()
