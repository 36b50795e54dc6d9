"""Rich progress for runs and searches: an Observer (harness.executors.observer) of the run and a
search-loop Callback per job."""
from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Column

from harness.executors.observer import Observer
from harness.search.callbacks import Callback


def make_progress() -> Progress:
    """Counts, elapsed time and ETA always show: at 80 columns the description is cut, never the numbers."""
    from harness.cli.common import console

    description = TextColumn("{task.description}", table_column=Column(ratio=3, no_wrap=True, overflow="ellipsis",
                                                                        min_width=12))
    return Progress(description, BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=6)),
                    MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                    transient=False, expand=True, console=console)


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


class LineObserver(Observer):
    """Progress for output that is not a terminal (piped, logged): one line per event, in the order they happen
    (a live bar would be drawn once, at the end, after the phase lines)."""

    def __init__(self, console):
        self.console = console
        self.total = self.done = 0

    def jobs_started(self, total: int, label: str = "jobs") -> None:
        self.total, self.done = total, 0
        self.console.print(f"{label}: {total}", markup=False)

    def job_ended(self, key, status: str) -> None:
        self.done += 1
        self.console.print(f"[{self.done}/{self.total}] {key.label}: {status}", markup=False)

    def phase(self, name: str) -> None:
        self.console.print(name, markup=False)

    def note(self, message: str) -> None:
        self.console.print(f"note: {message}", markup=False)


class observing:
    """`with observing() as observer:` a RichObserver on a live bar in a terminal, a LineObserver otherwise."""

    def __enter__(self) -> Observer:
        from harness.cli.common import console

        if console.is_terminal:
            self.progress = make_progress()
            self.progress.__enter__()
            return RichObserver(self.progress)
        self.progress = None
        return LineObserver(console)

    def __exit__(self, *exc):
        if self.progress is not None:
            return self.progress.__exit__(*exc)
        return False


class RichObserver(Observer):
    """An overall bar of jobs and, for the job that runs, a bar of generations."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.overall = None
        self.current: GenerationProgress | None = None

    def jobs_started(self, total: int, label: str = "jobs") -> None:
        if self.overall is not None:
            self.progress.remove_task(self.overall)
        self.overall = self.progress.add_task(label, total=total)

    def job_started(self, key, generations: int):
        self.current = GenerationProgress(generations, f"  {key.label}", progress=self.progress)
        return self.current

    def job_ended(self, key, status: str) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None
        if self.overall is not None:
            self.progress.advance(self.overall)

    def phase(self, name: str) -> None:
        self.progress.console.print(name, style="dim")

    def note(self, message: str) -> None:
        self.progress.console.print(f"note: {message}", markup=False)
