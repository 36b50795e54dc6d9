"""Mixed precision on CUDA: an autocast context per backbone call, and channels_last for conv nets.

`precision` (RunConfig.precision): fp32 (default: scores exactly as on the CPU), bf16 or fp16
(torch.autocast on CUDA; on the CPU always fp32). The GPU benchmark reports the score changes.
"""
from __future__ import annotations

from contextlib import nullcontext

import torch

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def autocast(device, precision: str):
    device = torch.device(device)
    if device.type != "cuda" or precision not in DTYPES:
        return nullcontext()
    return torch.autocast("cuda", dtype=DTYPES[precision])


def channels_last(model: torch.nn.Module, device) -> torch.nn.Module:
    """Conv nets on CUDA run faster in NHWC memory format."""
    if torch.device(device).type == "cuda":
        return model.to(memory_format=torch.channels_last)
    return model
