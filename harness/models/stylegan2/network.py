"""A StyleGAN2 generator whose parameter names and shapes are those of StyleGAN2-ADA's `G_ema`.

Mapping network: z (normalised) [+ embedded label] -> `num_layers` equalised-lr linear layers -> w,
broadcast to `num_ws` copies and truncated towards the tracked average `w_avg`.
Synthesis network: one block per resolution 4, 8, ..., R. The 4x4 block starts from a learned
constant; each later block upsamples 2x inside its first modulated convolution. Every
convolution is modulated by an affine map of w, demodulated, gets per-pixel noise scaled by a
learned strength, a bias and a leaky ReLU; ToRGB layers are 1x1 modulated convolutions without
demodulation. Architectures: 'skip' (every block's ToRGB output is added to the upsampled image),
'orig' (ToRGB in the last block only) and 'resnet' (1x1 skip connections between blocks).

Everything runs in float32; the `num_fp16_res` and `fp16_channels_last` settings of a trained
network are accepted and only change how NVIDIA's code trades precision for speed.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from harness.models.stylegan2.ops import (ACTIVATIONS, bias_act, check_activation, conv_up2x, make_filter,
                                          modulated_conv2d, normalize_2nd_moment, upsample2x)

DEFAULT_FILTER = (1, 3, 3, 1)
ACT_GAIN = {name: gain for name, (_, gain) in ACTIVATIONS.items()}


class FullyConnectedLayer(nn.Module):
    """Linear layer with equalised learning rate: weights stored as N(0, 1) / lr, scaled at run time."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, activation: str = "linear",
                 lr_multiplier: float = 1.0, bias_init: float = 0.0):
        super().__init__()
        check_activation(activation)
        self.activation = activation
        self.weight = nn.Parameter(torch.randn([out_features, in_features]) / lr_multiplier)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init))) if bias else None
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.matmul((self.weight * self.weight_gain).t().to(x.dtype))
        bias = None if self.bias is None else (self.bias * self.bias_gain).to(x.dtype)
        return bias_act(x, bias, self.activation)


class MappingNetwork(nn.Module):
    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_ws: int | None, num_layers: int = 8,
                 embed_features: int | None = None, layer_features: int | None = None, activation: str = "lrelu",
                 lr_multiplier: float = 0.01, w_avg_beta: float | None = 0.995):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws, self.num_layers = z_dim, c_dim, w_dim, num_ws, num_layers
        embed_features = 0 if c_dim == 0 else (w_dim if embed_features is None else embed_features)
        layer_features = w_dim if layer_features is None else layer_features
        features = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        for idx in range(num_layers):
            setattr(self, f"fc{idx}", FullyConnectedLayer(features[idx], features[idx + 1], activation=activation,
                                                          lr_multiplier=lr_multiplier))
        self.tracks_w_avg = num_ws is not None and w_avg_beta is not None
        if self.tracks_w_avg:
            self.register_buffer("w_avg", torch.zeros([w_dim]))

    def embed_inputs(self, z: torch.Tensor | None, c: torch.Tensor | None) -> torch.Tensor:
        parts = []
        if self.z_dim > 0:
            parts.append(normalize_2nd_moment(z.float()))
        if self.c_dim > 0:
            parts.append(normalize_2nd_moment(self.embed(c.float())))
        return torch.cat(parts, dim=1)

    def forward(self, z, c, truncation_psi: float = 1.0, truncation_cutoff: int | None = None) -> torch.Tensor:
        """w for each (z, c): [N, num_ws, w_dim] (or [N, w_dim] when num_ws is None)."""
        x = self.embed_inputs(z, c)
        for idx in range(self.num_layers):
            x = getattr(self, f"fc{idx}")(x)
        if self.num_ws is not None:
            x = x.unsqueeze(1).repeat([1, self.num_ws, 1])
        if truncation_psi != 1:
            x = self.truncate(x, truncation_psi, truncation_cutoff)
        return x

    def truncate(self, ws: torch.Tensor, psi: float, cutoff: int | None = None) -> torch.Tensor:
        """Move ws towards w_avg: w_avg + psi (w - w_avg), for the first `cutoff` ws (None = all)."""
        if not self.tracks_w_avg:
            raise ValueError("this network tracks no average w, so it cannot be truncated; use psi = 1")
        if cutoff is None or ws.ndim == 2:
            return self.w_avg.lerp(ws, psi)
        ws = ws.clone()
        ws[:, :cutoff] = self.w_avg.lerp(ws[:, :cutoff], psi)
        return ws


