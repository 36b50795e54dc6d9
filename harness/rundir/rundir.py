"""The run directory: one object that knows its layout, manifest, archive, job files and lock.

    RUN_DIR/manifest.json         what the directory holds and how it was made (harness.rundir.manifest)
    RUN_DIR/jobs.jsonl            while a run goes on: each job record as it changes, one line appended per
                                  change (O(1) a job, not a rewrite of every record); folded into the manifest
                                  on read, and gone once the manifest is written whole again
    RUN_DIR/archive.parquet       one row per individual per generation, all finished jobs
    RUN_DIR/metrics.json, report.md, figures/
    RUN_DIR/cache/                model outputs per image hash (harness.metrics.cache): metrics reruns reuse them
    RUN_DIR/jobs/<caption_id>/<method>/s<seed>/
        selected.png, population/NNNN.png, latents.npz, result.json, archive.parquet,
        checkpoint.pkl (while the job runs)

Every file is written atomically; a lock (flock, released by the OS even on SIGKILL) keeps a
second writer out, and readers use `is_live()` to refuse a directory a run is still writing.
"""
from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pandas as pd

from harness.errors import ConfigError, HarnessError
from harness.rundir import layout
from harness.rundir.files import json_text, write_json, write_npz, write_parquet, write_parquet_parts, save_png
from harness.rundir.layout import JobKey
from harness.rundir.manifest import normalize
from harness.rundir.memory import archive_rows, check_fits, check_whole_fits


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


def foreign_entry(folder: Path, allowed) -> Path | None:
    """The first entry of `folder` (sorted) that `allowed(path)` does not accept, or None; the lock file of a
    harness process is never foreign."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    for p in sorted(folder.iterdir()):
        if p.name != layout.LOCK and not allowed(p):
            return p
    return None


def refuse_foreign(folder: Path, command: str, allowed, option: str = "--out") -> None:
    """One line, naming the first file, when `folder` holds something `harness COMMAND` did not write: nothing the
    harness did not write is ever overwritten."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{option} {folder} is a file, not a folder; choose another {option}")
    first = foreign_entry(folder, allowed)
    if first is not None:
        raise ConfigError(f"{option} {folder} holds {first.name!r}, which harness {command} did not write; nothing "
                          f"there is overwritten: choose an empty or new folder for {option}")


def is_run_directory(path: Path) -> bool:
    """Is `path` a folder harness run wrote (a manifest of kind run)?"""
    try:
        manifest = RunDir(path).read_manifest() if Path(path).is_dir() else None
    except HarnessError:
        return False
    return manifest is not None and manifest.get("kind", "run") == "run"


