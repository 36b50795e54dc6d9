"""region_word: CLIP similarity of image crops and caption words; per word its best crop, averaged.

score = mean over content words w of max over crops k of cos(crop_k, word_w), in [-1, 1].
Each word is put in `prompt` (e.g. "a photo of a {}.") before CLIP encodes it, once per caption.
"""
from __future__ import annotations

import torch

from harness.critics.base import CaptionContext, Critic, Features


class RegionWordCritic(Critic):
    backbones = ("clip",)
    score_range = (-1.0, 1.0)

    def __init__(self, clip, cfg=None):
        self.clip = clip
        self.grid = cfg.grid if cfg is not None else 2
        self.center = cfg.center if cfg is not None else True
        self.prompt = cfg.prompt if cfg is not None else "a photo of a {}."

    def _backbones(self) -> dict:
        return {"clip": self.clip, "grid": self.grid, "center": self.center}

    def word_embeddings(self, context: CaptionContext) -> torch.Tensor:
        """[W, D] unit vectors of the content words, encoded once per caption."""
        key = f"clip_words:{self.prompt}"
        texts = [self.prompt.format(w) for w in context.words.content]
        return context.get(key, lambda: self.clip.encode_text(texts).cpu())

    def _score(self, features: Features, context: CaptionContext) -> torch.Tensor:
        crops = features.clip_crops  # [B, K, D]
        sims = torch.einsum("bkd,wd->bkw", crops, self.word_embeddings(context))
        return sims.max(dim=1).values.mean(dim=1)
