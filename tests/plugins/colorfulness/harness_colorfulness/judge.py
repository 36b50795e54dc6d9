"""A held-out judge in one file: the mean HSV saturation of the image (no weights to load)."""
from __future__ import annotations

import numpy as np


class SaturationJudge:
    name = "saturation"
    id = "saturation:hsv-mean-v1"  # what its cached scores are keyed by
    score_range = (0.0, 1.0)

    @classmethod
    def load(cls, model, pretrained, profile, device="cpu", cache_dir=None) -> "SaturationJudge":
        return cls()

    @classmethod
    def files(cls, model, pretrained, profile) -> list:
        return []  # nothing to download

    def score(self, images, captions) -> np.ndarray:
        """images float [N, 3, H, W] in [0, 1]; captions: caption objects (id, text, requirements) -> [N]."""
        x = images.double()
        high, low = x.max(dim=1).values, x.min(dim=1).values
        saturation = (high - low) / high.clamp(min=1e-12)
        return saturation.flatten(1).mean(1).numpy()
