"""One job = (caption, method, seed): run it (or resume it from its checkpoint) and write its files."""
from __future__ import annotations

import pickle
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.config.schema import MethodConfig
from harness.critics import SCORE_NAMES
from harness.io import atomic_write_bytes, save_png, write_json, write_parquet
from harness.runner.rundir import RunDir
from harness.search.loop import Callback, GenerationRecord, SearchResult, run_search
from harness.suites.captions import Caption

ARCHIVE_COLUMNS = ["suite", "caption_id", "caption", "method", "seed", "generation", "individual",
                   *SCORE_NAMES, "pareto_rank", "selected", "evaluations"]


@dataclass(frozen=True)
class Job:
    caption: Caption
    method: MethodConfig
    seed: int

    @property
    def id(self) -> str:
        return f"{self.caption.id}__{self.method.name}__s{self.seed}"


def record_rows(suite: str, job: Job, record: GenerationRecord) -> pd.DataFrame:
    n = len(record.X)
    selected = np.zeros(n, dtype=bool)
    if record.selected is not None:
        selected[record.selected] = True
    frame = pd.DataFrame({
        "suite": suite, "caption_id": job.caption.id, "caption": job.caption.text, "method": job.method.name,
        "seed": np.int64(job.seed), "generation": np.int64(record.generation), "individual": np.arange(n, dtype=np.int64),
        **{name: record.scores[name].astype(np.float64) for name in SCORE_NAMES},
        "pareto_rank": record.ranks.astype(np.int64), "selected": selected,
        "evaluations": np.int64(record.evaluations)})
    return frame[ARCHIVE_COLUMNS]


class ArchiveAndCheckpoint(Callback):
    """Collects the archive rows of a job and checkpoints its strategy every `every` generations
    (no checkpoint when `rundir` is None: a remote worker never writes the run directory)."""

    def __init__(self, rundir: RunDir | None, suite: str, job: Job, every: int, rows: list | None = None):
        self.rundir = rundir
        self.suite = suite
        self.job = job
        self.every = every
        self.rows: list[pd.DataFrame] = rows or []

    def on_generation(self, record, strategy) -> None:
        self.rows.append(record_rows(self.suite, self.job, record))
        if self.rundir is not None and strategy.has_next and (record.generation + 1) % self.every == 0:
            state = {"strategy": strategy, "rows": self.rows, "evaluations": record.evaluations}
            atomic_write_bytes(self.rundir.checkpoint_path(self.job.id), pickle.dumps(state))


def load_checkpoint(rundir: RunDir, job: Job) -> dict | None:
    path = rundir.checkpoint_path(job.id)
    if not path.is_file():
        return None
    try:
        return pickle.loads(path.read_bytes())
    except Exception:  # a checkpoint from another version or a torn disk: start the job over
        return None


def compute_job(suite: str, job: Job, system, every: int, state: dict | None = None, rundir: RunDir | None = None,
                callbacks=()) -> tuple[SearchResult, pd.DataFrame]:
    """Run (or continue from `state`) one job; returns its result (without history) and archive rows."""
    archive = ArchiveAndCheckpoint(rundir, suite, job, every, rows=state["rows"] if state else None)
    result = run_search(job.caption.text, job.method, system.scorer, system.generator, system.config.search,
                        job.seed, callbacks=[archive, *callbacks], strategy=state["strategy"] if state else None,
                        evaluations=state["evaluations"] if state else 0)
    result.history = []  # the rows hold it; the per-generation latents are not needed after the job
    return result, pd.concat(archive.rows, ignore_index=True)


def run_job(rundir: RunDir, suite: str, job: Job, system, every: int, callbacks=()) -> tuple[SearchResult, int]:
    """Run or resume one job and write its files; returns the result and the generation it resumed from."""
    state = load_checkpoint(rundir, job)
    resumed = state["strategy"].generation if state else 0
    result, rows = compute_job(suite, job, system, every, state, rundir, callbacks)
    write_job_files(rundir, job, result, rows)
    return result, resumed


def write_job_files(rundir: RunDir, job: Job, result: SearchResult, rows: pd.DataFrame) -> None:
    folder = rundir.job_dir(job.id)
    save_png(folder / "selected.png", result.selected_image)
    for i, image in enumerate(result.images):
        save_png(folder / "population" / f"{i:04d}.png", image)
    import io

    buf = io.BytesIO()
    np.savez(buf, latents=result.X, selected=np.int64(result.selected))
    atomic_write_bytes(folder / "latents.npz", buf.getvalue())
    write_json(folder / "result.json", {
        "job": job.id, "caption_id": job.caption.id, "caption": job.caption.text, "method": job.method.name,
        "seed": job.seed, "pick": result.pick, "selected": result.selected, "evaluations": result.evaluations,
        "selected_scores": result.selected_scores})
    write_parquet(folder / "archive.parquet", rows)
