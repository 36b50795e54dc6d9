"""The few tensor operations StyleGAN2 needs, in plain PyTorch (no custom CUDA plugins).

Written from the StyleGAN2 paper (Karras et al. 2020, "Analyzing and Improving the Image Quality of
StyleGAN", appendix B) and checked image-for-image against NVIDIA's StyleGAN2-ADA code to 1e-4
(see the closing notes of issue 8). Conventions that matter for matching trained weights:

* resampling filters are FIR filters applied as true convolutions, with zero padding;
* a modulated convolution without resampling is a cross-correlation (`F.conv2d`), the 2x
  upsampling one is a transposed strided convolution followed by the FIR filter;
* `bias_act` adds the bias, applies the activation, multiplies by the gain, then clamps.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

ACTIVATIONS = {  # name -> (function, default gain)
    "linear": (lambda x: x, 1.0),
    "relu": (F.relu, math.sqrt(2)),
    "lrelu": (lambda x: F.leaky_relu(x, 0.2), math.sqrt(2)),
    "tanh": (torch.tanh, 1.0),
    "sigmoid": (torch.sigmoid, 1.0),
    "elu": (F.elu, 1.0),
    "selu": (F.selu, 1.0),
    "softplus": (F.softplus, 1.0),
    "swish": (lambda x: torch.sigmoid(x) * x, math.sqrt(2)),
}


def check_activation(name: str) -> None:
    if name not in ACTIVATIONS:
        raise ValueError(f"unsupported activation {name!r}; known: {', '.join(ACTIVATIONS)}")


def bias_act(x: torch.Tensor, bias: torch.Tensor | None, act: str = "linear", gain: float | None = None,
             clamp: float | None = None) -> torch.Tensor:
    """x + bias (along dim 1), activation, times gain (default: the activation's), clamped to +-clamp."""
    func, default_gain = ACTIVATIONS[act]
    if bias is not None:
        x = x + bias.reshape([1, -1] + [1] * (x.ndim - 2))
    x = func(x)
    gain = default_gain if gain is None else gain
    if gain != 1:
        x = x * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return x


def make_filter(taps) -> torch.Tensor:
    """A 1-D list of taps -> the normalised 2-D separable FIR filter [k, k] (sums to 1)."""
    f = torch.as_tensor(taps, dtype=torch.float32)
    if f.ndim == 1:
        f = torch.outer(f, f)
    return f / f.sum()


def fir(x: torch.Tensor, f: torch.Tensor, pad: tuple[int, int], gain: float = 1.0) -> torch.Tensor:
    """Depthwise true convolution of x [N, C, H, W] with the 2-D filter f, zero-padding (before, after)."""
    channels = x.shape[1]
    kernel = (f.flip([0, 1]) * gain).to(x.dtype)[None, None].repeat(channels, 1, 1, 1)
    x = F.pad(x, [pad[0], pad[1], pad[0], pad[1]])
    return F.conv2d(x, kernel, groups=channels)


def upsample2x(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """2x upsampling: insert zeros after every sample, then the FIR filter with gain 4."""
    n, c, h, w = x.shape
    up = x.new_zeros([n, c, h, 2, w, 2])
    up[:, :, :, 0, :, 0] = x
    k = f.shape[-1]
    return fir(up.reshape(n, c, 2 * h, 2 * w), f, ((k + 1) // 2, (k - 2) // 2), gain=4.0)


def conv_up2x(x: torch.Tensor, weight: torch.Tensor, f: torch.Tensor, groups: int = 1) -> torch.Tensor:
    """Convolution (not correlation) with `weight` [O, I/groups, k, k] at twice the resolution, then FIR.

    The output is exactly [N, O, 2H, 2W] for an odd kernel k with 'same' padding on the upsampled grid.
    """
    out_ch, in_per_group, kh, kw = weight.shape
    w = weight.reshape(groups, out_ch // groups, in_per_group, kh, kw).transpose(1, 2)
    w = w.reshape(groups * in_per_group, out_ch // groups, kh, kw)
    x = F.conv_transpose2d(x, w, stride=2, groups=groups)
    # The transposed convolution grows the grid by k - 2 beyond 2H; the filter trims it back to 2H.
    ft = f.shape[-1]
    pad_lo = kw // 2 + (ft + 1) // 2 - (kw - 1)
    pad_hi = kw // 2 + (ft - 2) // 2 - (kw - 2)
    return fir(x, f, (pad_lo, pad_hi), gain=4.0)


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, demodulate: bool = True,
                     up: bool = False, f: torch.Tensor | None = None) -> torch.Tensor:
    """The StyleGAN2 modulated convolution as one grouped convolution (one group per image).

    x [N, I, H, W], weight [O, I, k, k], styles [N, I]. Each image's kernel is the weight scaled by
    its styles along I and, with `demodulate`, rescaled to unit L2 norm per output channel.
    """
    n = x.shape[0]
    out_ch, in_ch, kh, kw = weight.shape
    w = weight.unsqueeze(0) * styles.reshape(n, 1, in_ch, 1, 1)
    if demodulate:
        w = w * (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt().reshape(n, out_ch, 1, 1, 1)
    x = x.reshape(1, n * in_ch, *x.shape[2:])
    w = w.reshape(n * out_ch, in_ch, kh, kw).to(x.dtype)
    if up:
        x = conv_up2x(x, w, f, groups=n)
    else:
        x = F.conv2d(x, w, padding=kw // 2, groups=n)
    return x.reshape(n, out_ch, *x.shape[2:])
