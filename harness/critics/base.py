"""The critic interface and the per-batch / per-caption work critics share.

A critic maps images float [B, 3, H, W] in [0, 1] to one float per image, higher is better.
`Critic.score()` checks its inputs, then `_score()` computes from `Features` (backbone outputs
computed at most once per batch) and a `CaptionContext` (text work done once per caption).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch

from harness.critics.caption_words import CaptionWords, caption_words


def crop_boxes(height: int, width: int, grid: int, center: bool) -> list[tuple[int, int, int, int]]:
    """Crop layout as (top, left, h, w): a grid x grid tiling, plus a centred crop of half the side."""
    boxes = []
    for i in range(grid):
        for j in range(grid):
            top, bottom = (i * height) // grid, ((i + 1) * height) // grid
            left, right = (j * width) // grid, ((j + 1) * width) // grid
            boxes.append((top, left, bottom - top, right - left))
    if center:
        boxes.append((height // 4, width // 4, height // 2, width // 2))
    return boxes


class Features:
    """Backbone outputs for one batch of images, each computed at most once.

    clip_image: [B, D] unit vectors (one CLIP pass per image); clip_crops: [B, K, D] (one CLIP
    pass per crop); logits: [B, C] classifier logits (one classifier pass per image).
    """

    def __init__(self, images: torch.Tensor, clip=None, classifier=None, grid: int = 2, center: bool = True):
        self.images = images
        self.clip = clip
        self.classifier = classifier
        self.grid = grid
        self.center = center
        self._cache: dict[str, torch.Tensor] = {}

    def _get(self, key: str, compute) -> torch.Tensor:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    @property
    def clip_image(self) -> torch.Tensor:
        return self._get("clip_image", lambda: self.clip.encode_image(self.images).cpu())

    @property
    def clip_crops(self) -> torch.Tensor:
        def compute():
            b, _, h, w = self.images.shape
            boxes = crop_boxes(h, w, self.grid, self.center)
            side = int(self.clip.image_size)  # each crop resized once, straight to CLIP's input size
            crops = [torch.nn.functional.interpolate(self.images[:, :, t:t + ch, l:l + cw], size=(side, side),
                                                     mode="bicubic", align_corners=False, antialias=True)
                     for t, l, ch, cw in boxes]
            stacked = torch.stack(crops, dim=1).reshape(b * len(boxes), 3, side, side)
            return self.clip.encode_image(stacked).cpu().reshape(b, len(boxes), -1)
        return self._get("clip_crops", compute)

    @property
    def logits(self) -> torch.Tensor:
        return self._get("logits", lambda: self.classifier.logits(self.images).float().cpu())


class CaptionContext:
    """One caption's words and the text-side work of every critic, done once per caption."""

    def __init__(self, caption: str):
        self.caption = caption
        self.words: CaptionWords = caption_words(caption)
        self._cache: dict[str, Any] = {}

    def get(self, key: str, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]


class Critic(ABC):
    """One score per image, higher is better, within `score_range`.

    A critic declares the loaded models it scores with (`backbones`: attributes of harness.models.Models,
    e.g. "clip", "classifier", "words"), given to its constructor in that order, then its settings (an
    instance of `settings`, its dataclass, or None); `build` constructs it so. A plugin critic also sets
    `name` (its score's name); a built-in one is named by its registration (harness.critics.BUILTIN)."""

    name: str = "critic"
    settings: type | None = None  # its settings dataclass: `critics.<name>.<field>` (plugins; built-ins: BUILTIN)
    backbones: tuple[str, ...] = ()  # the loaded models it needs, passed to __init__ in this order
    score_range: tuple[float, float] = (-1.0, 1.0)
    higher_is_better: bool = True

    @classmethod
    def build(cls, models, settings) -> "Critic":
        """The critic on the loaded models (a harness.models.Models) with its settings."""
        return cls(*[getattr(models, b) for b in cls.backbones], settings)

    def score(self, images: torch.Tensor, context: CaptionContext, features: Features | None = None) -> torch.Tensor:
        """images: float [B, 3, H, W] in [0, 1] -> float32 [B] on the CPU."""
        if not torch.is_tensor(images) or images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"{self.name}: images must be a float tensor [B, 3, H, W], got "
                             f"{getattr(images, 'shape', type(images))}")
        if not images.is_floating_point():
            raise ValueError(f"{self.name}: images must be floating point in [0, 1], got {images.dtype}")
        if features is None:
            features = self.features(images)
        elif features.images is not images:
            raise ValueError(f"{self.name}: features were computed for other images")
        out = self._score(features, context)
        if not torch.is_tensor(out):
            raise TypeError(f"{self.name}: _score returned {type(out).__name__}, not a float tensor [B]")
        if not out.is_floating_point():
            raise TypeError(f"{self.name}: _score returned a {out.dtype} tensor, not a float tensor [B]")
        out = out.float().cpu()
        if out.shape != (images.shape[0],):
            raise RuntimeError(f"{self.name}: expected {images.shape[0]} scores, got {tuple(out.shape)}")
        return out

    def features(self, images: torch.Tensor) -> Features:
        """A Features object with the backbones this critic needs (shared when several critics score)."""
        return Features(images, **self._backbones())

    @abstractmethod
    def _backbones(self) -> dict: ...

    @abstractmethod
    def _score(self, features: Features, context: CaptionContext) -> torch.Tensor: ...
