"""The run directory as one contract: the job key, growth and refusals, the lock across all phases,
`harness search` kept out, and `compare` that will not pair a reworded caption."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import yaml

from harness.cli.main import main
from harness.rundir import JobKey, RunDir, job_folder
from helpers import REPO, harness_cli, make_suite, tree_digest


def test_job_folders_are_injective_and_the_key_is_never_parsed():
    assert job_folder(JobKey("a__b", "c", 0)) != job_folder(JobKey("a", "b__c", 0))
    assert job_folder(JobKey("a", "b", 1)) == "jobs/a/b/s1"
    assert JobKey.of({"caption_id": "a__b", "method": "c", "seed": 0}) == JobKey("a__b", "c", 0)


def _methods(folder):
    """Two methods whose names collide with caption ids in the old `caption__method__sSEED` folders."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (REPO / "baselines" / "clip_single.yaml").read_text()
    for name in ("c", "b__c"):
        (folder / f"{name}.yaml").write_text(text)
    return [str(folder / "c.yaml"), str(folder / "b__c.yaml")]


@pytest.mark.slow
def test_ids_with_double_underscores_run_resume_grow_and_report(tmp_path, capsys):
    methods = _methods(tmp_path / "methods")
    suite = make_suite(tmp_path / "s", caption_list=[{"id": "a__b", "caption": "a cat on a table."},
                                                     {"id": "a", "caption": "skyline at sunset."}],
                       methods=methods, overrides={"search.population": 4, "search.offspring": 4,
                                                   "search.generations": 2})
    out = tmp_path / "run"
    assert main(["run", str(suite), "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    folders = [r["folder"] for r in manifest["jobs"]]
    assert len(set(folders)) == 4 and all((out / f / "selected.png").is_file() for f in folders)
    archive = pd.read_parquet(out / "archive.parquet")
    assert set(map(tuple, archive[["caption_id", "method"]].drop_duplicates().to_numpy().tolist())) == \
        {("a__b", "c"), ("a__b", "b__c"), ("a", "c"), ("a", "b__c")}
    capsys.readouterr()
    # resume and growth: the 4 finished jobs are skipped; a new seed and a new caption run, and the
    # manifest and the report header list them
    grown = yaml.safe_load((suite / "captions.yaml").read_text()) + [{"id": "bus", "caption": "a red bus."}]
    (suite / "captions.yaml").write_text(yaml.safe_dump(grown))
    assert main(["run", str(suite), "--out", str(out), "--seeds", "0,1"]) == 0
    assert "8 job(s) run, 4 already finished" in capsys.readouterr().out.replace("\n", " ")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"] == [0, 1] and [c["id"] for c in manifest["suite"]["captions"]] == ["a__b", "a", "bus"]
    report = (out / "report.md").read_text()
    assert "seeds: [0, 1]" in report and "3 caption(s)" in report
    assert "### a__b:" in (out / "captions.md").read_text()


@pytest.mark.slow
def test_a_report_started_during_the_run_is_refused_and_cannot_fail_the_run(tmp_path):
    from harness.analysis.pipeline import run_pipeline
    from harness.executors.observer import Observer
    from harness.suites import load_suite

    suite = load_suite(make_suite(tmp_path / "s", methods=["clip_single"],
                                  overrides={"search.population": 4, "search.offspring": 4, "search.generations": 2}))
    out = tmp_path / "run"
    answers = {}

    class ReportDuringMetrics(Observer):
        def phase(self, name):
            if name == "metrics":
                answers[name] = harness_cli("report", out, timeout=120)

    result = run_pipeline(suite, out, observer=ReportDuringMetrics())
    assert set(answers) == {"metrics"}
    for proc in answers.values():
        assert proc.returncode == 2 and "being written by a running harness process" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert not result.outcome.failed and result.metrics is not None and result.report.is_file()
    assert main(["report", str(out)]) == 0  # after the run, the same command works


def test_harness_report_and_metrics_refuse_a_live_directory(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(REPO / "reports" / "reference" / "smoke", run)
    before = tree_digest(run)
    with RunDir(run):  # a run holds the lock
        for command in ("report", "metrics"):
            proc = harness_cli(command, run, timeout=120)
            assert proc.returncode == 2 and "being written" in proc.stderr, proc.stderr
    assert tree_digest(run) == before


@pytest.mark.slow
def test_compare_does_not_pair_a_reworded_caption(tmp_path, capsys):
    base = dict(methods=["clip_single"], overrides={"search.population": 4, "search.offspring": 4,
                                                     "search.generations": 2})
    a = make_suite(tmp_path / "a", caption_list=[{"id": "cat", "caption": "a cat on a table."},
                                                 {"id": "sky", "caption": "skyline at sunset."}], **base)
    b = make_suite(tmp_path / "b", caption_list=[{"id": "cat", "caption": "a dog on a sofa."},
                                                 {"id": "sky", "caption": "skyline at sunset."}], **base)
    assert main(["run", str(a), "--out", str(tmp_path / "ra")]) == 0
    assert main(["run", str(b), "--out", str(tmp_path / "rb")]) == 0
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "ra"), str(tmp_path / "rb"), "--out", str(tmp_path / "cmp")]) == 0
    err = capsys.readouterr().err
    assert "caption 'cat' reads" in err and "not paired" in err
    result = json.loads((tmp_path / "cmp" / "compare.json").read_text())[0]
    assert result["caption_text_differs"] == [["cat", "a dog on a sofa.", "a cat on a table."]]
    assert result["methods"]["clip_single"]["text_image"]["n"] == 1  # only "sky" is paired


