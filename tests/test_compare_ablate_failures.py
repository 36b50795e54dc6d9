"""harness compare, harness ablate and harness failures, end to end on small runs."""
from __future__ import annotations

import json

import pytest
import yaml

from harness.cli.main import main
from harness.rundir.files import load_png
from helpers import REPO, make_suite, strict_json_files


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmp")
    suite = make_suite(root / "suite", seeds=[0, 1])
    out = root / "run"
    assert main(["run", str(suite), "--out", str(out)]) == 0
    return out


def test_compare_a_run_with_itself_reports_zero_differences(run_dir, tmp_path):
    out = tmp_path / "cmp"
    assert main(["compare", str(run_dir), str(run_dir), "--out", str(out)]) == 0
    result = json.loads((out / "compare.json").read_text())[0]
    assert not result["unmatched"]["only_a"] and not result["unmatched"]["only_b"]
    for metrics in result["methods"].values():
        # the critics and every held-out judge both runs have
        assert set(metrics) == {"text_image", "image_real", "region_word", "word_label", "clipscore", "pickscore",
                                "hpsv2"}
        for e in metrics.values():
            assert e["value"] == 0.0 and e["p_value"] == 1.0 and e["n"] == 4 and e["seeds"] == 2
    md = (out / "compare.md").read_text()
    assert "![" in md and all((out / l.split("](")[1].rstrip(")")).is_file()
                              for l in md.splitlines() if l.startswith("!["))


def test_every_json_of_a_run_and_a_comparison_is_strict(run_dir, tmp_path):
    """RFC 8259 has no NaN: strict readers (JSON.parse, jq, DuckDB) must read every file the harness writes,
    including a judge that does not apply to some captions (geneval without requirements)."""
    out = tmp_path / "cmp"
    assert main(["compare", str(run_dir), str(run_dir), "--out", str(out)]) == 0
    assert strict_json_files(run_dir) >= 10 and strict_json_files(out) == 1
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert any(j.get("geneval") is None for j in metrics["per_job"]) and "null" in metrics["definitions"]


@pytest.mark.slow
def test_compare_two_methods_of_one_run_and_mismatches_are_reported(run_dir, tmp_path, capsys):
    assert main(["compare", str(run_dir), "--methods", "four_objective,clip_single", "--out", str(tmp_path / "m")]) == 0
    result = json.loads((tmp_path / "m" / "compare.json").read_text())[0]
    assert list(result["methods"]) == ["four_objective − clip_single"]
    assert result["methods"]["four_objective − clip_single"]["text_image"]["n"] == 4
    other = tmp_path / "other"
    suite = make_suite(tmp_path / "s2", seeds=[1, 2])
    assert main(["run", str(suite), "--out", str(other)]) == 0
    capsys.readouterr()
    assert main(["compare", str(run_dir), str(other), "--out", str(tmp_path / "mm")]) == 0
    err = capsys.readouterr().err
    assert "seeds differ" in err and "job(s) only in" in err
    result = json.loads((tmp_path / "mm" / "compare.json").read_text())[0]
    assert len(result["unmatched"]["only_a"]) == 4 and len(result["unmatched"]["only_b"]) == 4
    assert result["methods"]["four_objective"]["text_image"]["n"] == 2  # seed 1 is shared


@pytest.mark.slow
def test_ablate_smoke_temperature(tmp_path):
    parent = tmp_path / "abl"
    assert main(["ablate", str(REPO / "suites" / "smoke"), "--set", "critics.image_real.temperature=0.5,5",
                 "--out", str(parent)]) == 0
    low, high = parent / "critics.image_real.temperature=0.5", parent / "critics.image_real.temperature=5"
    for run in (low, high):
        assert (run / "archive.parquet").is_file() and (run / "metrics.json").is_file() and (run / "report.md").is_file()
        assert json.loads((run / "manifest.json").read_text())["config"]["critics"]["image_real"]["temperature"] in (0.5, 5)
    ablation = json.loads((parent / "ablation.json").read_text())
    assert (parent / "ablation.md").is_file() and (parent / "figures" / "metrics_vs_value.png").is_file()
    same = {(r["critics.image_real.temperature"], r["method"]): r["image_real_mean"] for r in ablation["same_images"]}
    for method in ("no_selection", "best_of_n", "clip_single", "four_objective"):
        assert same[("0.5", method)] > same[("5", method)]  # the same images: a sharper softmax, a higher top class
    assert ablation["selection_changes"][0]["jobs"] == 12
    text = (parent / "ablation.md").read_text()
    assert text.index("> **These numbers come from") < text.index("## Answer") < text.index("## Runs")
    answer = ablation["answer"]
    assert "the default (critics.image_real.temperature=1.0) is not among the swept values" in answer["against"]
    assert [c["label"] for c in answer["comparisons"]] == [
        f"critics.image_real.temperature=5: {m}" for m in ("no_selection", "best_of_n", "clip_single", "four_objective")]
    for c in answer["comparisons"]:
        assert {"image_real", "text_image"} <= set(c["measures"]) and "p_adjusted" in c["measures"]["image_real"]
        assert f"- **{c['label']}**" in text
    assert (parent / "figures" / "metrics_vs_value.svg").is_file()
    assert strict_json_files(parent) >= 20


def test_same_images_image_real_per_image_follows_the_softmax(tiny_models, tmp_path):
    """Per image, not only on average: max softmax(logits / 0.5) > max softmax(logits / 5) unless uniform."""
    from harness.critics.scorer import Scorer
    from helpers import small_config

    lo = Scorer.from_models(tiny_models, small_config("critics.image_real.temperature=0.5").critics)
    hi = Scorer.from_models(tiny_models, small_config("critics.image_real.temperature=5").critics)
    images = load_png(REPO / "reports" / "reference" / "smoke" / "jobs" / "cat-table__four_objective__s0"
                      / "selected.png")[None]
    assert lo.score(images, "a cat")["image_real"][0] > hi.score(images, "a cat")["image_real"][0]


def test_failures_adds_with_provenance_once(run_dir, tmp_path):
    suite = make_suite(tmp_path / "failed", caption_list=[{"id": "old", "caption": "skyline at sunset."}])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    per_caption = {}
    for job in metrics["per_job"]:
        if job["method"] == "four_objective":
            per_caption.setdefault(job["caption_id"], []).append(job["text_image"])
    means = {k: sum(v) / len(v) for k, v in per_caption.items()}
    threshold = max(means.values()) + 1.0  # every caption fails; "sky" is already in the target suite
    assert main(["failures", str(run_dir), "--below", f"text_image={threshold}", "--into", str(suite)]) == 0
    caps = yaml.safe_load((suite / "captions.yaml").read_text())
    assert [c["id"] for c in caps] == ["old", "cat"]
    prov = caps[1]["provenance"]
    assert prov["run"] == str(run_dir) and prov["method"] == "four_objective" and prov["metric"] == "text_image"
    assert prov["threshold"] == threshold and prov["value"] == pytest.approx(means["cat"], abs=1e-6) and prov["date"]
    before = (suite / "captions.yaml").read_text()
    assert main(["failures", str(run_dir), "--below", f"text_image={threshold}", "--into", str(suite)]) == 0
    assert (suite / "captions.yaml").read_text() == before
    from harness.suites import load_suite

    assert len(load_suite(suite).captions) == 2
    assert main(["failures", str(run_dir), "--below", "beauty=1", "--into", str(suite)]) == 2
    assert main(["failures", str(run_dir), "--below", "clipscore=0.5", "--into", str(suite), "--method", "x"]) == 2
