"""The run directory: manifest, per-job files, the score archive, and a lock.

    RUN_DIR/manifest.json              resolved config, models + weight hashes, versions, per-job status
    RUN_DIR/archive.parquet            one row per individual per generation, all finished jobs
    RUN_DIR/jobs/<job>/archive.parquet that job's rows (written when the job finishes)
    RUN_DIR/jobs/<job>/selected.png, population/NNNN.png, latents.npz, result.json
    RUN_DIR/jobs/<job>/checkpoint.pkl  optimizer state, RNG and rows so far (while the job runs)

Every file is written atomically; a lock (flock, released by the OS even on SIGKILL) keeps a
second process out.
"""
from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pandas as pd

from harness.errors import HarnessError
from harness.io import write_json, write_parquet

MANIFEST = "manifest.json"
ARCHIVE = "archive.parquet"


def job_id(caption_id: str, method: str, seed: int) -> str:
    return f"{caption_id}__{method}__s{seed}"


def check_writable(path: Path) -> None:
    """Fail with one line unless `path` (or its nearest existing ancestor) is a folder we can write in."""
    path = Path(path)
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise HarnessError(f"cannot write to {path}: {probe} is not a folder; choose another --out")
    try:
        fd = os.open(probe / f".harness-probe-{os.getpid()}", os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        os.close(fd)
        os.unlink(probe / f".harness-probe-{os.getpid()}")
    except OSError as exc:
        raise HarnessError(f"cannot write to {path}: {exc.strerror.lower()} in {probe}; choose another --out") from None


class RunDir:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock_fd: int | None = None

    # ---- lock -------------------------------------------------------------------------------
    def lock(self) -> "RunDir":
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise HarnessError(f"run directory {self.path} is in use by another harness process; wait for it "
                               "to finish or choose another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd
        return self

    def unlock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self):
        return self.lock()

    def __exit__(self, *exc):
        self.unlock()

    # ---- manifest ---------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    def read_manifest(self) -> dict | None:
        if not self.manifest_path.is_file():
            return None
        try:
            return json.loads(self.manifest_path.read_text())
        except json.JSONDecodeError:
            raise HarnessError(f"{self.manifest_path} is not valid JSON; the directory was not written by "
                               "harness, or was edited: choose another --out") from None

    def write_manifest(self, manifest: dict) -> None:
        write_json(self.manifest_path, manifest)

    # ---- jobs -------------------------------------------------------------------------------
    def job_dir(self, job: str) -> Path:
        return self.path / "jobs" / job

    def checkpoint_path(self, job: str) -> Path:
        return self.job_dir(job) / "checkpoint.pkl"

    def job_archive(self, job: str) -> pd.DataFrame:
        return pd.read_parquet(self.job_dir(job) / "archive.parquet")

    def write_archive(self, jobs: list[str]) -> Path:
        """archive.parquet = the finished jobs' rows, in job order."""
        frames = [self.job_archive(j) for j in jobs if (self.job_dir(j) / "archive.parquet").is_file()]
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        write_parquet(self.path / ARCHIVE, frame)
        return self.path / ARCHIVE

    def read_archive(self) -> pd.DataFrame:
        path = self.path / ARCHIVE
        if not path.is_file():
            raise HarnessError(f"{self.path} has no {ARCHIVE}; is it a run directory? (harness run writes one)")
        return pd.read_parquet(path)


def existing_run(path: Path) -> tuple[RunDir, dict]:
    """A run directory written by harness run and its manifest; anything else is a one-line error."""
    from harness.errors import ConfigError

    rundir = RunDir(path)
    manifest = rundir.read_manifest()
    if manifest is None:
        raise ConfigError(f"{path}: no manifest.json; give a run directory written by harness run")
    return rundir, manifest
