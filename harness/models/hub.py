"""Model files from local folders or the local Hugging Face cache (never fetched), and images as the PIL images
they were stored as: shared by every loader that reads a Hugging Face model (judges, detector, diffusion)."""
from __future__ import annotations

from pathlib import Path

import torch

from harness.errors import WeightsMissingError


def to_pil(images: torch.Tensor) -> list:
    """images float [N, 3, H, W] in [0, 1] (stored 8-bit PNGs: multiples of 1/255) -> N RGB PIL images, exactly."""
    from PIL import Image

    arrays = (images.detach().float().cpu().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return [Image.fromarray(a, mode="RGB") for a in arrays]


def hf_folder(repo: str) -> Path:
    """A Hugging Face model folder: a local path, or the repo's snapshot in the local cache (offline)."""
    if Path(repo).expanduser().is_dir():
        return Path(repo).expanduser()
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo, local_files_only=True))
    except Exception:
        raise WeightsMissingError(f"{repo} is not in the local Hugging Face cache; on a machine with network run "
                                  f"`huggingface-cli download {repo}` (or give a local folder)") from None


def hf_file(spec: str) -> Path:
    """'REPO:FILE' from the local HF cache, or a local file."""
    if Path(spec).expanduser().is_file():
        return Path(spec).expanduser()
    repo, _, filename = spec.partition(":")
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo, filename, local_files_only=True))
    except Exception:
        raise WeightsMissingError(f"{filename or spec} ({repo}) is not in the local Hugging Face cache; on a machine "
                                  f"with network run `huggingface-cli download {repo} {filename}` (or give the "
                                  "file's path)") from None
