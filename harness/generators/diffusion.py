"""A diffusion pipeline as a searchable generator: the genome is the initial latent noise.

genome = the pipeline's initial noise, C x H/8 x W/8 values (SD-Turbo: 4 x 64 x 64 = 16,384), drawn N(0, I);
its one block is Gaussian, so the search uses the noise operators of harness.search.operators (norm-keeping slerp
crossover, sqrt(1 - s^2) x + s e mutation), which keep it N(0, I). The caption conditions the pipeline (`condition`,
its text encoding computed once per caption); the population decodes in batches. Bounds are +-8 (a standard normal
value beyond 8 has probability 1e-15).

Two samplers. `scheduler=pipeline` calls the pipeline with its own scheduler (the turbo models: Euler, trailing
timesteps, 1 to 4 steps, deterministic). `scheduler=ddim` runs the denoising loop here with diffusers' DDIMScheduler
(EvoSearch's sampler for SD 2.1; 20 to 50 steps, classifier-free guidance `guidance`): with eta > 0 each step adds
noise, drawn per image and step from a seed that is a hash of the image's genome (or, for a state part-way along
the path, the seed it carries), so the image stays a function of the genome. `denoise` runs any part of the path,
from the state at one step to the image, and keeps the states and noise predictions at the steps asked for (the
evolution along the path of harness.search.trajectory). NFE: one per step per image (with guidance each step is
one doubled batch, as Ma et al. and EvoSearch count it).
"""
from __future__ import annotations

import numpy as np
import torch

from harness.generators.base import Generator
from harness.generators.class_genome import Block

BOUND = 8.0


def genome_seeds(latents: np.ndarray) -> np.ndarray:
    """One 63-bit seed per row: a hash of its float32 bytes (the per-step noise of a stochastic sampler)."""
    import hashlib

    rows = np.ascontiguousarray(np.asarray(latents, dtype=np.float32))
    return np.array([int.from_bytes(hashlib.blake2b(r.tobytes(), digest_size=8).digest(), "little") >> 1
                     for r in rows], dtype=np.uint64)


def step_noise(seeds: np.ndarray, step: int, shape: tuple) -> torch.Tensor:
    """The sampler's noise at `step` for each image, from its seed: [B, *shape] float32."""
    return torch.from_numpy(np.stack([np.random.default_rng([int(s), int(step)]).standard_normal(shape)
                                      for s in seeds]).astype(np.float32))


