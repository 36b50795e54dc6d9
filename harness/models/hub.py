"""Model files from local folders or the local Hugging Face cache (never fetched), and images as the PIL images
they were stored as: shared by every loader that reads a Hugging Face model (judges, detector, diffusion)."""
from __future__ import annotations

from pathlib import Path

import json

import torch

from harness.errors import WeightsMissingError

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


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


def write_clip_tokenizer(folder: Path) -> None:
    """CLIP's BPE tokenizer files for transformers (vocab.json, merges.txt), written from the BPE vocabulary
    open_clip ships, so a CLIPTokenizer exists offline; special tokens under transformers' names."""
    from open_clip.tokenizer import SimpleTokenizer

    bpe = SimpleTokenizer()
    names = {"<start_of_text>": "<|startoftext|>", "<end_of_text>": "<|endoftext|>"}
    vocab = {names.get(token, token): i for token, i in bpe.encoder.items()}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    merges = sorted(bpe.bpe_ranks.items(), key=lambda kv: kv[1])
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(pair) for pair, _ in merges) + "\n")


def clip_processor(folder: Path, size: int):
    """A CLIPProcessor (CLIP's tokenizer, CLIP's image settings at `size`), saved to `folder`."""
    from transformers import CLIPImageProcessor, CLIPProcessor, CLIPTokenizer

    write_clip_tokenizer(folder)
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    images = CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size},
                                image_mean=list(CLIP_MEAN), image_std=list(CLIP_STD), resample=3)
    processor = CLIPProcessor(image_processor=images, tokenizer=tokenizer)
    processor.save_pretrained(folder)
    return processor
