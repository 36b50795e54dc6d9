"""Wall-time accounting for the search loop: a Stopwatch the loop and the Scorer report phases to.

The default is a no-op; benchmarks pass a Stopwatch and read `totals`. On CUDA the watch
synchronizes at phase boundaries so that asynchronous kernels are charged to their phase.
"""
from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager, nullcontext


class Stopwatch:
    def __init__(self, sync_cuda: bool = False):
        self.totals: dict[str, float] = defaultdict(float)
        self.sync_cuda = sync_cuda

    def _sync(self) -> None:
        if self.sync_cuda:
            import torch

            torch.cuda.synchronize()

    @contextmanager
    def __call__(self, name: str):
        self._sync()
        start = time.perf_counter()
        try:
            yield
        finally:
            self._sync()
            self.totals[name] += time.perf_counter() - start


def phase(timer, name: str):
    """`timer(name)` when a Stopwatch is given, else a no-op context."""
    return timer(name) if timer is not None else nullcontext()
