"""Search: strategies (pymoo NSGA-II / GA, random, single), the loop, final-pick policies, methods
checked against the registries, and the assembled system under test.

`load_method`/`check_method` import no torch (input checks run before any model); the loop and
its records load on first use."""
from __future__ import annotations

from harness.search.methods import check_method, load_method

_LAZY = {"Callback": "callbacks", "GenerationRecord": "loop", "SearchResult": "loop", "run_search": "loop",
         "PICKS": "pick", "pareto_ranks": "pick"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"harness.search.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'harness.search' has no attribute {name!r}")


__all__ = ["check_method", "load_method", *_LAZY]
