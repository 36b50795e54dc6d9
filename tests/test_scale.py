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
