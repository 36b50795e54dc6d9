"""A generator in one file, no network: K Gaussian blobs on a grey canvas, each from 6 genes (x, y, size, r, g,
b), drawn at 32 x 32. `--set models.generator=blobs:K` (K blobs, default 4)."""
from __future__ import annotations

import numpy as np
import torch

from harness.generators.base import Generator

SIZE = 32


class BlobsGenerator(Generator):
    name = "blobs"

    def __init__(self, blobs: int = 4, batch_size: int = 32, device: str = "cpu"):
        super().__init__(batch_size, device)
        self.blobs = int(blobs)
        self.latent_dim = 6 * self.blobs
        self.image_size = SIZE

    @classmethod
    def load_net(cls, arg: str, profile: str, device: str, cache_dir) -> int:
        """Nothing to load: the 'network' is the number of blobs."""
        return int(arg or 4)

    @classmethod
    def files(cls, arg: str, profile: str) -> list:
        return []

    @classmethod
    def from_config(cls, net: int, cfg, device: str = "cpu") -> "BlobsGenerator":
        return cls(net, batch_size=cfg.batch_size, device=device)

    def _bounds(self):
        return np.full(self.latent_dim, -3.0), np.full(self.latent_dim, 3.0)

    def _initial(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.standard_normal((n, self.latent_dim))

    def _decode(self, latents: torch.Tensor) -> torch.Tensor:
        genes = torch.sigmoid(latents.reshape(len(latents), self.blobs, 6))
        axis = torch.linspace(0, 1, SIZE, device=latents.device)
        yy, xx = torch.meshgrid(axis, axis, indexing="ij")
        x, y, size = genes[..., 0, None, None], genes[..., 1, None, None], 0.05 + 0.25 * genes[..., 2, None, None]
        weight = torch.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * size ** 2))  # [B, K, H, W]
        colour = genes[..., 3:6]  # [B, K, 3]
        paint = torch.einsum("bkhw,bkc->bchw", weight, colour)
        cover = weight.sum(1, keepdim=True).clamp(max=1.0)
        return 0.5 * (1 - cover) + paint.clamp(0, 1) * cover
