"""The archive read in batches: each job's final generation and one job at a time equal what a whole read gives,
whatever the batch size (jobs straddling batches), and the archive is written job by job."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.errors import HarnessError
from harness.metrics.convergence import convergence
from harness.rundir import JobKey, RunDir
from harness.rundir.archive import final_populations
from harness.rundir.files import write_parquet
from harness.rundir.stream import final_rows, job_frames


def job_rows(key: JobKey, generations: int, population: int, rng) -> pd.DataFrame:
    n = generations * population
    return pd.DataFrame({
        "suite": "s", "caption_id": key.caption_id, "caption": f"caption {key.caption_id}", "method": key.method,
        "seed": np.int64(key.seed), "generation": np.repeat(np.arange(generations, dtype=np.int64), population),
        "individual": np.tile(np.arange(population, dtype=np.int64), generations),
        **{c: rng.random(n) for c in ("text_image", "image_real", "region_word", "word_label")},
        "pareto_rank": np.zeros(n, dtype=np.int64), "selected": np.arange(n) == n - 1,
        "evaluations": np.int64(n), "top_class": np.full(n, -1, dtype=np.int64),
        "top_class_weight": np.full(n, np.nan), "effective_classes": np.full(n, np.nan)})


@pytest.fixture()
def run(tmp_path):
    """A run directory of 30 jobs (1 to 4 generations, populations 1 and 7) written by write_archive."""
    rng = np.random.default_rng(0)
    rundir = RunDir(tmp_path / "run")
    keys = [JobKey(f"c{c}", m, s) for c in range(5) for m in ("no_selection", "four_objective", "best_of_n")
            for s in (0, 1)]
    for i, key in enumerate(keys):
        single = key.method == "no_selection"
        write_parquet(rundir.job_dir(key) / "archive.parquet",
                      job_rows(key, 1 if single else 1 + i % 4, 1 if single else 7, rng))
    rundir.write_archive(keys)
    return rundir, keys


@pytest.mark.parametrize("batch", [3, 7, 64, 1 << 18])
def test_final_rows_and_job_frames_equal_a_whole_read_at_any_batch_size(run, batch):
    rundir, keys = run
    whole = pd.read_parquet(rundir.path / "archive.parquet")
    finals = final_populations(whole)
    expected = pd.concat(finals.values(), ignore_index=True)
    pd.testing.assert_frame_equal(final_rows(rundir.path / "archive.parquet", batch_rows=batch), expected)
    pd.testing.assert_frame_equal(final_rows(rundir.path / "archive.parquet", ["method", "text_image"], batch),
                                  expected[["method", "text_image"]])
    jobs = list(job_frames(rundir.path / "archive.parquet", batch_rows=batch))
    assert [k for k, _ in jobs] == [(k.method, k.caption_id, k.seed) for k in keys]
    for (method, cid, seed), job in jobs:
        part = whole[(whole["method"] == method) & (whole["caption_id"] == cid) & (whole["seed"] == seed)]
        pd.testing.assert_frame_equal(job, part.reset_index(drop=True))


def test_convergence_streamed_equals_convergence_of_the_whole_archive(run):
    rundir, _ = run
    ranges = {c: (0.0, 1.0) for c in ("text_image", "image_real", "region_word", "word_label")}
    whole = convergence(pd.read_parquet(rundir.path / "archive.parquet"), ranges)
    assert convergence(job_frames(rundir.path / "archive.parquet", batch_rows=5), ranges) == whole
    assert "hypervolume" in whole["four_objective"] and "hypervolume" not in whole["no_selection"]


def test_write_archive_streams_parts_into_row_groups_and_names_a_torn_part(run):
    import pyarrow.parquet as pq

    rundir, keys = run
    whole = pd.concat([pd.read_parquet(rundir.job_dir(k) / "archive.parquet") for k in keys], ignore_index=True)
    pd.testing.assert_frame_equal(pd.read_parquet(rundir.path / "archive.parquet"), whole)
    assert pq.ParquetFile(rundir.path / "archive.parquet").metadata.num_row_groups == 1  # 30 small parts, one group
    (rundir.job_dir(keys[3]) / "archive.parquet").write_bytes(b"PAR1 torn")
    before = (rundir.path / "archive.parquet").read_bytes()
    with pytest.raises(HarnessError, match=r"s1/archive.parquet is not a readable Parquet file"):
        rundir.write_archive(keys)
    assert (rundir.path / "archive.parquet").read_bytes() == before  # the old archive is intact
    assert not [p for p in rundir.path.iterdir() if p.name.endswith(".tmp")]


def test_an_archive_whose_jobs_are_not_contiguous_is_named_not_misread(tmp_path):
    rng = np.random.default_rng(1)
    a, b = JobKey("a", "m", 0), JobKey("b", "m", 0)
    frame = pd.concat([job_rows(a, 2, 3, rng), job_rows(b, 2, 3, rng), job_rows(a, 1, 3, rng)], ignore_index=True)
    rundir = RunDir(tmp_path)
    write_parquet(tmp_path / "archive.parquet", frame)
    with pytest.raises(HarnessError, match="not contiguous"):
        list(rundir.archive_jobs())
