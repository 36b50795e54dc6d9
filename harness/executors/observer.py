"""How a run reports progress without knowing who listens: the CLI passes an Observer (rich bars);
the Python API passes none. Nothing below the CLI imports the CLI."""
from __future__ import annotations


class Observer:
    """No-op base; override what you show."""

    def jobs_started(self, total: int, label: str = "jobs") -> None:
        """`total` jobs will be reported (skipped ones included)."""

    def job_started(self, key, generations: int):
        """A job begins; return a search-loop Callback for per-generation progress, or None."""
        return None

    def job_ended(self, key, status: str) -> None:
        """status: done, skipped, failed or interrupted."""

    def phase(self, name: str) -> None:
        """A phase after the jobs begins: 'metrics', 'report'."""

    def note(self, message: str) -> None:
        """Something the user should know about the run (a job restored or rerun on resume)."""


NULL = Observer()
