"""A new user's first hour: Ctrl-C, an 80-column terminal, and the headline command offline."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

import pytest

from helpers import REPO, console_script, live_manifest, make_suite

HARNESS = console_script()  # beside sys.executable: an un-activated venv finds it


def foreground() -> None:
    """The child as a terminal's foreground process is: SIGINT at its default. A test run in the background of a
    non-interactive shell (as .ci/run runs its two streams) inherits SIGINT ignored, and Python then keeps ignoring
    it, so Ctrl-C would never reach the harness."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_ctrl_c_prints_the_resume_hint_exits_130_and_the_rerun_resumes(tmp_path):
    suite = make_suite(tmp_path / "suite", methods=["clip_single"],
                       overrides={"search.population": 10, "search.offspring": 10, "search.generations": 60})
    out = tmp_path / "run"
    proc = subprocess.Popen([HARNESS, "run", str(suite), "--out", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, preexec_fn=foreground)
    deadline = time.time() + 120
    while time.time() < deadline:
        jobs = (live_manifest(out) or {}).get("jobs", [])
        if any(j["status"] == "running" for j in jobs):
            break
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "interrupted: finished work is saved; rerun the same command to resume"
    statuses = [j["status"] for j in json.loads((out / "manifest.json").read_text())["jobs"]]
    assert "interrupted" in statuses
    again = subprocess.run([HARNESS, "run", str(suite), "--out", str(out)], capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0, again.stderr
    assert all(j["status"] == "done" for j in json.loads((out / "manifest.json").read_text())["jobs"])


@pytest.mark.slow
def test_an_80_column_terminal_keeps_counts_and_eta_in_the_bar(tmp_path):
    """`harness run suites/smoke` on a pseudo-terminal 80 columns wide, as a user would see it."""
    master, slave = os.openpty()
    env = {**os.environ, "COLUMNS": "80", "LINES": "40", "TERM": "xterm"}
    proc = subprocess.Popen([HARNESS, "run", str(REPO / "suites" / "smoke"), "--out", str(tmp_path / "run")],
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=600) == 0
    os.close(master)
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))
    bars = [line for line in screen.replace("\r", "\n").split("\n") if " eta " in line]
    assert bars, screen[-2000:]
    job_bars = [b for b in bars if "seed" in b]
    assert job_bars and all(len(b.rstrip()) <= 80 for b in bars)
    assert all(re.search(r"\d+/\d+ +\d:\d\d:\d\d eta [-\d]", b) for b in job_bars), job_bars[:3]
    assert any(re.search(r"^jobs .* 12/12 ", b) for b in bars)


@pytest.mark.slow
def test_the_headline_command_runs_offline_with_a_held_out_judge(tmp_path):
    out = tmp_path / "failed"
    proc = subprocess.run([HARNESS, "run", str(REPO / "suites" / "failed_captions"), "--models", "tiny",
                           "--limit", "2", "--seeds", "0", "--out", str(out),
                           "--set", "search.generations=5"], capture_output=True, text=True,
                          timeout=900, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["evaluator"]["same_model"] is False
    assert metrics["evaluator"]["clip"] != metrics["evaluator"]["search_clip"]
    assert all(e["clipscore"]["n"] == 2 for e in metrics["methods"].values())
    report = (out / "report.md").read_text()
    assert "CLIPScore evaluator: `local-dir:" in report and "evaluator_clip" in report
