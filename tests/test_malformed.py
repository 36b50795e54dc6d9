"""Malformed input that must still work, or be repaired, through the installed console script: resume
verifies what it skips (restores from latents.npz, or reruns), any-script captions and long captions run
with their warnings, extreme temperatures stay finite, 16-bit reference images read as their 8-bit rendering,
piped progress comes in order, and --set merges a mapping instead of resetting a section."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from helpers import console_script, make_suite

TINY = {"search.population": 4, "search.offspring": 4, "search.generations": 2}
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def harness(*argv, timeout=600):
    return subprocess.run([console_script(), *map(str, argv)], capture_output=True, text=True, timeout=timeout,
                          env=ENV)


@pytest.mark.slow
def test_resume_restores_damaged_outputs_from_latents_or_reruns_the_job(tmp_path):
    suite = make_suite(tmp_path / "s", caption_list=[{"id": "cat", "caption": "a cat on a table."},
                                                     {"id": "sky", "caption": "skyline at sunset."}],
                       methods=["clip_single"], overrides=TINY)
    run = tmp_path / "run"
    assert harness("run", suite, "--out", run).returncode == 0
    cat, sky = run / "jobs" / "cat" / "clip_single" / "s0", run / "jobs" / "sky" / "clip_single" / "s0"
    before = {p: p.read_bytes() for p in (cat / "selected.png", cat / "population" / "0002.png", cat / "result.json")}
    (cat / "selected.png").unlink()
    (cat / "population" / "0002.png").write_bytes(b"\x89PNG torn")
    (cat / "result.json").write_text("{garbage")
    (sky / "latents.npz").unlink()  # the latents themselves: nothing to restore from
    proc = harness("run", suite, "--out", run)
    assert proc.returncode == 0, proc.stderr
    out = " ".join((proc.stdout + proc.stderr).split())  # notes wrap at the terminal width
    assert "cat / clip_single / seed 0: population/0002.png unreadable (" in out and "restored from latents.npz" in out
    assert "sky / clip_single / seed 0: latents.npz missing: cannot be restored, the job runs again" in out
    for path, data in before.items():
        if path.suffix == ".png":
            assert path.read_bytes() == data, path  # the image is a function of its latent: restored exactly
    result = json.loads((cat / "result.json").read_text())
    assert result["selected"] == json.loads(before[cat / "result.json"])["selected"]
    assert (sky / "latents.npz").is_file()
    manifest = json.loads((run / "manifest.json").read_text())
    assert all(j["status"] == "done" for j in manifest["jobs"])


@pytest.mark.slow
def test_captions_in_any_script_long_captions_and_scientific_notation_run_with_their_warnings(tmp_path):
    """Exit 0 with the documented warnings: CJK and Arabic captions (Unicode words), a 10,000-character caption
    (truncated by CLIP and the word model), a temperature written 1e-3; progress piped comes in order."""
    long = " ".join(["a red bus on the street near a tall building"] * 230)[:10_000]
    suite = make_suite(tmp_path / "s", caption_list=[{"id": "zh", "caption": "一只猫躺在桌子上"},
                                                     {"id": "ar", "caption": "قطة على الطاولة"},
                                                     {"id": "long", "caption": long}],
                       methods=["clip_single"], overrides=TINY)
    proc = harness("run", suite, "--out", tmp_path / "run", "--set", "critics.image_real.temperature=1e-3")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "not in the Latin script (zh, ar)" in proc.stderr and "long (" in proc.stderr
    assert "truncated by CLIP (and, past its 510-subword window, by the word model)" in proc.stderr
    lines = proc.stdout.splitlines()
    order = [i for i, line in enumerate(lines) if line in ("metrics", "report") or line.startswith(("jobs:", "[3/3]"))]
    assert [lines[i].split()[0] for i in order] == ["jobs:", "[3/3]", "metrics", "report"], lines[:12]
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["config"]["critics"]["image_real"]["temperature"] == 0.001
    assert any("Latin script" in w for w in manifest["suite"]["warnings"])


@pytest.mark.slow
def test_a_long_caption_and_an_extreme_temperature_in_harness_search(tmp_path):
    caption = " ".join(["a red bus on the street near a tall building"] * 110)[:5000]
    proc = harness("search", caption, "--models", "tiny", "--method", "four_objective", "--out", tmp_path / "s",
                   "--set", "critics.image_real.temperature=1.0e-300",
                   *sum((["--set", f"{k}={v}"] for k, v in TINY.items()), []))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "exceed CLIP's 77-token window" in proc.stderr
    result = json.loads((tmp_path / "s" / "result.json").read_text())
    assert all(np.isfinite(v) for v in result["selected_scores"].values())
    assert result["selected_scores"]["image_real"] == pytest.approx(1.0)  # T -> 0: the one-hot argmax


def test_a_16_bit_reference_reads_as_its_8_bit_rendering(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    sixteen, eight = tmp_path / "sixteen", tmp_path / "eight"
    sixteen.mkdir()
    eight.mkdir()
    for i in range(3):
        grey = rng.integers(0, 256, size=(32, 32))
        Image.fromarray((grey * 257).astype(np.uint16)).save(sixteen / f"{i}.png")  # mode I;16
        Image.fromarray(grey.astype(np.uint8)).convert("RGB").save(eight / f"{i}.png")
    assert Image.open(sixteen / "0.png").mode == "I;16"
    from harness.metrics.fid import load_image  # what `harness reference build` reads each file with

    for i in range(3):
        a, b = load_image(sixteen / f"{i}.png"), load_image(eight / f"{i}.png")
        assert a.shape == b.shape == (3, 32, 32)
        assert float((a - b).abs().max()) <= 1 / 255 / 2 + 1e-6  # the same picture, to within 8-bit rounding


def test_a_mapping_given_to_set_is_merged_not_a_reset_and_yaml_numbers_are_numbers(tmp_path):
    from harness.config.run import build_run_config
    from harness.errors import ConfigError
    from harness.suites import load_suite

    base = {"search": {"population": 4, "offspring": 4, "generations": 2}}
    cfg = build_run_config(base, sets=["search={population: 6}"])
    assert (cfg.search.population, cfg.search.offspring, cfg.search.generations) == (6, 4, 2)
    with pytest.raises(ConfigError, match="empty mapping"):
        build_run_config(base, sets=["search={}"])
    suite = make_suite(tmp_path / "s", overrides={**TINY, "critics.image_real.temperature": "2e-1"})
    assert load_suite(suite).run.critics.image_real.temperature == 0.2
    shutil.rmtree(tmp_path / "s")
