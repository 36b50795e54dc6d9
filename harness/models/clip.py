"""CLIP backbone (open_clip): image and text embeddings, L2-normalized, batched."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from harness.models.backbone import ImageBackbone


class ClipBackbone(ImageBackbone):
    """An open_clip model with its preprocessing, used by text_image and region_word.

    encode_image: images float [B, 3, H, W] in [0, 1] -> [B, D] unit vectors.
    encode_text: list of N strings -> [N, D] unit vectors.
    """

    def __init__(self, model, tokenizer, preprocessing, name: str = "clip", batch_size: int = 64):
        super().__init__(model, preprocessing, name, batch_size)
        self.visual = model.visual
        self.tokenizer = tokenizer

    @torch.inference_mode()
    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        from harness.models.precision import autocast

        out = []
        for chunk in images.split(self.batch_size):
            with autocast(self.device, self.precision):
                feats = self.model.encode_image(self.preprocess(chunk.to(self.device)))
            out.append(F.normalize(feats.float(), dim=-1))
        return torch.cat(out) if out else images.new_zeros((0, 1))

    @torch.inference_mode()
    def encode_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """Images already preprocessed (normalised [B, 3, size, size], e.g. by Preprocess.on_pil) -> [B, D] unit
        vectors."""
        from harness.models.precision import autocast

        with autocast(self.device, self.precision):
            feats = self.model.encode_image(pixels.to(self.device))
        return F.normalize(feats.float(), dim=-1)

    @torch.inference_mode()
    def encode_text(self, texts: list[str]) -> torch.Tensor:
        from harness.models.precision import autocast

        tokens = self.tokenizer(list(texts)).to(self.device)
        with autocast(self.device, self.precision):
            feats = self.model.encode_text(tokens)
        return F.normalize(feats.float(), dim=-1)

    def count_tokens(self, text: str) -> int:
        """Tokens `text` takes in CLIP's context window, start and end tokens included."""
        tok = getattr(self.tokenizer, "encode", None)
        inner = getattr(self.tokenizer, "tokenizer", None)
        if tok is None and inner is not None:
            tok = inner.encode
        if tok is None:
            return int((self.tokenizer([text])[0] != 0).sum())
        return len(tok(text)) + 2

    @property
    def context_length(self) -> int:
        return int(getattr(self.model, "context_length", 77))


def load_clip(name: str, pretrained: str | None, device: str, batch_size: int = 64,
              tag: str | None = None) -> ClipBackbone:
    """Load an open_clip model.

    name: a model name or 'local-dir:PATH'; pretrained: a tag, a checkpoint file or None (random);
    tag: the pretrained tag the file came from, whose settings the model must follow: QuickGELU and
    its preprocessing (mean/std, interpolation, resize mode), which loading from a file would lose.
    """
    import open_clip

    from harness.models.preprocess import from_open_clip, tag_preprocess

    quick = bool((open_clip.get_pretrained_cfg(name, tag) or {}).get("quick_gelu")) if tag else False
    model = open_clip.create_model(name, pretrained=pretrained, device=device, force_quick_gelu=quick,
                                   force_preprocess_cfg=tag_preprocess(name, tag) or None)
    tokenizer = open_clip.get_tokenizer(name)
    label = f"{name}/{tag or pretrained or 'random'}"
    return ClipBackbone(model, tokenizer, from_open_clip(model.visual.preprocess_cfg), name=label,
                        batch_size=batch_size)
