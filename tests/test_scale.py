"""At the scale of the suites the harness ships: 120 GenEval captions through every command (slow), and the
report's length growing with groups, not captions."""
from __future__ import annotations

import json
import shutil

import pytest
import yaml

from harness.cli.main import main
from helpers import REPO, strict_json_files

CAPTIONS = 120


def geneval_suite(folder, n: int = CAPTIONS, methods=("no_selection", "best_of_n", "four_objective")):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "suite.yaml").write_text(yaml.safe_dump({
        "name": f"geneval{n}", "models": "tiny", "seeds": [0], "methods": list(methods),
        "captions": {"file": str(REPO / "suites" / "geneval" / "evaluation_metadata.jsonl"), "format": "geneval",
                     "sample": n, "seed": 0},
        "metrics": {"evaluator_clip": "search", "fid_features": "tiny", "bootstrap": 200},
        "overrides": {"search.population": 4, "search.offspring": 4, "search.generations": 2}}))
    return folder


@pytest.mark.slow
def test_a_120_caption_suite_goes_through_every_command(tmp_path, capsys):
    suite = geneval_suite(tmp_path / "suite")
    run = tmp_path / "run"
    assert main(["run", str(suite), "--out", str(run)]) == 0
    report = (run / "report.md").read_text()
    assert len(report.splitlines()) < 1000
    headings = [line for line in report.splitlines() if line.startswith("## ")]
    assert headings[:2] == ["## Answer", "## Results by group"]
    metrics = json.loads((run / "metrics.json").read_text())
    answer = metrics["answer"]
    assert answer["captions"] == CAPTIONS
    entries = [e for c in answer["comparisons"] for e in c["judges"].values()]
    assert entries and all(e["mde"] is not None and e["mde"] >= 0 for e in entries if e["caption_sd"])
    tasks = metrics["groups"]["kinds"]["category"]
    assert sum(g["captions"] for g in tasks.values()) == CAPTIONS and len(tasks) == 6
    assert f"({CAPTIONS} captions, {3 * CAPTIONS} jobs)" in report
    assert (run / "captions.csv").read_text().count("\n") == 3 * CAPTIONS + 1
    assert (run / "captions.md").read_text().count("\n### ") == CAPTIONS

    capsys.readouterr()
    assert main(["power", str(run), "--seeds", "4"]) == 0
    assert "captions needed" in capsys.readouterr().out
    assert main(["compare", str(run), str(run), "--out", str(tmp_path / "cmp")]) == 0
    assert main(["regress", str(run), "--selected-only", "--update"]) == 0
    assert main(["regress", str(run), "--selected-only"]) == 0
    failed = tmp_path / "failed"
    shutil.copytree(REPO / "suites" / "failed_captions", failed)
    assert main(["failures", str(run), "--below", "clipscore=2.5", "--into", str(failed)]) == 0
    added = yaml.safe_load((failed / "captions.yaml").read_text())
    assert sum(1 for c in added if str(c.get("id", "")).startswith("geneval-")) == CAPTIONS
    assert main(["ablate", str(suite), "--leave-one-out", "four_objective", "--out", str(tmp_path / "abl")]) == 0
    ablation = (tmp_path / "abl" / "critic_ablation.md").read_text()
    assert "text_image" in ablation
    for folder in (run, tmp_path / "cmp", tmp_path / "abl"):
        assert strict_json_files(folder) > 0


def test_a_100000_caption_suite_at_full_budget_is_refused_before_compute(tmp_path):
    """The analysis holds per-job results and each job's final population: 100,000 captions x 2 search methods at
    population 100 is refused in one line naming the limit, before any model loads or anything is written; the
    caption file itself loads."""
    import subprocess

    from helpers import console_script

    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / "captions.txt").write_text("".join(f"a photo of object number {i}\n" for i in range(100_000)))
    (folder / "suite.yaml").write_text(yaml.safe_dump({
        "name": "huge", "captions": "captions.txt", "methods": ["best_of_n", "four_objective"], "seeds": [0],
        "models": "tiny"}))
    out = tmp_path / "run"
    proc = subprocess.run([console_script(), "run", str(folder), "--out", str(out)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith("error: huge: 200,000 jobs with 20,000,000 final-population rows need about ")
    assert "split the suite into smaller runs" in lines[0]
    assert not out.exists()


def test_the_memory_limit_is_what_was_measured_and_refuses_one_byte_past_it():
    from harness.errors import HarnessError
    from harness.rundir.memory import BASE, PER_JOB, PER_ROW, check_fits, needed_bytes

    assert needed_bytes(1000, 5000) == BASE + 1000 * PER_JOB + 5000 * PER_ROW
    check_fits(1000, 5000, "run", available=needed_bytes(1000, 5000))
    with pytest.raises(HarnessError, match=r"^run: 1,000 jobs with 5,001 final-population rows need about .* available"):
        check_fits(1000, 5001, "run", available=needed_bytes(1000, 5000))
