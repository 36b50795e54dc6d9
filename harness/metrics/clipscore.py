"""CLIPScore as defined by Hessel et al. 2021: 2.5 * max(cos(image, caption), 0) per image, averaged.

torchmetrics' CLIPScore clamps the *mean* and scales by 100, and it only takes Hugging Face CLIP
models, so it does not fit the open_clip evaluator here: every CLIPScore in this harness follows
Hessel's per-image definition (range [0, 2.5]). The critic-hacking gap puts the search's own CLIP
(the in-loop text_image) on the same scale: gap = CLIPScore(search CLIP) - CLIPScore(evaluator).
"""
from __future__ import annotations

import torch

W = 2.5


def clipscore_per_image(image_emb: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
    """image_emb [N, D], text_emb [N, D] (any norm) -> [N] per-image CLIPScore in [0, 2.5]."""
    cos = torch.nn.functional.cosine_similarity(image_emb.double(), text_emb.double(), dim=-1)
    return W * cos.clamp(min=0)


def clipscore_from_cosine(cos) -> torch.Tensor:
    """The same scale for cosines already computed (e.g. the in-loop text_image)."""
    return W * torch.tensor(cos, dtype=torch.float64).clamp(min=0)


def evaluate_clipscore(clip, images: torch.Tensor, captions: list[str]) -> torch.Tensor:
    """images float [N, 3, H, W] in [0, 1], N captions -> [N] CLIPScore with the evaluator `clip`."""
    unique = sorted(set(captions))
    text = clip.encode_text(unique).cpu()
    index = torch.tensor([unique.index(c) for c in captions])
    return clipscore_per_image(clip.encode_image(images).cpu(), text[index])
