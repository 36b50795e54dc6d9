"""Image preprocessing as each model defines it, applied on tensors.

A `Preprocess` is read from the model's own definition: torchvision weights' `transforms()`
(resize the shorter side, centre crop, interpolation, mean/std) or open_clip's `preprocess_cfg`
(size, resize_mode, interpolation, mean/std, with a pretrained tag's own settings). It runs on
float images [B, 3, H, W] in [0, 1]; tests hold it to the libraries' own PIL transforms within
2/255 before normalisation.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from harness.errors import HarnessError

MODES = ("shortest", "squash")


@dataclass(frozen=True)
class Preprocess:
    size: int  # the square side the model sees
    resize: int  # shortest: the shorter side is resized to this, then centre-cropped to `size`
    mode: str = "shortest"  # shortest (resize the shorter side, centre crop) | squash (resize both sides to size)
    interpolation: str = "bilinear"  # bilinear | bicubic (antialiased when downsampling, like PIL)
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)

    def __post_init__(self):
        if self.mode not in MODES:
            raise HarnessError(f"image resize mode {self.mode!r} is not supported (supported: {', '.join(MODES)})")
        if self.interpolation not in ("bilinear", "bicubic", "nearest"):
            raise HarnessError(f"image interpolation {self.interpolation!r} is not supported")

    def geometry(self, images: torch.Tensor) -> torch.Tensor:
        """Resize and crop as the model's transform does: [B, 3, H, W] -> [B, 3, size, size] in [0, 1]."""
        from torchvision.transforms import InterpolationMode
        from torchvision.transforms.v2 import functional as F

        mode = InterpolationMode(self.interpolation)
        if self.mode == "squash":
            if images.shape[-2:] != (self.size, self.size):
                images = F.resize(images, [self.size, self.size], interpolation=mode, antialias=True)
        else:
            if min(images.shape[-2:]) != self.resize:
                images = F.resize(images, [self.resize], interpolation=mode, antialias=True)
            if images.shape[-2:] != (self.size, self.size):
                images = F.center_crop(images, [self.size, self.size])
        return images.clamp(0, 1)

    def on_pil(self, image) -> torch.Tensor:
        """One PIL image through the same geometry as torchvision's PIL transforms do it (open_clip's evaluation
        transform: Resize of the shorter side on the PIL image, CenterCrop, ToTensor, Normalize), -> [3, size, size].
        For a reference's own preprocessing (GenEval's colour crops); stored 8-bit images are exactly PIL images."""
        from torchvision.transforms import InterpolationMode
        from torchvision.transforms import functional as TF

        mode = InterpolationMode(self.interpolation)
        image = image.convert("RGB")
        if self.mode == "squash":
            image = TF.resize(image, [self.size, self.size], interpolation=mode)
        else:
            image = TF.center_crop(TF.resize(image, self.resize, interpolation=mode), [self.size, self.size])
        return TF.normalize(TF.to_tensor(image), list(self.mean), list(self.std))

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(self.mean, dtype=images.dtype, device=images.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=images.dtype, device=images.device).view(1, -1, 1, 1)
        return (self.geometry(images) - mean) / std


def from_torchvision(weights) -> Preprocess:
    """The evaluation transform of torchvision weights (e.g. VGG19_BN_Weights.IMAGENET1K_V1)."""
    t = weights.transforms()
    return Preprocess(size=int(t.crop_size[0]), resize=int(t.resize_size[0]), mode="shortest",
                      interpolation=t.interpolation.value, mean=tuple(t.mean), std=tuple(t.std))


def from_open_clip(cfg: dict) -> Preprocess:
    """open_clip's preprocess_cfg (model.visual.preprocess_cfg): size, resize_mode, interpolation, mean, std."""
    size = cfg.get("size", 224)
    size = int(size[0] if isinstance(size, (tuple, list)) else size)
    return Preprocess(size=size, resize=size, mode=cfg.get("resize_mode", "shortest"),
                      interpolation=cfg.get("interpolation", "bicubic"), mean=tuple(cfg["mean"]),
                      std=tuple(cfg["std"]))


def tag_preprocess(name: str, tag: str | None) -> dict:
    """A pretrained tag's own preprocessing settings (open_clip's pretrained config), to apply when
    its weights are loaded from a cached file rather than by tag."""
    if not tag:
        return {}
    import open_clip

    cfg = open_clip.get_pretrained_cfg(name, tag) or {}
    return {k: cfg[k] for k in ("mean", "std", "interpolation", "resize_mode", "fill_color") if k in cfg}
