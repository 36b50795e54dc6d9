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

from harness.judges.panel import load_panel_judge
from harness.rundir.files import load_png, save_png

CAPTIONS = ["a cat is lay on the table.", "a red double decker bus on the street"]


SIZES = [(64, 64), (256, 256), (300, 451), (451, 300)]  # (height, width): up, down, and both crops/pads


@pytest.fixture(scope="module")
def pngs(tmp_path_factory, tiny_cache):
    """Stored PNGs at the sizes the authors' processors must agree at; 256 x 256 in saturated colours."""
    root = tmp_path_factory.mktemp("judge-pngs")
    g = torch.Generator().manual_seed(0)
    paths = []
    for h, w in SIZES:
        image = torch.rand(3, h, w, generator=g)
        if (h, w) == (256, 256):
            image = (image > 0.5).float()  # every channel 0 or 255: where an unclamped bicubic over/undershoots
        paths.append(root / f"{h}x{w}.png")
        save_png(paths[-1], image)
    return paths


def stored(judge, pngs) -> np.ndarray:
    """The harness's path: each stored PNG read as a tensor, scored with its caption."""
    return np.concatenate([judge.score(load_png(p)[None], [CAPTIONS[i % 2]]) for i, p in enumerate(pngs)])


def test_pickscore_equals_transformers_processor(pngs):
    """PickScore's published recipe: the processor on the PIL image and the prompt, CLIPModel features,
    logit_scale.exp() * cosine: pixel values and scores equal to 1e-4 at every size."""
    from transformers import AutoProcessor, CLIPModel

    from harness.models import cache

    judge = load_panel_judge("pickscore", "tiny")
    folder = cache.tiny_model_dir("pickscore")
    processor = AutoProcessor.from_pretrained(folder, use_fast=False)
    model = CLIPModel.from_pretrained(folder).eval()
    ours = stored(judge, pngs)
    for i, p in enumerate(pngs):
        with torch.no_grad():
            pixels = processor(images=[Image.open(p).convert("RGB")], return_tensors="pt")["pixel_values"]
            torch.testing.assert_close(judge.backbone.pixels(load_png(p)[None]), pixels, atol=1e-4, rtol=0)
            text = processor(text=[CAPTIONS[i % 2]], padding=True, truncation=True, max_length=77,
                             return_tensors="pt")
            img = torch.nn.functional.normalize(model.get_image_features(pixel_values=pixels), dim=-1)
            txt = torch.nn.functional.normalize(model.get_text_features(**text), dim=-1)
            theirs = float(model.logit_scale.exp() * (img * txt).sum(-1))
        assert ours[i] == pytest.approx(theirs, abs=1e-4), p.name


