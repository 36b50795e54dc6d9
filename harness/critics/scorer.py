"""The Scorer: runs the run's critics (harness.critics.critic_specs) with shared backbone work."""
from __future__ import annotations

import numpy as np
import torch

from harness.critics.base import CaptionContext, Critic, Features, crop_boxes


class Scorer:
    """Scores images with all four critics, sharing work.

    Per image: one classifier pass (image_real and word_label), one full-image CLIP pass, one CLIP
    pass per crop. Per caption: the text encodings, cached in the CaptionContext.
    """

    def __init__(self, critics: dict[str, Critic], clip, classifier, grid: int, center: bool):
        self.critics = critics
        self.clip = clip
        self.classifier = classifier
        self.grid = grid
        self.center = center
        self._contexts: dict[str, CaptionContext] = {}

    @property
    def names(self) -> list[str]:
        """The critics' names, in scoring order (the archive's score columns)."""
        return list(self.critics)

    @classmethod
    def from_models(cls, models, cfg) -> "Scorer":
        """Every critic of the run (built-ins and the plugins cfg.plugins names) built on the loaded models;
        cfg is a CriticsConfig."""
        from harness.critics import critic_specs, resolve

        cfg = resolve(cfg)
        critics = {}
        for spec in critic_specs(cfg.plugins):
            critic = spec.load().build(models, cfg.sections[spec.name])
            critic.name = spec.name
            critics[spec.name] = critic
        return cls(critics, models.clip, models.classifier, cfg.region_word.grid, cfg.region_word.center)

    def context(self, caption: str) -> CaptionContext:
        """The caption's context, built once per caption."""
        if caption not in self._contexts:
            self._contexts[caption] = CaptionContext(caption)
        return self._contexts[caption]

    def score(self, images: torch.Tensor, caption: str, timer=None) -> dict[str, np.ndarray]:
        """images: float [B, 3, H, W] in [0, 1] -> {critic name: float64 [B]}.

        timer: an optional harness.perf.Stopwatch; each backbone pass is charged to the critic(s) it serves.
        """
        from harness.critics.timing import phase

        ctx = self.context(caption)
        features = Features(images, clip=self.clip, classifier=self.classifier, grid=self.grid, center=self.center)
        with phase(timer, "text_image (CLIP image)"):
            features.clip_image
        with phase(timer, "region_word (CLIP crops)"):
            features.clip_crops
        with phase(timer, "image_real + word_label (classifier)"):
            features.logits
        out = {}
        for name, critic in self.critics.items():
            with phase(timer, f"{name} (text, scoring)"):
                out[name] = critic.score(images, ctx, features).double().numpy()
            if not np.isfinite(out[name]).all():
                raise RuntimeError(f"critic {name} gave {int((~np.isfinite(out[name])).sum())} non-finite score(s); "
                                   "its settings or models produce NaN/inf (a score must be a finite number)")
        return out


__all__ = ["CaptionContext", "Critic", "Features", "Scorer", "crop_boxes"]