class Conv2dLayer(nn.Module):
    """The skip connection of 'resnet' blocks: an equalised-lr 1x1 convolution (no bias, linear) at
    twice the resolution; StyleGAN2-ADA's Conv2dLayer(kernel_size=1, bias=False, up=2)."""

    def __init__(self, in_channels: int, out_channels: int, resample_filter=DEFAULT_FILTER):
        super().__init__()
        self.register_buffer("resample_filter", make_filter(resample_filter))
        self.weight_gain = 1 / math.sqrt(in_channels)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, 1, 1]))

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        return conv_up2x(x, (self.weight * self.weight_gain).to(x.dtype), self.resample_filter) * gain


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution (2x upsampling when up=2) + noise + bias + activation."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, kernel_size: int = 3,
                 up: int = 1, use_noise: bool = True, activation: str = "lrelu", resample_filter=DEFAULT_FILTER,
                 conv_clamp=None):
        super().__init__()
        check_activation(activation)
        self.resolution, self.up, self.use_noise, self.activation = resolution, up, use_noise, activation
        self.conv_clamp = conv_clamp
        self.register_buffer("resample_filter", make_filter(resample_filter))
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))

    def forward(self, x, w, noise_mode: str = "const", noise: torch.Tensor | None = None, gain: float = 1.0):
        styles = self.affine(w)
        x = modulated_conv2d(x, self.weight, styles, up=self.up == 2, f=self.resample_filter)
        if self.use_noise and noise_mode != "none":
            if noise is None:
                noise = self.noise_const if noise_mode == "const" else torch.randn(
                    [x.shape[0], 1, self.resolution, self.resolution], device=x.device)
            x = x + (noise * self.noise_strength).to(x.dtype)
        clamp = None if self.conv_clamp is None else self.conv_clamp * gain
        return bias_act(x, self.bias.to(x.dtype), self.activation, gain=ACT_GAIN[self.activation] * gain, clamp=clamp)


class ToRGBLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, w_dim: int, kernel_size: int = 1, conv_clamp=None):
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size ** 2)

    def forward(self, x, w):
        x = modulated_conv2d(x, self.weight, self.affine(w) * self.weight_gain, demodulate=False)
        return bias_act(x, self.bias.to(x.dtype), clamp=self.conv_clamp)


class SynthesisBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, img_channels: int,
                 is_last: bool, architecture: str = "skip", resample_filter=DEFAULT_FILTER, conv_clamp=None,
                 fp16_channels_last: bool = False, **layer_kwargs):
        super().__init__()
        if architecture not in ("orig", "skip", "resnet"):
            raise ValueError(f"unknown synthesis architecture {architecture!r}: expected orig, skip or resnet")
        self.in_channels, self.w_dim, self.resolution = in_channels, w_dim, resolution
        self.img_channels, self.is_last, self.architecture = img_channels, is_last, architecture
        self.register_buffer("resample_filter", make_filter(resample_filter))
        self.num_conv = 0
        self.num_torgb = 0
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn([out_channels, resolution, resolution]))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim=w_dim, resolution=resolution, up=2,
                                        resample_filter=resample_filter, conv_clamp=conv_clamp, **layer_kwargs)
            self.num_conv += 1
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim=w_dim, resolution=resolution,
                                    conv_clamp=conv_clamp, **layer_kwargs)
        self.num_conv += 1
        if is_last or architecture == "skip":
            self.torgb = ToRGBLayer(out_channels, img_channels, w_dim=w_dim, conv_clamp=conv_clamp)
            self.num_torgb += 1
        if in_channels != 0 and architecture == "resnet":
            self.skip = Conv2dLayer(in_channels, out_channels, resample_filter=resample_filter)

    def layers(self) -> list[SynthesisLayer]:
        return [self.conv1] if self.in_channels == 0 else [self.conv0, self.conv1]

    def forward(self, x, img, ws, noise_mode: str = "const", noise: list | None = None):
        """ws [N, num_conv + num_torgb, w_dim]; noise: None or one tensor (or None) per conv layer."""
        w_iter = iter(ws.unbind(dim=1))
        noise = noise or [None] * self.num_conv
        if self.in_channels == 0:
            x = self.const.unsqueeze(0).repeat([ws.shape[0], 1, 1, 1])
            x = self.conv1(x, next(w_iter), noise_mode, noise[0])
        elif self.architecture == "resnet":
            y = self.skip(x, gain=math.sqrt(0.5))
            x = self.conv0(x, next(w_iter), noise_mode, noise[0])
            x = self.conv1(x, next(w_iter), noise_mode, noise[1], gain=math.sqrt(0.5))
            x = y + x
        else:
            x = self.conv0(x, next(w_iter), noise_mode, noise[0])
            x = self.conv1(x, next(w_iter), noise_mode, noise[1])
        if img is not None:
            img = upsample2x(img, self.resample_filter)
        if self.num_torgb:
            y = self.torgb(x, next(w_iter)).float()
            img = y if img is None else img + y
        return x, img


