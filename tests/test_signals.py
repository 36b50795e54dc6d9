"""Nothing silently replaced or left behind: a search into a folder another harness process holds is refused at
once (two searches into one --out both exited 0 and the first's output was replaced), and SIGTERM is handled as
Ctrl-C is: the lock released, the way to resume printed, exit 143, and the rerun resumes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from helpers import console_script, make_suite

ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def test_a_search_into_a_folder_another_process_holds_is_refused_and_writes_nothing(tmp_path):
    from harness.rundir import RunDir

    out = tmp_path / "out"
    with RunDir(out):  # as a running search holds it
        proc = subprocess.run([console_script(), "search", "a cat", "--models", "tiny", "--out", str(out),
                               "--set", "search.generations=2"], capture_output=True, text=True, env=ENV, timeout=300)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and "in use by another harness process" in lines[0], proc.stderr
        assert [p.name for p in out.iterdir()] == [".lock"]


@pytest.mark.slow
def test_sigterm_releases_the_lock_says_how_to_resume_and_the_rerun_finishes(tmp_path):
    suite = make_suite(tmp_path / "suite", methods=["clip_single", "four_objective"],
                       overrides={"search.population": 8, "search.offspring": 8, "search.generations": 100})
    out = tmp_path / "run"
    argv = [console_script(), "run", str(suite), "--out", str(out)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    deadline = time.time() + 300
    while time.time() < deadline and not (out / "jobs.jsonl").is_file():  # the first job has started
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 143, stderr[-2000:]
    assert "terminated by SIGTERM" in stderr and "rerun the same command to resume" in stderr
    assert "Traceback" not in stderr and not (out / ".lock").exists()
    done = subprocess.run(argv, capture_output=True, text=True, env=ENV, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert all(job["status"] == "done" for job in manifest["jobs"])


def test_a_torchvision_that_does_not_match_torch_is_one_line(tmp_path):
    """A stand-in torchvision whose import fails as a mismatched build's does, first on the path."""
    fake = tmp_path / "site" / "torchvision"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise RuntimeError("operator torchvision::nms does not exist")\n')
    env = {**ENV, "PYTHONPATH": str(tmp_path / "site")}
    proc = subprocess.run([console_script(), "search", "a cat", "--models", "tiny", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, timeout=300)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-2000:]
    assert "do not work together" in lines[0] and "torchvision::nms" in lines[0] and "pip install torch" in lines[0]
    assert not (tmp_path / "out").exists()