class DiffusionGenerator(Generator):
    name = "diffusion"

    def __init__(self, pipe, steps: int = 1, guidance: float = 0.0, batch_size: int = 8, device: str = "cpu",
                 scheduler: str = "pipeline", eta: float = 0.0):
        super().__init__(batch_size=batch_size, device=device)
        self.pipe = pipe.to(self.device)
        self.steps = self.nfe_per_image = int(steps)
        self.guidance = float(guidance)
        self.eta = float(eta)
        self.scheduler = None
        if scheduler == "ddim":
            import diffusers

            self.scheduler = diffusers.DDIMScheduler.from_config(pipe.scheduler.config)
            self.scheduler.set_timesteps(self.steps, device=self.device)
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
        if cfg.scheduler == "ddim" and hasattr(net, "text_encoder_2"):
            raise HarnessError("generator.scheduler=ddim runs Stable Diffusion 1.x/2.x pipelines; SDXL's added "
                               "conditioning is not wired: use scheduler=pipeline for SDXL")
        return cls(net, steps=cfg.steps, guidance=cfg.guidance, batch_size=cfg.batch_size, device=device,
                   scheduler=cfg.scheduler, eta=cfg.eta)

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
        if self.scheduler is not None:
            seeds = genome_seeds(latents.cpu().numpy()) if self.eta > 0 else np.zeros(b, dtype=np.uint64)
            return self._denoise(noise, 0, seeds, ())[0]
        embeds = {k: v.repeat(b, *[1] * (v.ndim - 1)) for k, v in self.encoding(self._caption).items()}
        return self.pipe(**embeds, latents=noise, num_inference_steps=self.steps, guidance_scale=self.guidance,
                         height=self.image_size, width=self.image_size, output_type="pt").images.float()

    def alpha_bar(self, step: int) -> float:
        """The cumulative alpha of the state at `step` (the input of that denoising step)."""
        return float(self.scheduler.alphas_cumprod[int(self.scheduler.timesteps[step])])

    def denoise(self, states: np.ndarray, start: int, seeds: np.ndarray, keep: tuple = ()):
        """States [B, D] at step `start` (0: the initial noise) denoised to images [B, 3, H, W] in [0, 1], each
        image's sampler noise from its seed; with, for every step in `keep` (after start), the states there and the
        guided noise predictions made from them (numpy [B, D] each). scheduler=ddim only."""
        if self.scheduler is None:
            raise ValueError("denoise needs generator.scheduler=ddim")
        x = torch.as_tensor(np.asarray(states), dtype=torch.float32, device=self.device)
        seeds = np.asarray(seeds, dtype=np.uint64)
        images, kept = [], {k: ([], []) for k in keep}
        from harness.models.precision import autocast

        with torch.inference_mode(), autocast(self.device, self.precision):  # as decode runs: the same images
            for lo in range(0, len(x), self.batch_size):
                part = x[lo:lo + self.batch_size].reshape(-1, *self.latent_shape)
                out, trail = self._denoise(part, start, seeds[lo:lo + self.batch_size], keep)
                images.append(out.float())
                for k, (s, e) in trail.items():
                    kept[k][0].append(s)
                    kept[k][1].append(e)
        self.count(len(x), self.steps - start)
        kept = {k: (np.concatenate(s).astype(np.float64), np.concatenate(e).astype(np.float64))
                for k, (s, e) in kept.items()}
        return torch.cat(images).clamp(0.0, 1.0), kept

    def noise_prediction(self, output: torch.Tensor, x: torch.Tensor, t) -> torch.Tensor:
        """The model's output at state x (timestep t) as the noise it predicts, whatever the scheduler's
        prediction_type: epsilon as is; v (SD 2.1 at 768 px) as sqrt(a) v + sqrt(1 - a) x; a sample x0 as
        (x - sqrt(a) x0) / sqrt(1 - a)."""
        kind = self.scheduler.config.prediction_type
        a = self.scheduler.alphas_cumprod[int(t)].to(x.device, x.dtype)
        if kind == "v_prediction":
            return a.sqrt() * output + (1 - a).sqrt() * x
        if kind == "sample":
            return (x - a.sqrt() * output) / (1 - a).sqrt()
        return output

    def _denoise(self, x: torch.Tensor, start: int, seeds: np.ndarray, keep: tuple):
        b, guided = len(x), self.guidance > 1.0
        enc = self.encoding(self._caption)
        cond = enc["prompt_embeds"].repeat(b, 1, 1)
        if guided:
            cond = torch.cat([enc["negative_prompt_embeds"].repeat(b, 1, 1), cond])
        trail = {}
        for i in range(start, self.steps):
            t = self.scheduler.timesteps[i]
            model_in = self.scheduler.scale_model_input(torch.cat([x, x]) if guided else x, t)
            eps = self.pipe.unet(model_in, t, encoder_hidden_states=cond, return_dict=False)[0]
            if guided:
                uncond, text = eps.chunk(2)
                eps = uncond + self.guidance * (text - uncond)
            if i in keep:
                noise = self.noise_prediction(eps, x, t)
                trail[i] = (x.reshape(b, -1).float().cpu().numpy(), noise.reshape(b, -1).float().cpu().numpy())
            noise = step_noise(seeds, i, self.latent_shape).to(x.device, x.dtype) if self.eta > 0 else None
            x = self.scheduler.step(eps, t, x, eta=self.eta, variance_noise=noise, return_dict=False)[0]
        vae = self.pipe.vae
        image = vae.decode(x / vae.config.scaling_factor, return_dict=False)[0]
        return (image / 2 + 0.5).clamp(0, 1), trail