class SynthesisNetwork(nn.Module):
    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, channel_base: int = 32768,
                 channel_max: int = 512, num_fp16_res: int = 0, **block_kwargs):
        super().__init__()
        if img_resolution < 4 or img_resolution & (img_resolution - 1):
            raise ValueError(f"img_resolution must be a power of two >= 4, got {img_resolution}")
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.block_resolutions = [2 ** i for i in range(2, int(math.log2(img_resolution)) + 1)]
        channels = {res: min(channel_base // res, channel_max) for res in self.block_resolutions}
        self.num_ws = 0
        for res in self.block_resolutions:
            is_last = res == img_resolution
            block = SynthesisBlock(channels[res // 2] if res > 4 else 0, channels[res], w_dim=w_dim, resolution=res,
                                   img_channels=img_channels, is_last=is_last, **block_kwargs)
            self.num_ws += block.num_conv + (block.num_torgb if is_last else 0)
            setattr(self, f"b{res}", block)

    def blocks(self) -> list[SynthesisBlock]:
        return [getattr(self, f"b{res}") for res in self.block_resolutions]

    def noise_shapes(self) -> list[tuple[int, int]]:
        """(resolution, resolution) of every noise input, in synthesis order."""
        return [(layer.resolution, layer.resolution) for block in self.blocks() for layer in block.layers()]

    def forward(self, ws: torch.Tensor, noise_mode: str = "const", noise: list | None = None) -> torch.Tensor:
        """ws [N, num_ws, w_dim] -> images [N, img_channels, R, R], nominally in [-1, 1].

        noise_mode: 'const' (the stored noise maps), 'random' (fresh N(0, 1) noise, or the maps in
        `noise`, one [N, 1, r, r] tensor per conv layer) or 'none'.
        """
        if noise_mode not in ("const", "random", "none"):
            raise ValueError(f"noise_mode must be const, random or none, got {noise_mode!r}")
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must be [N, {self.num_ws}, {self.w_dim}], got {tuple(ws.shape)}")
        ws = ws.float()
        x = img = None
        w_idx, n_idx = 0, 0
        for block in self.blocks():
            block_noise = None if noise is None else noise[n_idx:n_idx + block.num_conv]
            x, img = block(x, img, ws.narrow(1, w_idx, block.num_conv + block.num_torgb), noise_mode, block_noise)
            w_idx += block.num_conv
            n_idx += block.num_conv
        return img


class Generator(nn.Module):
    """z [N, z_dim], c [N, c_dim] -> images [N, img_channels, R, R] in about [-1, 1]."""

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, img_resolution: int, img_channels: int,
                 mapping_kwargs: dict | None = None, synthesis_kwargs: dict | None = None):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        self.init_kwargs = dict(z_dim=z_dim, c_dim=c_dim, w_dim=w_dim, img_resolution=img_resolution,
                                img_channels=img_channels, mapping_kwargs=dict(mapping_kwargs or {}),
                                synthesis_kwargs=dict(synthesis_kwargs or {}))
        self.synthesis = SynthesisNetwork(w_dim=w_dim, img_resolution=img_resolution, img_channels=img_channels,
                                          **(synthesis_kwargs or {}))
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim=z_dim, c_dim=c_dim, w_dim=w_dim, num_ws=self.num_ws,
                                      **(mapping_kwargs or {}))

    def forward(self, z, c, truncation_psi: float = 1.0, truncation_cutoff: int | None = None,
                noise_mode: str = "const", noise: list | None = None) -> torch.Tensor:
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, noise_mode=noise_mode, noise=noise)
