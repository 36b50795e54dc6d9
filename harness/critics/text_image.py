"""text_image: CLIP cosine similarity between the whole image and the caption, in [-1, 1]."""
from __future__ import annotations

import torch

from harness.critics.base import CaptionContext, Critic, Features


class TextImageCritic(Critic):
    backbones = ("clip",)
    score_range = (-1.0, 1.0)

    def __init__(self, clip, cfg=None):
        self.clip = clip

    def _backbones(self) -> dict:
        return {"clip": self.clip}

    def caption_embedding(self, context: CaptionContext) -> torch.Tensor:
        """[D] unit vector, encoded once per caption."""
        return context.get("clip_caption", lambda: self.clip.encode_text([context.caption])[0].cpu())

    def _score(self, features: Features, context: CaptionContext) -> torch.Tensor:
        return features.clip_image @ self.caption_embedding(context)
