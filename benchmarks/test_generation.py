"""pytest-benchmark: one generation of four_objective (run with: python -m pytest benchmarks -m benchmark)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

pytestmark = pytest.mark.benchmark


@pytest.fixture(scope="module")
def tiny():
    return bench.build("tiny")


@pytest.mark.parametrize("population", [16, 100])
def test_batched_generation_tiny(benchmark, tiny, population):
    result = benchmark.pedantic(bench.batched_generation, args=(tiny, population), rounds=3, iterations=1)
    benchmark.extra_info.update(evals_per_s=result["evals_per_s"], split_s=result["split_s"])


@pytest.mark.parametrize("population", [16, 100])
def test_per_individual_tiny(benchmark, tiny, population):
    result = benchmark.pedantic(bench.per_individual, args=(tiny, population), rounds=3, iterations=1)
    benchmark.extra_info.update(evals_per_s=result["evals_per_s"])