def test_json_is_written_strict_and_old_files_with_nan_still_read(tmp_path):
    import numpy as np

    from harness.rundir.files import write_json
    from helpers import strict_json_files

    path = tmp_path / "metrics.json"
    write_json(path, {"a": float("nan"), "b": [np.float32("inf"), -np.inf, np.float64(1.5), np.int64(3)],
                      "c": {"d": np.array([np.nan, 2.0]), "e": np.bool_(True)}, 4: None})
    assert strict_json_files(tmp_path) == 1
    assert json.loads(path.read_text()) == {"a": None, "b": [None, None, 1.5, 3], "c": {"d": [None, 2.0], "e": True},
                                            "4": None}
    old = tmp_path / "old"
    old.mkdir()
    (old / "metrics.json").write_text('{"schema_version": 2, "x": NaN, "y": Infinity}')
    assert RunDir(old).read_metrics()["y"] == float("inf")


def test_job_records_are_journaled_folded_on_read_and_compacted(tmp_path):
    """A job's bookkeeping appends one line (constant cost as the run grows); readers see it; a torn last line
    (a kill mid-append) is left out and the next line still lands; a whole write removes the journal."""
    from harness.rundir import RunDir

    rundir = RunDir(tmp_path)
    jobs = [{"caption_id": f"c{i}", "method": "m", "seed": 0, "status": "pending", "folder": f"jobs/c{i}/m/s0"}
            for i in range(3)]
    rundir.write_manifest({"schema": 2, "kind": "run", "jobs": jobs})
    size = (tmp_path / "manifest.json").stat().st_size
    rundir.update_job({**jobs[0], "status": "running"})
    rundir.update_job({**jobs[0], "status": "done", "score": float("nan")})
    rundir.update_job({**jobs[2], "status": "failed"})
    assert (tmp_path / "manifest.json").stat().st_size == size  # the manifest itself was not rewritten
    with open(tmp_path / "jobs.jsonl", "a") as fh:
        fh.write('{"caption_id": "c1", "method": "m", "seed": 0, "sta')  # torn
    assert [r["status"] for r in RunDir(tmp_path).read_manifest()["jobs"]] == ["done", "pending", "failed"]
    rundir.update_job({**jobs[1], "status": "running"})
    manifest = RunDir(tmp_path).read_manifest()
    assert [r["status"] for r in manifest["jobs"]] == ["done", "running", "failed"]
    assert manifest["jobs"][0]["score"] is None
    for line in (tmp_path / "jobs.jsonl").read_text().splitlines()[:3]:
        json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} in the journal"))
    rundir.write_manifest(manifest)
    assert not (tmp_path / "jobs.jsonl").exists()
    assert [r["status"] for r in json.loads((tmp_path / "manifest.json").read_text())["jobs"]] == \
        ["done", "running", "failed"]
