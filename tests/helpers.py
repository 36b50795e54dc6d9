"""Helpers shared by the tests (imported as `helpers`; pytest puts tests/ on sys.path)."""
from __future__ import annotations


def small_config(*sets: str):
    from harness.config.run import build_run_config

    base = ["search.population=8", "search.offspring=8", "search.generations=4"]
    return build_run_config(sets=base + list(sets), models__profile="tiny")
