"""Held-out judges: PickScore and HPSv2 from the tiny models in the real formats, computed from stored
PNGs through each library's own processor, equal the harness's tensor path; a run's metrics name
every judge; `harness metrics --set metrics.evaluators=[...]` recomputes with a subset."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from harness.models.judges import load_panel_judge
from harness.rundir.files import load_png, save_png

CAPTIONS = ["a cat is lay on the table.", "a red double decker bus on the street"]


@pytest.fixture(scope="module")
def pngs(tmp_path_factory, tiny_cache):
    """Two stored PNGs: one at the judges' input size, one larger (resized by both paths)."""
    root = tmp_path_factory.mktemp("judge-pngs")
    g = torch.Generator().manual_seed(0)
    paths = [root / "a.png", root / "b.png"]
    save_png(paths[0], torch.rand(3, 32, 32, generator=g))
    save_png(paths[1], torch.rand(3, 32, 32, generator=g).repeat_interleave(2, 1).repeat_interleave(2, 2))
    return paths


def stored(judge, pngs) -> np.ndarray:
    """The harness's path: each stored PNG read as a tensor, scored with its caption."""
    return np.concatenate([judge.score(load_png(p)[None], [c]) for p, c in zip(pngs, CAPTIONS)])


def test_pickscore_equals_transformers_processor(pngs):
    """PickScore's published recipe: AutoProcessor on the PIL image and the prompt, CLIPModel features,
    logit_scale.exp() * cosine."""
    from transformers import AutoProcessor, CLIPModel

    from harness.models import tiny

    judge = load_panel_judge("pickscore", "tiny")
    folder = tiny.tiny_model_dir("pickscore")
    processor = AutoProcessor.from_pretrained(folder, use_fast=False)
    model = CLIPModel.from_pretrained(folder).eval()
    ours = stored(judge, pngs)
    with torch.no_grad():
        pixels = processor(images=[Image.open(p).convert("RGB") for p in pngs], return_tensors="pt")
        text = processor(text=CAPTIONS, padding=True, truncation=True, max_length=77, return_tensors="pt")
        img = torch.nn.functional.normalize(model.get_image_features(**pixels), dim=-1)
        txt = torch.nn.functional.normalize(model.get_text_features(**text), dim=-1)
        theirs = (model.logit_scale.exp() * (img * txt).sum(-1)).numpy()
    np.testing.assert_allclose(ours[:1], theirs[:1], atol=1e-4, rtol=0)  # no resize: equal to 1e-4
    np.testing.assert_allclose(ours[1:], theirs[1:], atol=0.05 * abs(theirs[1]) + 0.05)  # PIL vs tensor resize


def test_hpsv2_equals_open_clip_preprocess(pngs, tiny_cache):
    """HPSv2's recipe: open_clip's model + transform, the HPS checkpoint's state_dict, the diagonal of
    image_features @ text_features.T with unit features."""
    import open_clip

    from harness.models import tiny

    arch = "local-dir:" + str(tiny.tiny_model_dir("hpsv2_base"))
    model, _, preprocess = open_clip.create_model_and_transforms(arch)
    state = torch.load(tiny.tiny_model_dir("hpsv2") / tiny.TINY_HPS_FILE, weights_only=True)["state_dict"]
    model.load_state_dict(state)
    model.eval()
    tokenizer = open_clip.get_tokenizer(arch)
    judge = load_panel_judge("hpsv2", "tiny")
    ours = stored(judge, pngs)
    with torch.no_grad():
        images = torch.stack([preprocess(Image.open(p)) for p in pngs])
        img = model.encode_image(images, normalize=True)
        txt = model.encode_text(tokenizer(CAPTIONS), normalize=True)
        theirs = torch.diagonal(img @ txt.T).numpy()
    np.testing.assert_allclose(ours[:1], theirs[:1], atol=1e-4, rtol=0)
    np.testing.assert_allclose(ours[1:], theirs[1:], atol=0.02)
    assert not np.allclose(ours, stored(load_panel_judge("hpsv2", "tiny", model=arch), pngs))  # the checkpoint scores


def test_run_metrics_name_every_judge_and_a_subset_recomputes(smoke_run, tmp_path):
    from harness.cli.main import main
    from harness.config.schema import JUDGE_NAMES

    out = tmp_path / "run"
    shutil.copytree(smoke_run[0], out)
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["evaluators"]) == set(JUDGE_NAMES)
    judges = metrics["judges"]
    for method, entry in judges["methods"].items():
        for name in ("pickscore", "hpsv2"):
            assert entry[name]["n"] > 0 and entry[name]["interval"] is not None
        assert set(judges["hacking_gap"][method]) == set(JUDGE_NAMES)
    assert set(judges["leave_one_critic_out"]["text_image"]) == set(JUDGE_NAMES)
    assert {"pickscore", "hpsv2", "clipscore"} <= set(metrics["agreement"]["judges"])
    assert any("pickscore" in comp["metrics"] for comp in metrics["paired"])
    report = (out / "report.md").read_text()
    assert "## Held-out judges" in report and (out / "figures" / "judges.png").is_file()
    assert main(["metrics", str(out), "--set", "metrics.evaluators=[clipscore]"]) == 0
    subset = json.loads((out / "metrics.json").read_text())
    assert list(subset["evaluators"]) == ["clipscore"] and "pickscore" not in subset["agreement"]["judges"]
    assert subset["methods"]["four_objective"]["clipscore"] == metrics["methods"]["four_objective"]["clipscore"]


def test_metrics_again_are_served_from_the_cache_without_a_model(smoke_run, tmp_path, monkeypatch):
    """The run's metrics cached every model output by image hash: recomputing loads no model and gives
    the same numbers."""
    import harness.models
    import harness.models.clip
    import harness.models.judges
    from harness.cli.main import main

    out = tmp_path / "run"
    shutil.copytree(smoke_run[0], out)
    before = json.loads((out / "metrics.json").read_text())

    def no_model(*args, **kwargs):
        raise AssertionError("a model was loaded although every output was cached")
    for module, name in ((harness.models, "load_judge"), (harness.models.clip, "load_clip"),
                         (harness.models.judges, "load_pickscore"), (harness.models.judges, "load_hpsv2")):
        monkeypatch.setattr(module, name, no_model)
    assert main(["metrics", str(out)]) == 0
    after = json.loads((out / "metrics.json").read_text())
    assert after["cache"]["computed"] == 0 and after["cache"]["hits"] > 0
    for key in ("methods", "judges", "fid_kid", "paired", "correlations"):
        assert after[key] == before[key], key