class ResizeMaxSize(torch.nn.Module):
    """HPSv2's evaluation resize as its repository defines it (hpsv2/src/open_clip/transform.py, written
    out here as the reference): the longest side to max_size, bicubic, black padding to a square; in its
    evaluation transform it runs on the float tensor ToTensor made (the tensor branch: height, width = shape[1:])."""

    def __init__(self, max_size, fill=0):
        super().__init__()
        self.max_size, self.fill = max_size, fill

    def forward(self, img):
        from torchvision.transforms import InterpolationMode
        from torchvision.transforms import functional as TF

        if isinstance(img, torch.Tensor):
            height, width = img.shape[1:]
        else:
            width, height = img.size
        scale = self.max_size / float(max(height, width))
        if scale != 1.0:
            new_size = tuple(round(dim * scale) for dim in (height, width))
            img = TF.resize(img, new_size, InterpolationMode.BICUBIC)
            pad_h = self.max_size - new_size[0]
            pad_w = self.max_size - new_size[1]
            img = TF.pad(img, padding=[pad_w // 2, pad_h // 2, pad_w - pad_w // 2, pad_h - pad_h // 2], fill=self.fill)
        return img


def test_hpsv2_equals_the_official_transform(pngs, tiny_cache):
    """HPSv2's recipe: its evaluation transform (RGB, ToTensor, ResizeMaxSize on the tensor, Normalize, no clamp), the HPS
    checkpoint's state_dict in open_clip, the diagonal of image_features @ text_features.T: pixel values
    and scores equal to 1e-4 at every size, non-square images padded, not cropped."""
    import open_clip
    from torchvision import transforms

    from harness.models import cache

    arch = "local-dir:" + str(cache.tiny_model_dir("hpsv2_base"))
    model = open_clip.create_model(arch)
    state = torch.load(cache.tiny_model_dir("hpsv2") / cache.TINY_HPS_FILE, weights_only=True)["state_dict"]
    model.load_state_dict(state)
    model.eval()
    cfg = model.visual.preprocess_cfg
    official = transforms.Compose([lambda im: im.convert("RGB"), transforms.ToTensor(),
                                   ResizeMaxSize(model.visual.image_size[0]), transforms.Normalize(cfg["mean"], cfg["std"])])
    tokenizer = open_clip.get_tokenizer(arch)
    judge = load_panel_judge("hpsv2", "tiny")
    ours = stored(judge, pngs)
    for i, p in enumerate(pngs):
        pixels = official(Image.open(p))[None]
        torch.testing.assert_close(judge.backbone.pixels(load_png(p)[None]), pixels, atol=1e-4, rtol=0)
        with torch.no_grad():
            img = model.encode_image(pixels, normalize=True)
            txt = model.encode_text(tokenizer([CAPTIONS[i % 2]]), normalize=True)
            theirs = float(torch.diagonal(img @ txt.T)[0])
        assert ours[i] == pytest.approx(theirs, abs=1e-4), p.name
    assert not np.allclose(ours, stored(load_panel_judge("hpsv2", "tiny", model=arch), pngs))  # the checkpoint scores


def test_judge_ids_name_their_preprocessing():
    """A preprocessing change changes the id the metrics cache keys scores by: no stale score is served."""
    from harness.judges.panel import PREPROCESSING

    for name in ("pickscore", "hpsv2"):
        assert load_panel_judge(name, "tiny").id.endswith(PREPROCESSING[name])


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
    assert set(judges["leave_one_critic_out"]["text_image"]) == set(JUDGE_NAMES) - {"geneval"}  # pass/fail: not ranked
    assert {"pickscore", "hpsv2", "clipscore"} <= set(metrics["agreement"]["judges"])
    assert any("pickscore" in comp["metrics"] for comp in metrics["paired"])
    report = (out / "report.md").read_text()
    assert "## Held-out judges" in report and (out / "figures" / "judges.png").is_file()
    assert main(["metrics", str(out), "--set", "metrics.evaluators=[clipscore]"]) == 0
    subset = json.loads((out / "metrics.json").read_text())
    assert list(subset["evaluators"]) == ["clipscore"] and "pickscore" not in subset["agreement"]["judges"]
    assert subset["methods"]["four_objective"]["clipscore"] == metrics["methods"]["four_objective"]["clipscore"]


@pytest.mark.slow
def test_metrics_again_are_served_from_the_cache_without_a_model(smoke_run, tmp_path, monkeypatch):
    """The run's metrics cached every model output by image hash: recomputing loads no model and gives
    the same numbers."""
    import harness.models
    import harness.models.clip
    import harness.judges.panel
    from harness.cli.main import main

    out = tmp_path / "run"
    shutil.copytree(smoke_run[0], out)
    before = json.loads((out / "metrics.json").read_text())

    def no_model(*args, **kwargs):
        raise AssertionError("a model was loaded although every output was cached")
    for module, name in ((harness.models, "load_judge"), (harness.models.clip, "load_clip"),
                         (harness.judges.panel, "load_pickscore"), (harness.judges.panel, "load_hpsv2")):
        monkeypatch.setattr(module, name, no_model)
    assert main(["metrics", str(out)]) == 0
    after = json.loads((out / "metrics.json").read_text())
    assert after["cache"]["computed"] == 0 and after["cache"]["hits"] > 0
    for key in ("methods", "judges", "fid_kid", "paired", "correlations"):
        assert after[key] == before[key], key
