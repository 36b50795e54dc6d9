"""Refuse, before any compute, an analysis whose archive cannot fit in this machine's memory.

metrics, report, compare and regress still hold a run's whole archive (one row per individual per
generation) in pandas frames, with their intermediate copies: measured on synthetic runs
(benchmarks/README.md, "Growth on the cached path") the peak grows by about BYTES_PER_ROW a row above a
fixed BASE. A run of 10^4 full-budget jobs (about 4 x 10^7 rows) needs more than a 24 GiB machine has; it
is refused with one line naming the limit, instead of being killed by the kernel after minutes of work.
"""
from __future__ import annotations

from pathlib import Path

from harness.errors import HarnessError

BYTES_PER_ROW = 650  # (3.4 GiB - 1.1 GiB) / 3,780,252 rows at 1,008 jobs; 600 between 12 and 252 jobs
BASE = int(1.2 * 2 ** 30)  # the interpreter, torch and the judges' tiny models


def available_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (Linux), or None where it cannot be read (then nothing is refused)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def needed_bytes(rows: int) -> float:
    return BASE + BYTES_PER_ROW * rows


def check_fits(rows: int, what: str, available: int | None = None) -> None:
    """One line when an analysis of `rows` archive rows would need more memory than is available."""
    available = available_bytes() if available is None else available
    if available is None or needed_bytes(rows) <= available:
        return
    most = max(0, (available - BASE) // BYTES_PER_ROW)
    raise HarnessError(f"{what}: {rows:,} archive rows need about {needed_bytes(rows) / 2 ** 30:.1f} GiB to analyse "
                       f"(the analysis holds the archive in memory, about {BYTES_PER_ROW} bytes a row) and this machine "
                       f"has {available / 2 ** 30:.1f} GiB available, enough for about {most:,} rows; run it on a "
                       "machine with more memory, or split the suite into smaller runs")


def archive_rows(path: Path) -> int:
    """Rows of a Parquet archive from its footer (nothing else is read); 0 when unreadable (its reader says why)."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).metadata.num_rows
    except Exception:  # a torn or foreign file: read_parquet names it
        return 0
