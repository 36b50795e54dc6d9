"""The Scorer: runs the run's critics (harness.critics.critic_specs) with shared backbone work."""
from __future__ import annotations

import numpy as np
import torch

from harness.critics.base import CaptionContext, Critic, Features, crop_boxes
from harness.errors import PluginError
from harness.plugins import raised as _what


class Scorer:
    """Scores images with all four critics, sharing work.

    Per image: one classifier pass (image_real and word_label), one full-image CLIP pass, one CLIP
    pass per crop. Per caption: the text encodings, cached in the CaptionContext.
    """

    def __init__(self, critics: dict[str, Critic], clip, classifier, grid: int, center: bool,
                 plugins: dict[str, str] | None = None):
        self.critics = critics
        self.plugins = dict(plugins or {})  # critic name -> the plugin reference that gave it (its faults are named)
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
        critics, plugins = {}, {}
        for spec in critic_specs(cfg.plugins):
            if spec.source:
                plugins[spec.name] = spec.source.get("reference") or spec.name
                try:
                    critic = spec.load().build(models, cfg.sections[spec.name])
                except (Exception, SystemExit) as exc:
                    raise PluginError(f"the critic plugin {plugins[spec.name]!r} fails to build: {_what(exc)}; fix it "
                                      "or leave it out of critics.plugins") from None
            else:
                critic = spec.load().build(models, cfg.sections[spec.name])
            critic.name = spec.name
            critics[spec.name] = critic
        return cls(critics, models.clip, models.classifier, cfg.region_word.grid, cfg.region_word.center, plugins)

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
                if name in self.plugins:
                    out[name] = self._plugin_scores(name, critic, images, ctx, features)
                    continue
                out[name] = critic.score(images, ctx, features).double().numpy()
            if not np.isfinite(out[name]).all():
                raise RuntimeError(f"critic {name} gave {int((~np.isfinite(out[name])).sum())} non-finite score(s); "
                                   "its settings or models produce NaN/inf (a score must be a finite number)")
        return out

    def _plugin_scores(self, name: str, critic: Critic, images, ctx, features) -> np.ndarray:
        """A plugin critic's scores, checked against its contract: whatever it raises, exits with or returns out of
        contract (not a float tensor [B], not finite, outside its declared score_range) is one PluginError naming
        the plugin and what it did."""
        ref = self.plugins[name]
        try:
            scores = critic.score(images, ctx, features).double().numpy()
        except (Exception, SystemExit) as exc:
            raise PluginError(f"the critic plugin {ref!r} failed while scoring {len(images)} image(s): {_what(exc)}; "
                              "fix it or leave it out of critics.plugins") from None
        bad = ~np.isfinite(scores)
        if bad.any():
            raise PluginError(f"the critic plugin {ref!r} returned {int(bad.sum())} non-finite score(s) of "
                              f"{len(scores)} (first: {scores[bad][0]}); a score must be a finite number")
        lo, hi = critic.score_range
        slack = 1e-6 * (hi - lo)
        outside = (scores < lo - slack) | (scores > hi + slack)
        if outside.any():
            raise PluginError(f"the critic plugin {ref!r} returned {scores[outside][0]:.6g}, outside its declared "
                              f"score_range ({lo}, {hi}) ({int(outside.sum())} of {len(scores)} scores); fix the "
                              "score or its score_range")
        return scores


__all__ = ["CaptionContext", "Critic", "Features", "Scorer", "crop_boxes"]
