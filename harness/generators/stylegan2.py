"""A StyleGAN2-ADA network as a searchable generator.

genome, space z: [z (z_dim) in [-Z_BOUND, Z_BOUND] | class logits (c_dim) in [-b, b] when the
                  network is conditional and no class label is fixed]; c = softmax(class logits)
genome, space w: [w (w_dim)] within the per-dimension range of mapped samples (the label is part
                  of w, so it is not searched); initial w are the mapped initial z.
genome, space wplus: [w_0 | ... | w_{num_ws-1}], one w per synthesis layer (W+), each within the w
                  range; initial: the mapped initial z repeated for every layer (the same images as w).
Truncation: w -> w_avg + psi (w - w_avg) before synthesis, in both spaces. Noise: 'const' uses the
network's stored maps; 'random' draws each image's maps from a seed derived from its genome, so
an image is a function of its genome (rescoring and resuming give the same image).
"""
from __future__ import annotations

import hashlib

import numpy as np
import torch

from harness.errors import HarnessError
from harness.generators.base import Generator

Z_BOUND = 3.0
W_SAMPLES = 2000  # mapped z samples that set the w-space bounds
W_MARGIN = 0.25  # the w range is widened by this fraction on each side


class StyleGAN2Generator(Generator):
    name = "stylegan2_ada"

    def __init__(self, net, space: str = "z", truncation: float = 1.0, noise_mode: str = "const",
                 class_label: int | None = None, class_bound: float = 3.0, batch_size: int = 32, device: str = "cpu"):
        super().__init__(batch_size=batch_size, device=device)
        self.net = net.eval().requires_grad_(False).to(self.device)
        self.z_dim, self.c_dim, self.w_dim = int(net.z_dim), int(net.c_dim), int(net.w_dim)
        self.image_size = int(net.img_resolution)
        if net.img_channels not in (1, 3):
            raise HarnessError(f"the StyleGAN2 network makes {net.img_channels}-channel images; "
                               "the critics need 1 or 3")
        if space not in ("z", "w", "wplus"):
            raise HarnessError(f"generator.space must be z, w or wplus, got {space!r}")
        if noise_mode not in ("const", "random", "none"):
            raise HarnessError(f"generator.noise_mode must be const, random or none, got {noise_mode!r}")
        if class_label is not None and not self.c_dim:
            raise HarnessError(f"generator.class_label={class_label} is set but the StyleGAN2 network is "
                               "unconditional; leave generator.class_label unset")
        if class_label is not None and not 0 <= class_label < self.c_dim:
            raise HarnessError(f"generator.class_label={class_label} is outside the network's classes "
                               f"0..{self.c_dim - 1}")
        self.space, self.psi, self.noise_mode = space, float(truncation), noise_mode
        self.class_label, self.class_bound = class_label, float(class_bound)
        self.search_class = self.c_dim > 0 and class_label is None and space == "z"
        self.num_ws = int(net.num_ws)
        self.latent_dim = {"w": self.w_dim, "wplus": self.w_dim * self.num_ws}.get(
            space, self.z_dim + (self.c_dim if self.search_class else 0))
        self._w_bounds = self._estimate_w_bounds() if space != "z" else None

    # --- genome <-> network inputs -------------------------------------------------------------
    @classmethod
    def from_config(cls, net, cfg, device: str = "cpu") -> "StyleGAN2Generator":
        return cls(net, space=cfg.space, truncation=cfg.truncation, noise_mode=cfg.noise_mode,
                   class_label=cfg.class_label, class_bound=cfg.class_bound, batch_size=cfg.batch_size, device=device)

    def _labels(self, n: int, logits: torch.Tensor | None = None, rng: np.random.Generator | None = None):
        if not self.c_dim:
            return None
        if logits is not None:
            return torch.softmax(logits, dim=1)
        if self.class_label is not None:
            idx = np.full(n, self.class_label)
        else:
            idx = rng.integers(0, self.c_dim, n)
        return torch.nn.functional.one_hot(torch.as_tensor(idx), self.c_dim).float().to(self.device)

    def _map(self, z: np.ndarray, c) -> np.ndarray:
        with torch.inference_mode():
            w = self.net.mapping(torch.as_tensor(z, dtype=torch.float32, device=self.device), c)
        return w[:, 0].double().cpu().numpy()

    def _estimate_w_bounds(self):
        rng = np.random.default_rng(0)
        z = rng.standard_normal((W_SAMPLES, self.z_dim))
        w = self._map(z, self._labels(W_SAMPLES, rng=rng))
        lo, hi = w.min(axis=0), w.max(axis=0)
        pad = W_MARGIN * (hi - lo) + 1e-3
        return lo - pad, hi + pad

    def _bounds(self):
        if self.space == "w":
            return self._w_bounds
        if self.space == "wplus":
            return tuple(np.tile(b, self.num_ws) for b in self._w_bounds)
        xl = np.full(self.latent_dim, -Z_BOUND)
        xl[self.z_dim:] = -self.class_bound
        return xl, -xl

    def _initial(self, n, rng):
        z = np.clip(rng.standard_normal((n, self.z_dim)), -Z_BOUND, Z_BOUND)
        if self.space != "z":
            w = self._map(z, self._labels(n, rng=rng))
            return np.tile(w, self.num_ws) if self.space == "wplus" else w
        if self.search_class:
            logits = np.clip(rng.standard_normal((n, self.c_dim)), -self.class_bound, self.class_bound)
            return np.concatenate([z, logits], axis=1)
        return z

    def _ws(self, latents: torch.Tensor) -> torch.Tensor:
        mapping = self.net.mapping
        if self.space != "z":
            ws = latents.float().reshape(len(latents), -1, self.w_dim)  # [B, 1 or num_ws, w_dim]
            if ws.shape[1] == 1:
                ws = ws.repeat([1, self.num_ws, 1])
            return mapping.truncate(ws, self.psi) if self.psi != 1 else ws
        z = latents[:, : self.z_dim].float()
        logits = latents[:, self.z_dim:].float() if self.search_class else None
        return mapping(z, self._labels(len(z), logits), truncation_psi=self.psi)

    def _noise(self, latents: torch.Tensor) -> list[torch.Tensor] | None:
        """Per-image noise maps seeded by the genome's bytes (noise_mode 'random' only)."""
        if self.noise_mode != "random":
            return None
        shapes = self.net.synthesis.noise_shapes()
        per_image = []
        for row in latents.detach().float().cpu().numpy():
            seed = int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(), "little")
            gen = torch.Generator().manual_seed(seed)
            per_image.append([torch.randn((1, *shape), generator=gen) for shape in shapes])
        return [torch.stack(maps).to(self.device) for maps in zip(*per_image)]

    def _decode(self, latents: torch.Tensor) -> torch.Tensor:
        images = self.net.synthesis(self._ws(latents), noise_mode=self.noise_mode, noise=self._noise(latents))
        if images.shape[1] == 1:
            images = images.repeat(1, 3, 1, 1)
        return (images + 1.0) / 2.0
