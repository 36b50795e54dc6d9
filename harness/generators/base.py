"""The generator interface: latents [B, D] within bounds -> images [B, 3, H, W] in [0, 1]."""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import torch


class Generator(ABC):
    """A latent-space image generator searched by the optimizer.

    Public methods check inputs, protected hooks compute. Subclasses set `latent_dim`,
    `image_size` and implement `_bounds`, `_initial`, `_decode`.
    """

    name: str = "generator"
    latent_dim: int
    image_size: int

    nfe_per_image: int = 1  # function evaluations of one decode: a GAN's one forward pass; a diffusion model's steps

    def __init__(self, batch_size: int = 32, device: str = "cpu"):
        self.batch_size = int(batch_size)
        self.device = torch.device(device)
        self.precision = "fp32"  # set by build_system from RunConfig.precision
        self.counters = {"nfe": 0, "decoder_calls": 0}  # what every decode spent (harness.search.budget)

    def count(self, images: int, nfe_per_image: int) -> None:
        counters = self.__dict__.setdefault("counters", {"nfe": 0, "decoder_calls": 0})  # a plugin may skip __init__
        counters["nfe"] += int(images) * int(nfe_per_image)
        counters["decoder_calls"] += int(images)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds, each float64 [D]."""
        xl, xu = self._bounds()
        return np.asarray(xl, dtype=np.float64), np.asarray(xu, dtype=np.float64)

    def initial_latents(self, n: int, seed) -> np.ndarray:
        """`n` latents from a numpy Generator seeded with `seed` (an int or a list of ints): float64 [n, D]."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        rng = np.random.default_rng(seed)
        x = np.asarray(self._initial(n, rng), dtype=np.float64)
        xl, xu = self.bounds()
        return np.clip(x, xl, xu)

    def decode(self, latents) -> torch.Tensor:
        """latents: float [B, D] (numpy or torch) -> images float32 [B, 3, H, W] in [0, 1] on self.device."""
        x = torch.as_tensor(np.asarray(latents) if not torch.is_tensor(latents) else latents)
        if x.ndim != 2 or x.shape[1] != self.latent_dim:
            raise ValueError(f"latents must be [B, {self.latent_dim}], got {tuple(x.shape)}")
        if x.shape[0] == 0:
            return torch.zeros((0, 3, self.image_size, self.image_size), device=self.device)
        x = x.to(self.device, torch.float32)
        from harness.models.precision import autocast

        with torch.inference_mode(), autocast(self.device, self.precision):
            out = torch.cat([self._decode(chunk).float() for chunk in x.split(self.batch_size)])
        self.count(len(x), self.nfe_per_image)
        return out.clamp(0.0, 1.0)

    def condition(self, caption) -> None:
        """Condition on a caption (an object with id, text and requirements, or a string) before its latents are
        decoded: a text-to-image generator encodes it here, once per caption; a GAN ignores it."""

    def blocks(self) -> list:
        """The genome's blocks of genes (harness.generators.class_genome.Block), for per-block operators."""
        from harness.generators.class_genome import Block

        return [Block("latent", 0, self.latent_dim)]

    def class_info(self, latents: np.ndarray) -> dict[str, np.ndarray] | None:
        """Per individual: top_class, top_class_weight, effective_classes (None: the genome has no class)."""
        return None

    @abstractmethod
    def _bounds(self) -> tuple[np.ndarray, np.ndarray]: ...

    @abstractmethod
    def _initial(self, n: int, rng: np.random.Generator) -> np.ndarray: ...

    @abstractmethod
    def _decode(self, latents: torch.Tensor) -> torch.Tensor: ...
