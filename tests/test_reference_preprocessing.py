"""HPSv2's and GenEval's colour-crop preprocessing equal their originals, written here from the originals' own
definitions (tgxs002/HPSv2: image_transform(is_train=False, resize_longest_max=True), i.e. RGB, ToTensor, then
ResizeMaxSize on the float tensor, Normalize; GenEval's colour step: open_clip's evaluation transform on the PIL
crop, i.e. Resize of the shorter side (bicubic), CenterCrop, ToTensor, Normalize), within 1e-4 after normalisation,
on smooth and noisy images of several sizes. Holds for torchvision >= 0.17, whose tensor resize antialiases by
default, as the official HPSv2 code then does."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

from harness.judges.panel import hps_transform
from harness.models.hub import CLIP_MEAN, CLIP_STD
from harness.models.preprocess import Preprocess

SIZES = [(64, 64), (256, 256), (300, 451), (451, 300), (512, 512), (1024, 768)]  # (width, height)


def image(width: int, height: int, kind: str) -> Image.Image:
    rng = np.random.default_rng(width * 7 + height)
    if kind == "noisy":
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    else:
        y, x = np.mgrid[0:height, 0:width]
        pixels = np.stack([127 + 120 * np.sin(x / 37.0), 127 + 120 * np.cos(y / 23.0), 255 * x / width], -1)
        pixels = pixels.clip(0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def official_hps(img: Image.Image, size: int, mean, std) -> torch.Tensor:
    """HPSv2's preprocess_val: _convert_to_rgb_or_rgba, ToTensor, ResizeMaxSize (its forward, tensor branch),
    normalize."""
    x = T.ToTensor()(img.convert("RGB"))
    height, width = x.shape[1:]
    scale = size / float(max(height, width))
    if scale != 1.0:
        new_size = tuple(round(dim * scale) for dim in (height, width))
        x = TF.resize(x, new_size, InterpolationMode.BICUBIC)
        pad_h, pad_w = size - new_size[0], size - new_size[1]
        x = TF.pad(x, padding=[pad_w // 2, pad_h // 2, pad_w - pad_w // 2, pad_h - pad_h // 2], fill=0)
    return T.Normalize(mean, std)(x)


def official_open_clip(img: Image.Image, size: int, mean, std) -> torch.Tensor:
    """open_clip's image_transform(size, is_train=False): Resize(size, BICUBIC), CenterCrop(size), RGB, ToTensor,
    Normalize (what GenEval's colour classifier applies to each PIL crop)."""
    return T.Compose([T.Resize(size, interpolation=InterpolationMode.BICUBIC), T.CenterCrop(size),
                      lambda im: im.convert("RGB"), T.ToTensor(), T.Normalize(mean, std)])(img)


@pytest.mark.parametrize("kind", ["smooth", "noisy"])
@pytest.mark.parametrize("width, height", SIZES)
def test_hpsv2_preprocessing_equals_the_official_transform(width, height, kind):
    img = image(width, height, kind)
    ours = hps_transform(224, CLIP_MEAN, CLIP_STD)(img)
    theirs = official_hps(img, 224, CLIP_MEAN, CLIP_STD)
    assert ours.shape == theirs.shape == (3, 224, 224)
    assert (ours - theirs).abs().max().item() < 1e-4


@pytest.mark.parametrize("kind", ["smooth", "noisy"])
@pytest.mark.parametrize("width, height", SIZES)
def test_geneval_colour_crops_equal_open_clips_pil_transform(width, height, kind):
    img = image(width, height, kind)
    pre = Preprocess(size=224, resize=224, mode="shortest", interpolation="bicubic", mean=CLIP_MEAN, std=CLIP_STD)
    ours = pre.on_pil(img)
    theirs = official_open_clip(img, 224, CLIP_MEAN, CLIP_STD)
    assert (ours - theirs).abs().max().item() < 1e-4
