"""What observes the search loop (progress bars, archive writers, checkpoints): no torch needed."""
from __future__ import annotations


class Callback:
    """Observes the loop. Every hook is optional."""

    def on_generation(self, record, strategy) -> None:
        """record: a harness.search.loop.GenerationRecord; strategy: the running Strategy."""
