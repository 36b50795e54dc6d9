"""A fifth score in one file: colourfulness (Hasler & Süsstrunk 2003), computed from the image alone."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from harness.critics.base import CaptionContext, Critic, Features


@dataclass
class ColorfulnessSettings:
    scale: float = 1.0  # multiplies the score (critics.colorfulness.scale)


class ColorfulnessCritic(Critic):
    """sqrt(sd(rg)^2 + sd(yb)^2) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2), rg = R - G, yb = (R + G) / 2 - B, on
    images in [0, 1]; higher = more colourful. Needs no model (backbones = ())."""

    name = "colorfulness"
    settings = ColorfulnessSettings
    backbones = ()
    score_range = (0.0, 2.0)

    def __init__(self, settings: ColorfulnessSettings | None = None):
        self.scale = settings.scale if settings is not None else 1.0

    def _backbones(self) -> dict:
        return {}

    def _score(self, features: Features, context: CaptionContext) -> torch.Tensor:
        r, g, b = features.images.double().unbind(dim=1)
        rg, yb = r - g, (r + g) / 2 - b
        sd = torch.sqrt(rg.flatten(1).var(1, unbiased=False) + yb.flatten(1).var(1, unbiased=False))
        mean = torch.sqrt(rg.flatten(1).mean(1) ** 2 + yb.flatten(1).mean(1) ** 2)
        return (self.scale * (sd + 0.3 * mean)).clamp(0, 2)
