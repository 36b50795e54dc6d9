"""`harness run`: a complete run directory, determinism, resume after SIGKILL, lock, bad input."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import yaml

from harness.cli.main import main
from harness.critics import SCORE_NAMES
from harness.rundir import ARCHIVE_COLUMNS, JobKey, job_folder
from helpers import REPO, harness_cli, live_manifest, make_suite, tree_digest


@pytest.fixture(scope="module")
def mini_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("mini")
    suite = make_suite(root / "suite")
    out = root / "run"
    assert main(["run", str(suite), "--out", str(out)]) == 0
    return suite, out


def test_run_directory_is_complete(mini_run):
    suite, out = mini_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest) >= {"config", "methods", "seeds", "models", "versions", "git_commit", "device", "started",
                             "ended", "jobs"}
    assert manifest["models"]["profile"] == "tiny"
    assert all(w["sha256"] for files in manifest["models"]["weights"].values() for w in files)
    assert manifest["versions"]["torch"] and manifest["ended"]
    assert len(manifest["jobs"]) == 4 and all(j["status"] == "done" for j in manifest["jobs"])
    assert manifest["layout"] == 2 and manifest["kind"] == "run" and manifest["suite"]["version"] == 1
    archive = pd.read_parquet(out / "archive.parquet")
    assert list(archive.columns) == ARCHIVE_COLUMNS
    assert len(archive) == 4 * 3 * 6  # jobs x generations x population: one row per individual per generation
    for (cid, method, seed), group in archive.groupby(["caption_id", "method", "seed"]):
        assert sorted(group["generation"].unique()) == [0, 1, 2]
        assert group["selected"].sum() == 1 and group.loc[group["selected"], "generation"].item() == 2
        job = out / job_folder(JobKey(cid, method, seed))
        assert (job / "selected.png").is_file() and len(list((job / "population").glob("*.png"))) == 6
        latents = np.load(job / "latents.npz")
        assert latents["latents"].shape[0] == 6 and int(latents["selected"]) == group.loc[group["selected"],
                                                                                          "individual"].item()
        assert not (job / "checkpoint.pkl").exists()


def test_latents_re_decode_to_the_stored_images(mini_run, tiny_system):
    from harness.rundir.files import load_png

    _, out = mini_run
    job = out / "jobs" / "cat" / "four_objective" / "s0"
    latents = np.load(job / "latents.npz")
    images = tiny_system.generator.decode(latents["latents"])
    stored = load_png(job / "population" / "0003.png")
    assert (images[3] - stored).abs().max() <= 1 / 255 + 1e-6


@pytest.mark.slow
def test_rerun_skips_finished_jobs_and_same_seeds_give_the_same_archive(mini_run, tmp_path, capsys):
    suite, out = mini_run
    before = tree_digest(out / "jobs")
    assert main(["run", str(suite), "--out", str(out)]) == 0
    assert "0 job(s) run, 4 already finished" in capsys.readouterr().out.replace("\n", " ")
    assert tree_digest(out / "jobs") == before
    other = tmp_path / "again"
    assert main(["run", str(suite), "--out", str(other)]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "archive.parquet"), pd.read_parquet(other / "archive.parquet"))


@pytest.mark.slow
def test_kill_mid_job_then_resume_gives_the_uninterrupted_archive(tmp_path):
    suite = make_suite(tmp_path / "suite", overrides={"search.population": 10, "search.offspring": 10,
                                                      "search.generations": 40})
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", str(suite), "--out", str(killed)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 240
    target = None
    while time.time() < deadline and target is None:
        time.sleep(0.05)
        manifest = live_manifest(killed)
        if manifest is None:
            continue
        done = [JobKey.of(r) for r in manifest["jobs"] if r["status"] == "done"]
        running = [JobKey.of(r) for r in manifest["jobs"] if r["status"] == "running"]
        if done and running and (killed / job_folder(running[0]) / "checkpoint.pkl").exists():
            target = running[0]
    assert target, "the run never reached a checkpointed second job"
    time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished_before = [JobKey.of(r) for r in live_manifest(killed)["jobs"] if r["status"] == "done"]
    resumed = harness_cli("run", suite, "--out", killed)
    assert resumed.returncode == 0, resumed.stderr
    assert harness_cli("run", suite, "--out", clean).returncode == 0
    pd.testing.assert_frame_equal(pd.read_parquet(killed / "archive.parquet"),
                                  pd.read_parquet(clean / "archive.parquet"))
    jobs = {JobKey.of(r): r for r in json.loads((killed / "manifest.json").read_text())["jobs"]}
    assert all(jobs[j]["attempts"] == 1 for j in finished_before)  # no finished job was recomputed
    assert jobs[target]["attempts"] == 2 and jobs[target]["resumed_from_generation"] > 0
    assert len(json.loads((killed / "manifest.json").read_text())["sessions"]) == 2


def test_second_process_is_locked_out(mini_run):
    from harness.rundir import RunDir

    suite, out = mini_run
    before = tree_digest(out)
    with RunDir(out):
        proc = harness_cli("run", suite, "--out", out, timeout=120)
    assert proc.returncode == 2 and "in use by another harness process" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert tree_digest(out) == before


def _bad_inputs(tmp_path, suite, out):
    """(name, argv, expected message part), each with the existing run directory `out`."""
    def variant(folder, **fields):
        return make_suite(tmp_path / folder, **fields)

    def with_captions(name, text):
        return make_suite(tmp_path / name, caption_list=text)

    bad_yaml = make_suite(tmp_path / "bad_yaml")
    (bad_yaml / "suite.yaml").write_text("name: [unclosed\n")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    bad_method = tmp_path / "bad_method.yaml"
    bad_method.write_text("algorithm: nsga2\nobjectives: [text_image, image_real]\npopulation: 5\n")
    long_caption = " ".join(["word"] * 90)
    return [
        ("malformed yaml", ["run", bad_yaml, "--out", out], "malformed YAML"),
        ("unknown suite key", ["run", variant("k", colour="red"), "--out", out], "unknown key 'colour'"),
        ("unknown method", ["run", variant("m", methods=["four_objective", "magic"]), "--out", out],
         "unknown method 'magic'"),
        ("unknown model profile", ["run", variant("p", models="huge"), "--out", out], "profile"),
        ("empty caption file", ["run", with_captions("e", ""), "--out", out], "no captions"),
        ("empty caption", ["run", with_captions("ec", "- {id: a, caption: '  '}\n"), "--out", out],
         "caption 'a' is empty"),
        ("duplicate ids", ["run", with_captions("d", "- {id: a, caption: a cat}\n- {id: a, caption: a dog}\n"),
                           "--out", out], "duplicate caption id 'a'"),
        ("no words", ["run", with_captions("nw", "- {id: a, caption: '...'}\n"), "--out", out], "has no words"),
        ("bad --set key", ["run", suite, "--out", out, "--set", "search.pop=3"], "unknown key 'search.pop'"),
        ("bad --set value", ["run", suite, "--out", out, "--set", "search.population=many"], "must be an integer"),
        ("bad --set form", ["run", suite, "--out", out, "--set", "search.population"], "expected key=value"),
        ("missing suite folder", ["run", tmp_path / "nowhere", "--out", out], "suite folder not found"),
        ("unwritable output", ["run", suite, "--out", a_file / "run"], "is not a folder"),
        ("missing captions file", ["run", variant("mc", captions="absent.yaml"), "--out", out],
         "captions file not found"),
        ("unknown --methods", ["run", suite, "--out", out, "--methods", "four_objective,nope"], "unknown method 'nope'"),
        ("bad --seeds", ["run", suite, "--out", out, "--seeds", "0,one"], "seeds must be whole numbers"),
        ("--limit 0", ["run", suite, "--out", out, "--limit", "0"], "--limit 0"),
        ("bad baseline file", ["run", suite, "--out", out, "--methods", bad_method], "unknown key 'population'"),
        ("long caption rejected", ["run", make_suite(tmp_path / "lc", caption_list=[{"id": "l", "caption": long_caption}],
                                                     long_captions="reject"), "--out", out], "77-token window"),
        ("other settings in run dir", ["run", suite, "--out", out, "--set", "search.generations=5"],
         "config section 'search' differs"),
        ("another suite in run dir", ["run", variant("other", name="other"), "--out", out],
         "holds suite 'mini' version 1, not 'other' version 1"),
        ("another suite version in run dir", ["run", variant("v2", version=2), "--out", out],
         "not 'mini' version 2"),
        ("reworded caption in run dir", ["run", with_captions("rw", "- {id: cat, caption: a dog on a sofa}\n"),
                                         "--out", out], "caption 'cat' now reads 'a dog on a sofa'"),
        ("caption id as a path", ["run", with_captions("dots", "- {id: '..', caption: a cat}\n"), "--out", out],
         "must start with a letter or digit"),
        ("bad override in suite", ["run", variant("o", overrides={"search.colour": 1}), "--out", out],
         "unknown key 'search.colour'"),
        ("bad device", ["run", suite, "--out", out, "--device", "gpu0"], "device"),
    ]


def test_bad_input_is_one_line_exit_2_and_the_run_directory_is_intact(mini_run, tmp_path, capsys):
    suite, out = mini_run
    before = tree_digest(out)
    cases = _bad_inputs(tmp_path, suite, out)
    assert len(cases) >= 15
    for name, argv, message in cases:
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        assert code == 2, (name, captured.err)
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (name, captured.err)
        assert "Traceback" not in captured.err
        assert tree_digest(out) == before, name


def test_long_captions_are_truncated_with_a_warning_by_default(tmp_path, capsys):
    from harness.suites import load_suite

    suite = make_suite(tmp_path / "s", caption_list=[{"id": "l", "caption": " ".join(["cat"] * 90)}])
    loaded = load_suite(suite)
    assert loaded.warnings and "l (92 tokens)" in loaded.warnings[0]


def test_shipped_suites():
    from harness.suites import load_suite

    expected = {"normal": "a cat is lay on the table.", "unusual": "skyline at sunset.",
                "failed_captions": "a street scene with a double-decker bus on the road."}
    for name, must in expected.items():
        suite = load_suite(REPO / "suites" / name)
        assert len(suite.captions) >= 20 and must in [c.text for c in suite.captions]
        assert [m.name for m in suite.methods] == ["no_selection", "best_of_n", "clip_single", "four_objective"]
    smoke = load_suite(REPO / "suites" / "smoke")
    assert len(smoke.captions) == 3 and smoke.run.models.profile == "tiny"
    assert yaml.safe_load((REPO / "suites" / "smoke" / "suite.yaml").read_text())["models"] == "tiny"


def test_archive_scores_match_the_selected_result(mini_run):
    _, out = mini_run
    archive = pd.read_parquet(out / "archive.parquet")
    for result_file in (out / "jobs").rglob("result.json"):
        result = json.loads(result_file.read_text())
        row = archive[(archive.caption_id == result["caption_id"]) & (archive.method == result["method"])
                      & archive.selected]
        for name in SCORE_NAMES:
            assert row[name].item() == pytest.approx(result["selected_scores"][name])


def test_a_run_whose_every_job_fails_says_so_in_lines_not_an_empty_table(tmp_path, capsys, monkeypatch):
    """Every job failing (here the same simulated fault in each) prints no empty summary table: one line saying
    nothing finished, one failure line for the jobs that share an error, how to go on, exit 1."""
    import harness.executors.local as local

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("CUDA out of memory (simulated)")

    monkeypatch.setattr(local, "run_job", out_of_memory)
    suite = make_suite(tmp_path / "suite", methods=["no_selection", "best_of_n"])
    assert main(["run", str(suite), "--out", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    assert "no job has finished, so there is nothing to summarise" in captured.out
    assert "┏" not in captured.out and "method" not in captured.out  # no table
    failures = [line for line in captured.err.splitlines() if line.startswith("failed:")]
    assert len(failures) == 1 and failures[0].startswith("failed: 4 jobs (")
    assert failures[0].endswith("RuntimeError: CUDA out of memory (simulated)")
    assert "rerun the same command" in captured.err
