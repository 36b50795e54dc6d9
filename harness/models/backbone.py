"""What the image backbones share: a model on a device, square resize + normalization, batching."""
from __future__ import annotations

import torch
import torch.nn.functional as F


class ImageBackbone:
    """images float [B, 3, H, W] in [0, 1] -> resized to image_size (antialiased), clamped, normalized."""

    interpolation = "bilinear"

    def __init__(self, model, image_size: int, mean, std, name: str, batch_size: int = 64):
        self.model = model.eval()
        self.image_size = int(image_size)
        self.mean = torch.tensor(mean).view(1, 3, 1, 1)
        self.std = torch.tensor(std).view(1, 3, 1, 1)
        self.name = name
        self.batch_size = batch_size
        self.precision = "fp32"  # set by build_system from RunConfig.precision

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        size = self.image_size
        if images.shape[-2:] != (size, size):
            images = F.interpolate(images, size=(size, size), mode=self.interpolation, align_corners=False,
                                   antialias=True)
        return (images.clamp(0, 1) - self.mean.to(images)) / self.std.to(images)
