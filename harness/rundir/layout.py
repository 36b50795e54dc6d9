"""Where things live in a run directory, and the one job key.

A job is (caption_id, method, seed): a `JobKey`, stored as three columns (archive) or three fields
(manifest), never parsed back out of a name. `job_folder` is the one place a key becomes a path:

    layout 2 (current): jobs/<caption_id>/<method>/s<seed>/
    layout 1 (read only): jobs/<caption_id>__<method>__s<seed>/, taken from each job's manifest record

Nested folders are injective: caption ids and method names cannot contain '/' (suites and
baselines refuse them), so caption `a__b` with method `c` and caption `a` with method `b__c` get
different folders.
"""
from __future__ import annotations

from dataclasses import dataclass

LAYOUT_VERSION = 2
KEY_FIELDS = ("caption_id", "method", "seed")

MANIFEST = "manifest.json"
JOURNAL = "jobs.jsonl"  # job records changed since manifest.json was last written whole
ARCHIVE = "archive.parquet"
METRICS = "metrics.json"
REPORT = "report.md"
FIGURES = "figures"
LOCK = ".lock"

# inside a job folder
SELECTED_PNG = "selected.png"
POPULATION = "population"
LATENTS = "latents.npz"
RESULT = "result.json"
JOB_ARCHIVE = "archive.parquet"
CHECKPOINT = "checkpoint.pkl"


@dataclass(frozen=True, order=True)
class JobKey:
    caption_id: str
    method: str
    seed: int

    def record(self) -> dict:
        return {"caption_id": self.caption_id, "method": self.method, "seed": int(self.seed)}

    @classmethod
    def of(cls, row) -> "JobKey":
        """The key of a manifest record, an archive row (namedtuple or Series) or a dict."""
        get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
        return cls(str(get("caption_id")), str(get("method")), int(get("seed")))

    @property
    def label(self) -> str:
        """For people (progress bars, messages); never parsed."""
        return f"{self.caption_id} / {self.method} / seed {self.seed}"


def job_folder(key: JobKey) -> str:
    """The job's folder, relative to the run directory (layout 2)."""
    return f"jobs/{key.caption_id}/{key.method}/s{int(key.seed)}"


def population_png(index: int) -> str:
    return f"{POPULATION}/{int(index):04d}.png"
