"""BigGAN-deep as a searchable generator.

genome = [noise (z_dim) in [-2 t, 2 t] | class genes]; t = truncation. The class genes are those of
`generator.class_genome` (harness.generators.class_genome): softmax logits (CLIP-GLaSS), a sparse
set of k classes with weights, or BigGAN's class embedding itself.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.stats import truncnorm

from harness.errors import HarnessError
from harness.generators.base import Generator
from harness.generators.class_genome import Block, make_class_genome


class BigGANGenerator(Generator):
    name = "biggan"

    def __init__(self, net, truncation: float = 1.0, class_bound: float = 3.0, class_genome: str = "softmax",
                 active_classes: int = 1, batch_size: int = 32, device: str = "cpu"):
        super().__init__(batch_size=batch_size, device=device)
        self.net = net.eval().to(self.device)
        config = net.config
        self.z_dim = int(config.z_dim)
        self.num_classes = int(config.num_classes)
        self.image_size = int(config.output_dim)
        self.truncation = float(truncation)
        self.class_bound = float(class_bound)
        self.genome = make_class_genome(class_genome, net, self.class_bound, int(active_classes))
        self.latent_dim = self.z_dim + self.genome.dim

    @classmethod
    def from_config(cls, net, cfg, device: str = "cpu") -> "BigGANGenerator":
        for key, default in (("space", "z"), ("noise_mode", "const"), ("class_label", None)):
            if getattr(cfg, key) != default:
                raise HarnessError(f"generator.{key}={getattr(cfg, key)} applies to StyleGAN2-ADA networks only; "
                                   f"BigGAN takes {key}={default} (or use --set models.generator=stylegan2_ada:PKL)")
        return cls(net, truncation=cfg.truncation, class_bound=cfg.class_bound, class_genome=cfg.class_genome,
                   active_classes=cfg.active_classes, batch_size=cfg.batch_size, device=device)

    def blocks(self) -> list[Block]:
        return [Block("noise", 0, self.z_dim), *(b.shift(self.z_dim) for b in self.genome.blocks())]

    def _bounds(self):
        zb = 2.0 * self.truncation
        cl, cu = self.genome.bounds()
        return np.concatenate([np.full(self.z_dim, -zb), cl]), np.concatenate([np.full(self.z_dim, zb), cu])

    def _initial(self, n, rng):
        z = self.truncation * truncnorm.rvs(-2, 2, size=(n, self.z_dim), random_state=rng)
        return np.concatenate([z, self.genome.initial(n, rng)], axis=1)

    def with_class(self, latents: np.ndarray, c: int) -> np.ndarray:
        """`latents` with their class genes replaced by genes that make ImageNet class `c` dominant."""
        out = np.array(latents, dtype=np.float64, copy=True)
        out[:, self.z_dim:] = self.genome.one_class(c)
        return out

    def class_info(self, latents: np.ndarray) -> dict[str, np.ndarray]:
        return self.genome.describe(np.asarray(latents)[:, self.z_dim:])

    def _decode(self, latents: torch.Tensor) -> torch.Tensor:
        z, genes = latents[:, : self.z_dim], latents[:, self.z_dim:]
        if self.genome.name == "embedding":  # BigGAN.forward with the embedding in place of embeddings(class)
            images = self.net.generator(torch.cat((z, genes.to(z.dtype)), dim=1), self.truncation)
        else:
            images = self.net(z, self.genome.class_vectors(genes).to(z.dtype), self.truncation)
        return (images + 1.0) / 2.0
