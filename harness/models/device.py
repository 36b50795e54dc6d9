"""The torch device a run asks for, checked before anything is written."""
from __future__ import annotations

import sys

from harness.errors import ConfigError


def check_torch_pair() -> None:
    """torch and torchvision built for each other, or one line: a CPU torch beside a torchvision of another build
    fails inside torchvision's import with 'operator torchvision::nms does not exist' and a 30-line traceback."""
    import torch

    try:
        import torchvision  # noqa: F401
    except (RuntimeError, ImportError, AttributeError) as exc:
        from importlib import metadata

        try:
            vision = metadata.version("torchvision")
        except metadata.PackageNotFoundError:
            vision = "none"
        raise ConfigError(f"torch {torch.__version__} and torchvision {vision} do not work together "
                          f"({type(exc).__name__}: {' '.join(str(exc).split())[:120]}); install the pair built for each "
                          "other from one index, e.g. pip install torch torchvision --index-url "
                          "https://download.pytorch.org/whl/cpu") from None


def check_device(device: str) -> None:
    """torch and torchvision that work together, then cuda without CUDA, cuda:N past the GPUs there are, or mps off
    Apple silicon: one line."""
    import torch

    check_torch_pair()

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
