"""BigGAN-deep as a searchable generator, with the CLIP-GLaSS genome.

genome = [noise (z_dim) in [-2 t, 2 t] | class logits (num_classes) in [-b, b]]; the class vector
fed to BigGAN is softmax(class logits). t = truncation, b = class_bound.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.stats import truncnorm

from harness.errors import HarnessError
from harness.generators.base import Generator


class BigGANGenerator(Generator):
    name = "biggan"

    def __init__(self, net, truncation: float = 1.0, class_bound: float = 3.0, batch_size: int = 32,
                 device: str = "cpu"):
        super().__init__(batch_size=batch_size, device=device)
        self.net = net.eval().to(self.device)
        config = net.config
        self.z_dim = int(config.z_dim)
        self.num_classes = int(config.num_classes)
        self.latent_dim = self.z_dim + self.num_classes
        self.image_size = int(config.output_dim)
        self.truncation = float(truncation)
        self.class_bound = float(class_bound)

    @classmethod
    def from_config(cls, net, cfg, device: str = "cpu") -> "BigGANGenerator":
        for key, default in (("space", "z"), ("noise_mode", "const"), ("class_label", None)):
            if getattr(cfg, key) != default:
                raise HarnessError(f"generator.{key}={getattr(cfg, key)} applies to StyleGAN2-ADA networks only; "
                                   f"BigGAN takes {key}={default} (or use --set models.generator=stylegan2_ada:PKL)")
        return cls(net, truncation=cfg.truncation, class_bound=cfg.class_bound, batch_size=cfg.batch_size,
                   device=device)

    def _bounds(self):
        zb = 2.0 * self.truncation
        xl = np.concatenate([np.full(self.z_dim, -zb), np.full(self.num_classes, -self.class_bound)])
        return xl, -xl

    def _initial(self, n, rng):
        z = self.truncation * truncnorm.rvs(-2, 2, size=(n, self.z_dim), random_state=rng)
        logits = np.clip(rng.standard_normal((n, self.num_classes)), -self.class_bound, self.class_bound)
        return np.concatenate([z, logits], axis=1)

    def _decode(self, latents: torch.Tensor) -> torch.Tensor:
        z = latents[:, : self.z_dim]
        classes = torch.softmax(latents[:, self.z_dim:], dim=1)
        images = self.net(z, classes, self.truncation)
        return (images + 1.0) / 2.0
