"""The torch device a run asks for, checked before anything is written."""
from __future__ import annotations

import sys

from harness.errors import ConfigError


def check_device(device: str) -> None:
    """cuda without CUDA, cuda:N past the GPUs there are, or mps off Apple silicon: one line."""
    import torch

    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {device}: this machine has no CUDA device (torch {torch.__version__}); "
                              "use --device cpu, or run on a machine with a GPU")
        index = int(device.split(":")[1]) if ":" in device else 0
        count = torch.cuda.device_count()
        if index >= count:
            raise ConfigError(f"--device {device}: this machine has {count} CUDA device(s) (cuda:0"
                              f"{f'..cuda:{count - 1}' if count > 1 else ''}); choose one of them")
    elif device == "mps":
        if sys.platform != "darwin" or not torch.backends.mps.is_available():
            raise ConfigError("--device mps: Apple's Metal (mps) is available only on macOS with Apple silicon; "
                              "use --device cpu or cuda")