class RunDir:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock_fd: int | None = None
        self._created = False
        self._folders: dict[JobKey, str] = {}

    # ---- lock -------------------------------------------------------------------------------
    def lock(self) -> "RunDir":
        """Take the directory's lock (creating the directory); released, and its file removed, by unlock()."""
        self._created = not self.path.exists()
        self.path.mkdir(parents=True, exist_ok=True)
        path = self.path / layout.LOCK
        while True:
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                self._remove_if_created()
                raise HarnessError(f"run directory {self.path} is in use by another harness process; wait for it "
                                   "to finish or choose another --out") from None
            held = os.fstat(fd)
            try:
                now = os.stat(path)
            except FileNotFoundError:
                now = None
            if now is not None and (now.st_ino, now.st_dev) == (held.st_ino, held.st_dev):
                break
            os.close(fd)  # the holder released and removed the file between our open and flock: take the new one
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd
        return self

    def unlock(self) -> None:
        """Release the lock and remove its file (no `.lock` is left behind); a directory this lock created and
        nothing was written into is removed too, so a refused or failed start leaves nothing."""
        if self._lock_fd is not None:
            try:
                os.unlink(self.path / layout.LOCK)
            except FileNotFoundError:
                pass
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None
            self._remove_if_created()

    def _remove_if_created(self) -> None:
        if self._created:
            try:
                self.path.rmdir()  # only when empty
            except OSError:
                pass
            self._created = False

    def __enter__(self):
        return self.lock()

    def __exit__(self, *exc):
        self.unlock()

    def is_live(self) -> bool:
        """Does another process hold the lock (a run still writing this directory)?"""
        if self._lock_fd is not None or not (self.path / layout.LOCK).is_file():
            return False
        fd = os.open(self.path / layout.LOCK, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    # ---- manifest ---------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.path / layout.MANIFEST

    def read_manifest(self) -> dict | None:
        """The manifest in the current shape (older schemas normalized), or None when there is none."""
        if not self.manifest_path.is_file():
            return None
        try:
            manifest = normalize(json.loads(self.manifest_path.read_text(encoding="utf-8")))
            self._fold_journal(manifest)
        except (json.JSONDecodeError, AttributeError, TypeError, UnicodeDecodeError, KeyError):
            raise HarnessError(f"{self.manifest_path} is not a harness manifest; the directory was not written by "
                               "harness, or was edited: choose another --out") from None
        self._remember(manifest)
        return manifest

    def write_manifest(self, manifest: dict) -> None:
        """The whole manifest, atomically; the journal it now holds is removed."""
        self._remember(manifest)
        write_json(self.manifest_path, manifest)
        (self.path / layout.JOURNAL).unlink(missing_ok=True)

    def update_job(self, record: dict) -> None:
        """One job record changed: appended to the journal (one line, flushed to disk), so a job's bookkeeping
        costs the same at job 10 and job 30,000. read_manifest folds it in; write_manifest compacts it."""
        line = json_text(record, indent=None).encode("utf-8")
        fd = os.open(self.path / layout.JOURNAL, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o666)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":  # after a torn line: start a new one
                line = b"\n" + line
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if "folder" in record:
            self._folders[JobKey.of(record)] = record["folder"]

    def _fold_journal(self, manifest: dict) -> None:
        """Replace manifest job records by their journaled versions, last line winning; a torn last line (a
        kill mid-append) and records of jobs the manifest does not hold are left out."""
        path = self.path / layout.JOURNAL
        if not path.is_file():
            return
        records = {JobKey.of(r): i for i, r in enumerate(manifest["jobs"])}
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                rec = json.loads(line)
                index = records[JobKey.of(rec)]
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError):
                continue
            manifest["jobs"][index] = rec

    def _remember(self, manifest: dict) -> None:
        self._folders = {JobKey.of(r): r["folder"] for r in manifest.get("jobs", []) if "folder" in r}

    # ---- jobs -------------------------------------------------------------------------------
    def job_dir(self, key: JobKey) -> Path:
        return self.path / self._folders.get(key, layout.job_folder(key))

    def selected_png(self, key: JobKey) -> Path:
        return self.job_dir(key) / layout.SELECTED_PNG

    def population_png(self, key: JobKey, index: int) -> Path:
        return self.job_dir(key) / layout.population_png(index)

    def checkpoint_path(self, key: JobKey) -> Path:
        return self.job_dir(key) / layout.CHECKPOINT

    def write_job(self, key: JobKey, caption: str, result, rows: pd.DataFrame) -> None:
        """A finished job's files; `result` is a harness.search.SearchResult, `rows` its archive rows."""
        folder = self.job_dir(key)
        save_png(folder / layout.SELECTED_PNG, result.selected_image)
        for i, image in enumerate(result.images):
            save_png(folder / layout.population_png(i), image)
        write_npz(folder / layout.LATENTS, latents=result.X, selected=result.selected, **(result.trajectory or {}))
        write_json(folder / layout.RESULT, {
            **key.record(), "caption": caption, "pick": result.pick, "selected": result.selected,
            "picks": result.picks, "evaluations": result.evaluations, "selected_scores": result.selected_scores,
            **result.spent})
        write_parquet(folder / layout.JOB_ARCHIVE, rows)

    def job_problems(self, key: JobKey, population: int | None = None) -> dict[str, str]:
        """What is missing or unreadable among a finished job's outputs: {file: problem} (empty when whole).
        Checked on resume, so a job counted finished really has its files: the selected image and the
        population images (decodable PNGs), latents.npz, result.json and the job's archive rows."""
        import numpy as np
        from PIL import Image

        folder, problems = self.job_dir(key), {}
        pngs = [layout.SELECTED_PNG]
        if population is not None:
            pngs += [layout.population_png(i) for i in range(population)]
        for name in pngs:
            path = folder / name
            if not path.is_file():
                problems[name] = "missing"
                continue
            try:
                with Image.open(path) as im:
                    im.load()
            except Exception as exc:  # torn or foreign: any decoder error
                problems[name] = f"unreadable ({type(exc).__name__})"
        if not (folder / layout.LATENTS).is_file():
            problems[layout.LATENTS] = "missing"
        else:
            try:
                with np.load(folder / layout.LATENTS) as data:
                    data["latents"], data["selected"]
            except Exception:  # torn or foreign: any reader error
                problems[layout.LATENTS] = "unreadable"
        try:
            result = json.loads((folder / layout.RESULT).read_text(encoding="utf-8"))
            if not isinstance(result, dict) or "selected" not in result:
                raise ValueError
        except FileNotFoundError:
            problems[layout.RESULT] = "missing"
        except Exception:
            problems[layout.RESULT] = "unreadable"
        if not (folder / layout.JOB_ARCHIVE).is_file():
            problems[layout.JOB_ARCHIVE] = "missing"
        else:
            try:
                read_parquet(folder / layout.JOB_ARCHIVE)
            except HarnessError:
                problems[layout.JOB_ARCHIVE] = "unreadable"
        return problems

    def job_archive(self, key: JobKey) -> pd.DataFrame:
        return read_parquet(self.job_dir(key) / layout.JOB_ARCHIVE)

    # ---- archive ----------------------------------------------------------------------------
    def write_archive(self, keys: list[JobKey]) -> Path:
        """archive.parquet = the finished jobs' rows, in the order of `keys`, streamed job by job (a few
        hundred thousand rows in memory at once, whatever the run's size)."""
        parts = [self.job_dir(k) / layout.JOB_ARCHIVE for k in keys]
        parts = [p for p in parts if p.is_file()]
        if write_parquet_parts(self.path / layout.ARCHIVE, parts, read_arrow) < 0:
            write_parquet(self.path / layout.ARCHIVE, pd.DataFrame())
        return self.path / layout.ARCHIVE

    def archive_path(self) -> Path:
        path = self.path / layout.ARCHIVE
        if not path.is_file():
            raise HarnessError(f"{self.path} has no {layout.ARCHIVE}; is it a run directory? (harness run writes one)")
        return path

    def read_archive(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Every row of the archive, every generation: for tools and tests; the analysis reads read_final and
        archive_jobs, which never hold the whole archive."""
        path = self.archive_path()
        check_whole_fits(archive_rows(path), str(self.path))
        return read_parquet(path, columns=columns)

    def read_final(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Each finished job's final generation (the population its picks choose from), read in batches: what
        picks, judges, correlations, FID, regress and the report need, 1/generations of the archive."""
        from harness.rundir.stream import final_rows

        path = self.archive_path()
        try:
            return final_rows(path, columns, check=lambda jobs, rows: check_fits(jobs, rows, str(self.path)))
        except (OSError, ValueError) as exc:  # torn, foreign, or a job's rows not contiguous
            raise unreadable(path, exc) from None

    def archive_jobs(self, columns: list[str] | None = None):
        """Yield ((method, caption_id, seed), rows of every generation) one job at a time."""
        from harness.rundir.stream import job_frames

        path = self.archive_path()
        try:
            yield from job_frames(path, columns)
        except (OSError, ValueError) as exc:  # torn, foreign, or a job's rows not contiguous
            raise unreadable(path, exc) from None

    def job_values(self) -> pd.DataFrame:
        """One row per finished job: method, caption_id, caption, seed, the selected scores of the run's critics,
        and every held-out judge's score (CLIPScore, the panel) where metrics.json has them."""
        from harness.rundir.archive import selected_rows

        archive = self.read_final()
        if archive.empty:
            raise ConfigError(f"{self.path}: the archive is empty (no finished job)")
        sel = selected_rows(archive)
        metrics = self.read_metrics() or {}
        per_job = pd.DataFrame(metrics.get("per_job", []))
        judges = [j for j in metrics.get("evaluators", {"clipscore": {}}) if j in per_job]
        if not per_job.empty and judges:
            sel = sel.merge(per_job[["method", "caption_id", "seed", *judges]], how="left",
                            on=["method", "caption_id", "seed"])
        return sel

    def read_metrics(self) -> dict | None:
        path = self.path / layout.METRICS
        if not path.is_file():
            return None
        try:
            metrics = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise HarnessError(f"{path} is not readable JSON ({type(exc).__name__}); recompute it with `harness "
                               f"metrics {self.path}` (model outputs are cached), or remove the file") from None
        if not isinstance(metrics, dict):
            raise HarnessError(f"{path} is not a harness metrics file; recompute it with `harness metrics {self.path}`")
        return metrics

    def write_metrics(self, metrics: dict) -> Path:
        write_json(self.path / layout.METRICS, metrics)
        return self.path / layout.METRICS


def read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A Parquet file of the run directory; a torn or foreign file is one line naming it and the way out."""
    try:
        return pd.read_parquet(path, columns=columns)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError; a torn file an OSError
        raise unreadable(path, exc) from None


def read_arrow(path: Path):
    """read_parquet as a pyarrow Table."""
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path)
    except (OSError, ValueError) as exc:
        raise unreadable(path, exc) from None


def unreadable(path: Path, exc: Exception) -> HarnessError:
    reason = " ".join(str(exc).split())[:120]
    return HarnessError(f"{path} is not a readable Parquet file ({reason}); rerun `harness run` with the suite that "
                        "made this folder (--out it) to rebuild it from the job folders, or remove the file")


def existing_run(path: Path, allow_live: bool = False) -> tuple[RunDir, dict]:
    """A finished (or stopped) run directory written by harness run, and its manifest; else one line."""
    rundir = RunDir(path)
    if not Path(path).is_dir():
        raise ConfigError(f"{path}: no such folder; give a run directory written by harness run")
    manifest = rundir.read_manifest()
    if manifest is None:
        raise ConfigError(f"{path}: no manifest.json; give a run directory written by harness run")
    if manifest.get("kind", "run") != "run":
        raise ConfigError(f"{path} holds the output of harness {manifest['kind']}, not a suite run; "
                          "harness report/metrics/compare/regress read directories written by harness run")
    if not allow_live and rundir.is_live():
        raise HarnessError(f"{path} is being written by a running harness process; wait for it to finish "
                           "(its report and metrics are written at the end of the run)")
    return rundir, manifest
