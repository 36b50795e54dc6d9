"""report.md + figures from a smoke run: valid PNGs with the expected panels, links that resolve,
the same report after moving the folder; regress on unchanged and changed critics."""
from __future__ import annotations

import json
import re
import shutil

import pytest
from PIL import Image

from harness.cli.main import main
from harness.critics import SCORE_NAMES
from helpers import REPO


def figure_panels(path):
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        return json.loads(im.text["panels"])


@pytest.fixture
def smoke_dir(smoke_run):
    return smoke_run[0]


def test_report_and_every_figure_exist_with_their_panels(smoke_dir):
    report = (smoke_dir / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert links and all(not link.startswith("/") for link in links)
    for link in links:
        assert (smoke_dir / link).is_file(), link
    figures = {p.name for p in (smoke_dir / "figures").glob("*.png")}
    for cid in ("cat-table", "skyline-sunset", "bus-street"):
        assert {f"gallery_{cid}.png", f"scatter_{cid}_four_objective.png", f"scatter_{cid}_clip_single.png"} <= figures
        scatter = figure_panels(smoke_dir / "figures" / f"scatter_{cid}_four_objective.png")
        assert len(scatter) == 16
        assert {p["xlabel"] for p in scatter} == set(SCORE_NAMES) == {p["ylabel"] for p in scatter} - {"count"}
        assert [p["ylabel"] for p in scatter[::len(SCORE_NAMES) + 1]] == ["count"] * len(SCORE_NAMES)
        gallery = figure_panels(smoke_dir / "figures" / f"gallery_{cid}.png")
        assert [p["title"] for p in gallery] == ["no_selection", "best_of_n", "clip_single", "four_objective"]
    hv = figure_panels(smoke_dir / "figures" / "convergence_hypervolume.png")
    assert hv[0]["xlabel"] == "generation" and "hypervolume" in hv[0]["ylabel"]
    heat = figure_panels(smoke_dir / "figures" / "correlation_four_objective.png")
    assert heat[0]["title"].startswith("four_objective")
    assert "| four_objective |" in report and "CLIPScore" in report
    assert "CLIPScore evaluator: `local-dir:" in report and "evaluator_clip` (search optimized" in report


@pytest.mark.slow
def test_report_of_a_moved_copy_is_the_same(smoke_dir, tmp_path):
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(smoke_dir, moved)
    shutil.rmtree(moved / "figures")
    (moved / "report.md").unlink()
    assert main(["report", str(moved), "--svg"]) == 0
    assert (moved / "report.md").read_text() == (smoke_dir / "report.md").read_text()
    assert sorted(p.name for p in (moved / "figures").glob("*.png")) == \
        sorted(p.name for p in (smoke_dir / "figures").glob("*.png"))
    assert list((moved / "figures").glob("*.svg"))


def test_caption_figures_are_drawn_for_the_first_n_captions_and_every_caption_keeps_its_table(smoke_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(smoke_dir, copy)
    shutil.rmtree(copy / "figures")
    assert main(["report", str(copy), "--caption-figures", "1"]) == 0
    figures = {p.name for p in (copy / "figures").glob("*.png")}
    assert "gallery_cat-table.png" in figures and "scatter_cat-table_four_objective.png" in figures
    assert not [f for f in figures if "skyline-sunset" in f or "bus-street" in f]
    assert "[captions.md](captions.md)" in (copy / "report.md").read_text()
    per_caption = (copy / "captions.md").read_text()
    assert "_Figures for the first 1 of 3 captions" in per_caption and "--caption-figures 0" in per_caption
    for cid in ("cat-table", "skyline-sunset", "bus-street"):
        table = per_caption.split(f"### {cid}:")[1].split("###")[0]
        assert "| four_objective | 0 |" in table, cid


def test_regress_unchanged_exits_0_and_a_changed_temperature_exits_1_naming_image_real(smoke_dir, capsys):
    assert main(["regress", str(smoke_dir)]) == 0
    capsys.readouterr()
    assert main(["regress", str(smoke_dir), "--set", "critics.image_real.temperature=5"]) == 1
    out = capsys.readouterr().out
    assert "scores moved beyond tolerance: image_real" in out
    assert out.count("MOVED") == 1


def test_regress_against_a_reference_file(smoke_dir, tmp_path, capsys):
    ref = tmp_path / "ref.json"
    assert main(["regress", str(smoke_dir), "--update", "--reference", str(ref)]) == 0
    assert json.loads(ref.read_text())["schema"] == 2
    assert main(["regress", str(smoke_dir), "--reference", str(ref)]) == 0
    assert main(["regress", str(smoke_dir), "--reference", str(ref), "--set", "critics.region_word.grid=3"]) == 1
    assert "region_word" in capsys.readouterr().out.split("beyond tolerance:")[-1]
    assert main(["regress", str(smoke_dir), "--reference", str(tmp_path / "absent.json")]) == 2
    assert main(["regress", str(smoke_dir), "--tolerance", "bogus=1"]) == 2


def test_committed_smoke_reference_holds():
    ref = REPO / "reports" / "reference" / "smoke"
    assert main(["regress", str(ref), "--reference", str(ref / "regress_reference.json")]) == 0


@pytest.mark.slow
def test_a_report_renders_from_the_previous_metrics_format(smoke_dir, tmp_path):
    """metrics.json written before bands, adjusted p-values, FID reliability and agreement existed."""
    old = tmp_path / "old"
    shutil.copytree(smoke_dir, old)
    metrics = json.loads((old / "metrics.json").read_text())
    metrics.pop("agreement")
    for comp in metrics["paired"]:
        for e in comp["metrics"].values():
            for key in ("p_floor", "p_adjusted", "correction"):
                e.pop(key, None)
    for curves in metrics["convergence"].values():
        for c in curves.values():
            c["min"], c["max"] = c.pop("lo"), c.pop("hi")
            c.pop("band")
    (old / "metrics.json").write_text(json.dumps(metrics))
    assert main(["report", str(old)]) == 0
    assert "## Paired method comparisons" in (old / "report.md").read_text()


def test_the_report_shows_each_methods_wall_time_and_device_hours(smoke_dir):
    report = (smoke_dir / "report.md").read_text()
    assert "| method | jobs | wall time (sum over jobs) | device-hours (cpu" in report
    manifest = json.loads((smoke_dir / "manifest.json").read_text())
    assert all(j["seconds"] > 0 for j in manifest["jobs"])
