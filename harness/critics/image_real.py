"""image_real: the classifier's top-class probability, max softmax(logits / T), in (0, 1]."""
from __future__ import annotations

import torch

from harness.critics.base import CaptionContext, Critic, Features


def tempered_softmax(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """softmax(logits / T) over the last axis; T < 1 sharpens, T > 1 flattens. In float32 (torch's softmax
    subtracts the maximum first) while T is representable there; beyond (T < 1e-30 or > 1e30) as
    softmax((logits - max) / T) in float64, so no temperature overflows it: as T -> 0 it tends to the one-hot
    argmax (ties share), as T -> inf to the uniform distribution, never NaN for finite logits."""
    temperature = float(temperature)
    if 1e-30 <= temperature <= 1e30:
        return torch.softmax(logits.float() / temperature, dim=-1)
    x = logits.double()
    x = (x - x.max(dim=-1, keepdim=True).values) / temperature
    return torch.softmax(x, dim=-1).float()


class ImageRealCritic(Critic):
    backbones = ("classifier",)
    score_range = (0.0, 1.0)

    def __init__(self, classifier, cfg=None):
        self.classifier = classifier
        self.temperature = float(cfg.temperature) if cfg is not None else 1.0

    def _backbones(self) -> dict:
        return {"classifier": self.classifier}

    def _score(self, features: Features, context: CaptionContext) -> torch.Tensor:
        return tempered_softmax(features.logits, self.temperature).max(dim=-1).values
