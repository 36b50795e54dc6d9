"""Refuse, before any compute, an analysis that cannot fit in this machine's memory.

metrics, report, compare and regress read each job's final generation (harness.rundir.stream), never the
whole archive, but they hold per-job results (metrics.json keeps every job's record for each pick policy and
every job's correlations) and per-row work on the final populations. Their peak, measured on runs of 4,896
to 10,080 jobs (benchmarks/README.md, "At the scale of the shipped suites"), is below BASE + PER_JOB a job +
PER_ROW a final-generation row (the constants round the measured slopes up by about a fifth). A run the
machine cannot analyse is refused with one line naming the limit, instead of being killed by the kernel after
hours of work.
"""
from __future__ import annotations

from pathlib import Path

from harness.errors import HarnessError

BASE = 900 * 2 ** 20  # the interpreter, torch, pandas and the judges' tiny models
PER_JOB = 96 * 2 ** 10  # measured 78 KiB: 1,130 -> 1,502 MiB from Parti's 4,896 jobs to 9,792 (4 a population)
PER_ROW = 3 * 2 ** 10  # measured 2.85 KiB: 10,080 jobs with 758,520 final-population rows peaked at 3,635 MiB
WHOLE_ROW = 650  # a whole-archive read (RunDir.read_archive, for tools and tests): 3.4 GiB at 3,780,252 rows


def available_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (Linux), or None where it cannot be read (then nothing is refused)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def needed_bytes(jobs: int, rows: int) -> int:
    """Peak memory of analysing `jobs` jobs whose final generations hold `rows` rows together."""
    return BASE + PER_JOB * jobs + PER_ROW * rows


def check_fits(jobs: int, rows: int, what: str, available: int | None = None) -> None:
    """One line when analysing `jobs` jobs with `rows` final-generation rows needs more than is available."""
    _check(needed_bytes(jobs, rows), f"{jobs:,} job{'' if jobs == 1 else 's'} with {rows:,} final-population rows",
           what, available)


def check_whole_fits(rows: int, what: str, available: int | None = None) -> None:
    _check(BASE + WHOLE_ROW * rows, f"{rows:,} archive rows read whole", what, available)


def _check(needed: int, size: str, what: str, available: int | None) -> None:
    available = available_bytes() if available is None else available
    if available is None or needed <= available:
        return
    raise HarnessError(f"{what}: {size} need about {needed / 2 ** 30:.1f} GiB of memory to analyse; this machine has "
                       f"{available / 2 ** 30:.1f} GiB available; run the analysis on a machine with more memory, or "
                       "split the suite into smaller runs (fewer captions, seeds or methods a run, or a smaller "
                       "search.population)")


def archive_rows(path: Path) -> int:
    """Rows of a Parquet archive from its footer (nothing else is read); 0 when unreadable (its reader says why)."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).metadata.num_rows
    except Exception:  # a torn or foreign file: read_parquet names it
        return 0
