"""Rich progress bars attached to the search loop as callbacks."""
from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from harness.search.loop import Callback


def make_progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("eta"), TimeRemainingColumn(), transient=False)


class GenerationProgress(Callback):
    """A bar of generations for one job; usable as a context manager or inside a shared Progress."""

    def __init__(self, generations: int, label: str, progress: Progress | None = None, done: int = 0):
        self._own = progress is None
        self.progress = progress or make_progress()
        self.label = label
        self.task = self.progress.add_task(label, total=generations, completed=done)

    def on_generation(self, record, strategy) -> None:
        self.progress.update(self.task, completed=record.generation + 1,
                             description=f"{self.label}  best text_image {record.scores['text_image'].max():.3f}")

    def close(self) -> None:
        if self._own:
            self.progress.stop()
        else:
            self.progress.remove_task(self.task)

    def __enter__(self):
        if self._own:
            self.progress.start()
        return self

    def __exit__(self, *exc):
        self.close()
