"""What the image backbones share: a model on a device, its own preprocessing, batching."""
from __future__ import annotations

import torch

from harness.models.preprocess import Preprocess


class ImageBackbone:
    """images float [B, 3, H, W] in [0, 1] -> the model's own resize/crop and normalisation (`Preprocess`)."""

    def __init__(self, model, preprocessing: Preprocess, name: str, batch_size: int = 64):
        self.model = model.eval()
        self.preprocessing = preprocessing
        self.name = name
        self.batch_size = batch_size
        self.precision = "fp32"  # set by build_system from RunConfig.precision

    @property
    def image_size(self) -> int:
        """The square side the model sees."""
        return self.preprocessing.size

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        return self.preprocessing(images)
