"""The run archive read in batches, never whole: every analysis needs either each job's final generation
(the population its pick chose from: picks, judges, correlations, FID, regress, the report) or one job at a
time (convergence curves). archive.parquet holds one row per individual per generation, 5,000 rows a job at
the full budget, so a whole read grows with generations x population x jobs; these readers hold one batch of
rows plus what they keep.

Both rely on what write_archive writes: each job's rows contiguous, generations ascending.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

KEY = ["method", "caption_id", "seed"]
BATCH_ROWS = 1 << 18


def _batches(path: Path, columns: list[str] | None, batch_rows: int):
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as pf:
        for batch in pf.iter_batches(batch_size=batch_rows, columns=columns):
            yield batch.to_pandas()


def last_generations(path: Path, batch_rows: int = BATCH_ROWS) -> pd.DataFrame:
    """Per job (index method, caption_id, seed): its last generation and that generation's rows, from the key
    and generation columns only."""
    last: dict = {}
    for frame in _batches(path, [*KEY, "generation"], batch_rows):
        top = frame.groupby(KEY, sort=False)["generation"].transform("max")
        at_top = frame[frame["generation"] == top]
        for key, (gen, rows) in at_top.groupby(KEY, sort=False)["generation"].agg(["max", "size"]).iterrows():
            old = last.get(key)
            if old is None or gen > old[0]:
                last[key] = (gen, rows)
            elif gen == old[0]:
                last[key] = (gen, old[1] + rows)
    index = pd.MultiIndex.from_tuples(list(last), names=KEY) if last else \
        pd.MultiIndex.from_arrays([[], [], []], names=KEY)
    return pd.DataFrame(list(last.values()) or None, index=index, columns=["generation", "rows"], dtype=np.int64)


def final_rows(path: Path, columns: list[str] | None = None, batch_rows: int = BATCH_ROWS,
               check=None) -> pd.DataFrame:
    """Each job's last generation, in archive order; `check(jobs, rows)` is called with the number of jobs and
    of the rows that will be kept before any is kept (to refuse what cannot fit)."""
    import pyarrow.parquet as pq

    last = last_generations(path, batch_rows)
    if check is not None:
        check(len(last), int(last["rows"].sum()))
    wanted = None if columns is None else list(dict.fromkeys([*columns, *KEY, "generation"]))
    parts = []
    for frame in _batches(path, wanted, batch_rows):
        index = pd.MultiIndex.from_frame(frame[KEY])
        parts.append(frame[frame["generation"].to_numpy() == last["generation"].reindex(index).to_numpy()])
    if not parts:
        return pq.read_table(path, columns=columns).to_pandas()
    out = pd.concat(parts, ignore_index=True)
    return out if columns is None else out[columns]


def job_frames(path: Path, columns: list[str] | None = None, batch_rows: int = BATCH_ROWS):
    """Yield ((method, caption_id, seed), rows) one job at a time, in archive order. Raises ValueError when a
    job's rows are not contiguous (an archive harness did not write)."""
    wanted = None if columns is None else list(dict.fromkeys([*KEY, *columns]))
    carry, seen = None, set()

    def jobs_of(frame: pd.DataFrame, complete: bool):
        keys = frame[KEY]
        starts = np.flatnonzero((keys != keys.shift()).any(axis=1).to_numpy())
        ends = [*starts[1:], len(frame)]
        last = len(starts) if complete else len(starts) - 1
        for a, b in zip(starts[:last], ends[:last]):
            job = frame.iloc[a:b]
            key = (job["method"].iat[0], job["caption_id"].iat[0], int(job["seed"].iat[0]))
            if key in seen:
                raise ValueError(f"the rows of job {key} are not contiguous in {path}")
            seen.add(key)
            yield key, job.reset_index(drop=True)
        return frame.iloc[starts[last]:] if last < len(starts) else None

    for frame in _batches(path, wanted, batch_rows):
        if carry is not None:
            frame = pd.concat([carry, frame], ignore_index=True)
        carry = yield from jobs_of(frame, complete=False)
    if carry is not None and len(carry):
        yield from jobs_of(carry.reset_index(drop=True), complete=True)
