"""A one-step (or few-step) diffusion pipeline as a searchable generator: the genome is the initial latent noise.

genome = the pipeline's initial noise, C x H/8 x W/8 values (SD-Turbo: 4 x 64 x 64 = 16,384), drawn N(0, I);
its one block is Gaussian, so the search uses the noise operators of harness.search.operators (slerp
crossover, sqrt(1 - s^2) x + s e mutation), which keep it N(0, I). The caption conditions the pipeline (`condition`, its text encoding computed once per caption);
the population decodes in batches; with a fixed deterministic scheduler (Euler, trailing timesteps) the image is
a function of the genome. Bounds are +-8 (a standard normal value beyond 8 has probability 1e-15).
"""
from __future__ import annotations

import numpy as np
import torch

from harness.generators.base import Generator
from harness.generators.class_genome import Block

BOUND = 8.0


class DiffusionGenerator(Generator):
    name = "diffusion"

    def __init__(self, pipe, steps: int = 1, guidance: float = 0.0, batch_size: int = 8, device: str = "cpu"):
        super().__init__(batch_size=batch_size, device=device)
        self.pipe = pipe.to(self.device)
        self.steps = int(steps)
        self.guidance = float(guidance)
        scale = int(pipe.vae_scale_factor)
        side = int(pipe.unet.config.sample_size)
        self.image_size = side * scale
        self.latent_shape = (int(pipe.unet.config.in_channels), side, side)
        self.latent_dim = int(np.prod(self.latent_shape))
        self._encoded: dict[str, dict] = {}
        self._caption = ""

    @classmethod
    def from_config(cls, net, cfg, device: str = "cpu") -> "DiffusionGenerator":
        from harness.errors import HarnessError

        for key, default in (("space", "z"), ("noise_mode", "const"), ("class_label", None)):
            if getattr(cfg, key) != default:
                raise HarnessError(f"generator.{key}={getattr(cfg, key)} applies to StyleGAN2-ADA networks only")
        return cls(net, steps=cfg.steps, guidance=cfg.guidance, batch_size=cfg.batch_size, device=device)

    def condition(self, caption) -> None:
        """Encode the caption's text once (every later decode of its latents reuses the encoding)."""
        self._caption = getattr(caption, "text", caption) or ""

    def encoding(self, text: str) -> dict:
        """The pipeline's prompt embeddings of `text` (SD: prompt_embeds; SDXL: also the pooled ones), cached."""
        if text not in self._encoded:
            guided = self.guidance > 1.0
            with torch.inference_mode():
                out = self.pipe.encode_prompt(prompt=text, device=self.device, num_images_per_prompt=1,
                                              do_classifier_free_guidance=guided)
            names = ["prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds", "negative_pooled_prompt_embeds"]
            self._encoded[text] = {k: v for k, v in zip(names, out) if v is not None}
        return self._encoded[text]

    def blocks(self) -> list[Block]:
        return [Block("noise", 0, self.latent_dim, gaussian=True)]

    def _bounds(self):
        return np.full(self.latent_dim, -BOUND), np.full(self.latent_dim, BOUND)

    def _initial(self, n, rng):
        return rng.standard_normal((n, self.latent_dim))

    def _decode(self, latents: torch.Tensor) -> torch.Tensor:
        b = len(latents)
        noise = latents.reshape(b, *self.latent_shape)
        embeds = {k: v.repeat(b, *[1] * (v.ndim - 1)) for k, v in self.encoding(self._caption).items()}
        return self.pipe(**embeds, latents=noise, num_inference_steps=self.steps, guidance_scale=self.guidance,
                         height=self.image_size, width=self.image_size, output_type="pt").images.float()
