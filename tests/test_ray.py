"""The Ray executor: a killed worker's job is retried and the archive is the local executor's."""
from __future__ import annotations

import json
import os
import signal
import threading
import time

import pandas as pd
import pytest

from harness.cli.main import main
from harness.rundir import JobKey
from helpers import live_manifest, make_suite

pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_cluster(tiny_cache):
    """One local Ray instance shared by the tests that run on Ray: started here, so every
    `harness run --executor ray` in this process joins it instead of starting its own."""
    import ray

    from harness.executors.ray_pool import ENV_KEYS

    env = {k: os.environ[k] for k in ENV_KEYS if k in os.environ}
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env})
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.mark.slow
def test_a_killed_worker_s_job_is_retried_and_nothing_is_lost(tmp_path, ray_cluster):
    """Two Ray workers, one killed inside a job: its job runs again on a replacement, every other job once, and
    the archive equals the local executor's; resuming with the local executor finds nothing left to do."""
    suite = make_suite(tmp_path / "suite", overrides={"search.population": 10, "search.offspring": 10,
                                                      "search.generations": 60})
    out = tmp_path / "ray"
    codes = []
    driver = threading.Thread(target=lambda: codes.append(main(["run", str(suite), "--out", str(out), "--executor",
                                                                  "ray", "--workers", "2", "--retries", "2"])))
    driver.start()
    victim, deadline = None, time.time() + 300
    while victim is None and time.time() < deadline and driver.is_alive():
        time.sleep(0.1)
        manifest = live_manifest(out)
        if manifest is None:
            continue
        running = [(JobKey.of(r), r) for r in manifest["jobs"] if r["status"] == "running" and r.get("worker")]
        if running:
            time.sleep(0.5)  # well inside the job (60 generations)
            victim = running[0]
    assert victim, "no job was seen running on a worker"
    job_id, rec = victim
    os.kill(int(rec["worker"].rsplit(":", 1)[1]), signal.SIGKILL)
    driver.join(timeout=600)
    assert codes == [0]
    manifest = json.loads((out / "manifest.json").read_text())
    jobs = {JobKey.of(r): r for r in manifest["jobs"]}
    assert all(j["status"] == "done" for j in jobs.values())
    assert jobs[job_id]["attempts"] == 2 and jobs[job_id]["worker"] != rec["worker"]
    assert all(r["attempts"] == 1 for k, r in jobs.items() if k != job_id)
    session = manifest["sessions"][-1]
    assert session["executor"] == "ray" and len(session["workers"]) == 3  # the replacement joined the pool
    assert {j["worker"] for j in jobs.values()} <= set(session["workers"])
    clean = tmp_path / "local"
    assert main(["run", str(suite), "--out", str(clean)]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "archive.parquet"), pd.read_parquet(clean / "archive.parquet"))
    assert main(["run", str(suite), "--out", str(out)]) == 0  # resumed locally: nothing left to run
    assert len(json.loads((out / "manifest.json").read_text())["jobs"]) == len(jobs)
    assert all(r["attempts"] == jobs[JobKey.of(r)]["attempts"]
               for r in json.loads((out / "manifest.json").read_text())["jobs"])


def test_bad_executor_options_are_one_line(tmp_path, capsys):
    suite = make_suite(tmp_path / "s")
    assert main(["run", str(suite), "--out", str(tmp_path / "r"), "--executor", "slurm"]) == 2
    assert "--executor 'slurm'" in capsys.readouterr().err
    assert main(["run", str(suite), "--out", str(tmp_path / "r"), "--executor", "ray", "--workers", "0"]) == 2
