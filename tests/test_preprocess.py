"""Preprocessing follows each model's own definition: the project's tensor path against the
libraries' own PIL transforms on the same 8-bit image, up- and down-sampling, before normalisation."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

TOLERANCE = 2 / 255


def photo_like(height: int, width: int, seed: int = 0) -> np.ndarray:
    """An 8-bit image with smooth shading, edges and fine texture (what resampling filters disagree on)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    img = np.stack([0.5 + 0.4 * np.sin(6 * x + 2 * c) * np.cos(5 * y - c) for c in range(3)], axis=-1)
    img[(x - 0.5) ** 2 + (y - 0.4) ** 2 < 0.05] = [0.9, 0.2, 0.1]  # a disc with hard edges
    img += 0.08 * rng.standard_normal(img.shape)
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


def as_tensor(arr: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(arr).permute(2, 0, 1).float().div(255)[None]


def unnormalise(x: torch.Tensor, mean, std) -> torch.Tensor:
    return x * torch.tensor(std).view(-1, 1, 1) + torch.tensor(mean).view(-1, 1, 1)


SIZES = [(128, 128), (512, 512), (300, 451)]  # up-, down-sampling, and a photo's aspect ratio


@pytest.mark.parametrize("height, width", SIZES)
def test_classifier_matches_torchvision_weights_transforms(height, width):
    from torchvision.models import VGG19_BN_Weights

    from harness.models.preprocess import from_torchvision

    weights = VGG19_BN_Weights.IMAGENET1K_V1
    arr = photo_like(height, width)
    reference = unnormalise(weights.transforms()(Image.fromarray(arr)), weights.transforms().mean,
                            weights.transforms().std)
    ours = from_torchvision(weights).geometry(as_tensor(arr))[0]
    assert ours.shape == reference.shape == (3, 224, 224)
    assert (ours - reference).abs().max().item() <= TOLERANCE


def write_clip(folder, preprocess_cfg: dict, image_size: int):
    """A tiny open_clip folder whose config carries `preprocess_cfg` (the library reads it)."""
    import open_clip

    from harness.tiny.builders import TINY_CLIP_CFG

    cfg = json.loads(json.dumps(TINY_CLIP_CFG))
    cfg["vision_cfg"]["image_size"] = image_size
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    model = open_clip.CLIP(**cfg)
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": cfg, "preprocess_cfg": preprocess_cfg}))
    torch.save(model.state_dict(), folder / "open_clip_pytorch_model.bin")
    return f"local-dir:{folder}"


CLIP_CONFIGS = {
    "openai (bicubic, shortest side, OpenAI mean/std)": (
        {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711],
         "interpolation": "bicubic", "resize_mode": "shortest"}, 64),
    "siglip-like (bilinear, squash, mean/std 0.5)": (
        {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "interpolation": "bilinear", "resize_mode": "squash"}, 96),
}


@pytest.mark.parametrize("config", list(CLIP_CONFIGS))
@pytest.mark.parametrize("height, width", SIZES)
def test_clip_matches_open_clips_own_preprocess(config, height, width, tmp_path):
    import open_clip

    from harness.models.clip import load_clip

    preprocess_cfg, size = CLIP_CONFIGS[config]
    name = write_clip(tmp_path / "clip", preprocess_cfg, size)
    _, _, reference_transform = open_clip.create_model_and_transforms(name)
    ours = load_clip(name, None, "cpu")
    assert ours.preprocessing.mean == tuple(preprocess_cfg["mean"]) and ours.image_size == size
    arr = photo_like(height, width)
    reference = unnormalise(reference_transform(Image.fromarray(arr)), preprocess_cfg["mean"], preprocess_cfg["std"])
    mine = ours.preprocessing.geometry(as_tensor(arr))[0]
    assert mine.shape == reference.shape == (3, size, size)
    assert (mine - reference).abs().max().item() <= TOLERANCE


def test_a_pretrained_tag_keeps_its_own_preprocessing_when_loaded_from_a_file():
    """SigLIP's tag uses mean/std 0.5 and bicubic; a cached file loaded by path must keep them."""
    from harness.models.preprocess import tag_preprocess

    siglip = tag_preprocess("ViT-B-16-SigLIP", "webli")
    assert siglip["mean"] == (0.5, 0.5, 0.5) and siglip["std"] == (0.5, 0.5, 0.5)
    assert tag_preprocess("ViT-B-32", "openai")["mean"] == (0.48145466, 0.4578275, 0.40821073)
    assert tag_preprocess("ViT-B-32", None) == {}


def test_load_clip_applies_the_tags_preprocessing(monkeypatch):
    """The weights file comes from the cache; the tag's settings still reach the backbone."""
    import open_clip

    from harness.models.clip import load_clip

    pytest.importorskip("timm")
    seen = {}
    real = open_clip.create_model

    def spy(name, **kw):
        seen.update(kw.get("force_preprocess_cfg") or {})
        return real(name, **{**kw, "pretrained": None})  # random weights: no file is needed for the check

    monkeypatch.setattr(open_clip, "create_model", spy)
    monkeypatch.setattr(open_clip, "get_tokenizer", lambda name: None)  # SigLIP's tokenizer is a download
    clip = load_clip("ViT-B-16-SigLIP", "/cache/open_clip_pytorch_model.bin", "cpu", tag="webli")
    assert seen["mean"] == (0.5, 0.5, 0.5) and clip.preprocessing.mean == (0.5, 0.5, 0.5)
    assert clip.preprocessing.interpolation == "bicubic" and clip.name == "ViT-B-16-SigLIP/webli"
