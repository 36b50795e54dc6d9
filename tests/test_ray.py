"""The Ray executor: the same archive as the local executor, and a killed worker's job is retried."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from harness.cli.main import main
from helpers import REPO, harness_cli, make_suite

pytest.importorskip("ray")


def test_smoke_on_two_ray_workers_gives_the_local_archive(tmp_path):
    local, remote = tmp_path / "local", tmp_path / "ray"
    assert main(["run", str(REPO / "suites" / "smoke"), "--out", str(local)]) == 0
    assert main(["run", str(REPO / "suites" / "smoke"), "--out", str(remote), "--executor", "ray",
                 "--workers", "2"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(local / "archive.parquet"), pd.read_parquet(remote / "archive.parquet"))
    manifest = json.loads((remote / "manifest.json").read_text())
    session = manifest["sessions"][-1]
    assert session["executor"] == "ray" and len(session["workers"]) == 2
    assert {j["worker"] for j in manifest["jobs"].values()} <= set(session["workers"])
    assert all(j["status"] == "done" and j["attempts"] == 1 for j in manifest["jobs"].values())
    # resuming a Ray run with the local executor finds nothing left to do
    assert main(["run", str(REPO / "suites" / "smoke"), "--out", str(remote)]) == 0


def test_a_killed_worker_s_job_is_retried_and_nothing_is_lost(tmp_path):
    suite = make_suite(tmp_path / "suite", overrides={"search.population": 10, "search.offspring": 10,
                                                      "search.generations": 60})
    out = tmp_path / "ray"
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", str(suite), "--out", str(out), "--executor", "ray",
                             "--workers", "2", "--retries", "2"], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    victim, deadline = None, time.time() + 300
    while victim is None and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
        try:
            manifest = json.loads((out / "manifest.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            continue
        running = [(j, r) for j, r in manifest["jobs"].items() if r["status"] == "running" and r.get("worker")]
        if running:
            time.sleep(0.5)  # well inside the job (60 generations)
            victim = running[0]
    assert victim, "no job was seen running on a worker"
    job_id, rec = victim
    os.kill(int(rec["worker"].rsplit(":", 1)[1]), signal.SIGKILL)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert all(j["status"] == "done" for j in manifest["jobs"].values())
    assert manifest["jobs"][job_id]["attempts"] == 2 and manifest["jobs"][job_id]["worker"] != rec["worker"]
    assert len(manifest["sessions"][-1]["workers"]) == 3  # the replacement joined the pool
    clean = tmp_path / "local"
    assert harness_cli("run", suite, "--out", clean).returncode == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "archive.parquet"), pd.read_parquet(clean / "archive.parquet"))


def test_bad_executor_options_are_one_line(tmp_path, capsys):
    suite = make_suite(tmp_path / "s")
    assert main(["run", str(suite), "--out", str(tmp_path / "r"), "--executor", "slurm"]) == 2
    assert "--executor 'slurm'" in capsys.readouterr().err
    assert main(["run", str(suite), "--out", str(tmp_path / "r"), "--executor", "ray", "--workers", "0"]) == 2
