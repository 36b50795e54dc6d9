"""One job = (caption, method, seed): run it (or resume it from its checkpoint) and write its files."""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from harness.config.schema import MethodConfig
from harness.rundir import JobKey, RunDir
from harness.rundir.archive import generation_rows
from harness.rundir.files import atomic_write_bytes
from harness.search.callbacks import Callback
from harness.suites.captions import Caption

if TYPE_CHECKING:
    from harness.search.loop import SearchResult


@dataclass(frozen=True)
class Job:
    caption: Caption
    method: MethodConfig
    seed: int

    @property
    def key(self) -> JobKey:
        return JobKey(self.caption.id, self.method.name, int(self.seed))


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
        self.rows.append(generation_rows(self.suite, self.job.key, self.job.caption.text, record))
        if self.rundir is not None and strategy.has_next and (record.generation + 1) % self.every == 0:
            state = {"strategy": strategy, "rows": self.rows, "evaluations": record.evaluations,
                     "spent": record.spent}
            atomic_write_bytes(self.rundir.checkpoint_path(self.job.key), pickle.dumps(state))


def load_checkpoint(rundir: RunDir, job: Job) -> dict | None:
    path = rundir.checkpoint_path(job.key)
    if not path.is_file():
        return None
    try:
        return pickle.loads(path.read_bytes())
    except Exception:  # a checkpoint from another version or a torn disk: start the job over
        return None


def compute_job(suite: str, job: Job, system, every: int, state: dict | None = None, rundir: RunDir | None = None,
                callbacks=()) -> tuple[SearchResult, pd.DataFrame]:
    """Run (or continue from `state`) one job; returns its result (without history) and archive rows."""
    from harness.search.loop import run_search

    archive = ArchiveAndCheckpoint(rundir, suite, job, every, rows=state["rows"] if state else None)
    result = run_search(job.caption, job.method, system.scorer, system.generator, system.config.search,
                        job.seed, callbacks=[archive, *callbacks], strategy=state["strategy"] if state else None,
                        evaluations=state["evaluations"] if state else 0, spent=state.get("spent") if state else None)
    result.history = []  # the rows hold it; the per-generation latents are not needed after the job
    return result, pd.concat(archive.rows, ignore_index=True)


def run_job(rundir: RunDir, suite: str, job: Job, system, every: int, callbacks=()) -> tuple[SearchResult, int]:
    """Run or resume one job and write its files; returns the result and the generation it resumed from."""
    state = load_checkpoint(rundir, job)
    resumed = state["strategy"].generation if state else 0
    result, rows = compute_job(suite, job, system, every, state, rundir, callbacks)
    rundir.write_job(job.key, job.caption.text, result, rows)
    return result, resumed


def restore_job(rundir: RunDir, job: Job, system, record: dict, problems: dict[str, str]) -> bool:
    """Restore the images and result.json of a finished job from its latents.npz (re-decoded: the image is a
    function of the latent) and its manifest record; False when the latents or the archive rows themselves
    are gone (the job must run again)."""
    import numpy as np

    from harness.rundir import layout
    from harness.rundir.files import save_png, write_json
    from harness.search.loop import quantize, to_uint8

    if system is None or layout.LATENTS in problems or layout.JOB_ARCHIVE in problems:
        return False
    folder = rundir.job_dir(job.key)
    with np.load(folder / layout.LATENTS) as data:
        latents, selected = data["latents"], int(data["selected"])
        trajectory = {k: data[k] for k in ("start_step", "noise_seed") if k in data.files}
    images = [name for name in problems if name.endswith(".png")]
    if images:
        system.generator.condition(job.caption)  # a text-conditioned generator decodes for this caption
        decoded = to_uint8(quantize(decode_latents(system.generator, latents, trajectory)))
        for name in images:
            index = selected if name == layout.SELECTED_PNG else int(Path(name).stem)
            save_png(folder / name, decoded[index])
    if layout.RESULT in problems:
        write_json(folder / layout.RESULT, {
            **job.key.record(), "caption": job.caption.text, "pick": job.method.pick,
            "selected": record.get("selected", selected), "picks": record.get("picks", {}),
            "evaluations": record.get("evaluations"), "selected_scores": record.get("selected_scores", {}),
            **{k: record[k] for k in SPENT if k in record}})
    return True


SPENT = ("nfe", "decoder_calls", "critic_images", "budget_nfe")  # a job's compute, in its record and result.json


def decode_latents(generator, latents, trajectory: dict):
    """A job's stored population re-decoded: initial latents through the generator; evo_trajectory's states from
    the step each is at, with its sampler seed."""
    import torch

    if not trajectory:
        return generator.decode(latents)
    steps, seeds = trajectory["start_step"], trajectory["noise_seed"]
    out = [None] * len(latents)
    for step in sorted(set(steps.tolist())):
        rows = [i for i, s in enumerate(steps) if s == step]
        images, _ = generator.denoise(latents[rows], int(step), seeds[rows])
        for i, image in zip(rows, images):
            out[i] = image
    return torch.stack(out)
