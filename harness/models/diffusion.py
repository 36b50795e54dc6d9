"""Diffusion text-to-image pipelines (diffusers), searched through their initial noise: loading in one place.

`models.generator=diffusion:ID` loads a pipeline from a local folder or a Hugging Face repo in the local cache
(default SD-Turbo, `stabilityai/sd-turbo`; SDXL-Turbo, `stabilityai/sdxl-turbo`, through the same auto
pipeline); plain `diffusion` is the profile's: SD-Turbo on `default`, its architecture with random weights on
`random` (for timing), and a tiny pipeline in the real formats on `tiny` (UNet2DConditionModel, AutoencoderKL,
a CLIP text encoder and a tokenizer written from the BPE vocabulary open_clip ships, an Euler scheduler with
trailing timesteps, written with save_pretrained and read back by the loader real weights go through).
Needs the `diffusion` extra (`pip install -e .[diffusion]`).
"""
from __future__ import annotations

from pathlib import Path

import torch

from harness.errors import HarnessError

KIND = "diffusion"
DEFAULT = "stabilityai/sd-turbo"  # 512 px, 1 step, no classifier-free guidance (its model card)


def _diffusers():
    try:
        import diffusers
    except ImportError:
        raise HarnessError("models.generator=diffusion needs diffusers: pip install -e '.[diffusion]'") from None
    return diffusers


def pipeline_id(arg: str, profile: str) -> str:
    """The pipeline a `diffusion[:ARG]` generator names: the argument, else the profile's."""
    if arg:
        return arg
    return {"default": DEFAULT, "random": f"random:{DEFAULT}", "tiny": "tiny"}[profile]


def pipeline_files(arg: str, profile: str) -> list[Path]:
    """The pipeline's local files (empty for tiny and random); WeightsMissingError naming it when absent."""
    from harness.models.hub import hf_folder

    name = pipeline_id(arg, profile)
    if name == "tiny" or name.startswith("random:"):
        return []
    folder = hf_folder(name)
    return sorted(p for p in folder.rglob("*") if p.suffix in (".safetensors", ".bin", ".json", ".txt"))


def load_pipeline(arg: str, profile: str, device: str = "cpu", cache_dir: Path | None = None):
    """A text-to-image pipeline (diffusers) on `device`, its progress bar off."""
    from harness.models.cache import tiny_model_dir
    from harness.models.hub import hf_folder

    diffusers = _diffusers()
    diffusers.utils.logging.disable_progress_bar()  # loading prints no bar: progress is the run's
    name = pipeline_id(arg, profile)
    if name == "tiny":
        pipe = diffusers.StableDiffusionPipeline.from_pretrained(tiny_model_dir("diffusion", cache_dir),
                                                                 local_files_only=True)
    elif name.startswith("random:"):
        pipe = random_sd_turbo(cache_dir)
    else:
        folder = hf_folder(name)
        pipe = diffusers.AutoPipelineForText2Image.from_pretrained(folder, local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    pipe.name = f"{KIND}:{name}"
    return pipe.to(device)


def tokenizer(folder: Path):
    from transformers import CLIPTokenizer

    from harness.models.hub import write_clip_tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    write_clip_tokenizer(folder)
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)


def build_pipeline(folder: Path, unet: dict, vae: dict, text: dict, seed: int = 0):
    diffusers = _diffusers()
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    scheduler = diffusers.EulerDiscreteScheduler(  # SD-Turbo's scheduler config: one step from pure noise
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1, timestep_spacing="trailing")
    return diffusers.StableDiffusionPipeline(
        vae=diffusers.AutoencoderKL(**vae), text_encoder=CLIPTextModel(CLIPTextConfig(**text)),
        tokenizer=tokenizer(folder / ".tokenizer"), unet=diffusers.UNet2DConditionModel(**unet), scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False)


def random_sd_turbo(cache_dir: Path | None = None):
    """SD-Turbo's architecture (SD 2.1: UNet 320-640-1280-1280, OpenCLIP ViT-H text encoder, 512 px) with random
    weights: for timing and memory without a download."""
    from harness.models.cache import RANDOM_VERSION, default_cache_dir

    unet = dict(sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
                block_out_channels=(320, 640, 1280, 1280),
                down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                  "DownBlock2D"),
                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
                cross_attention_dim=1024, attention_head_dim=(5, 10, 20, 20), use_linear_projection=True)
    vae = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512),
               layers_per_block=2, down_block_types=("DownEncoderBlock2D",) * 4,
               up_block_types=("UpDecoderBlock2D",) * 4, sample_size=512)
    text = dict(hidden_size=1024, intermediate_size=4096, num_attention_heads=16, num_hidden_layers=23,
                vocab_size=49408, max_position_embeddings=77, hidden_act="gelu", projection_dim=512)
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    return build_pipeline(root / RANDOM_VERSION / "sd-turbo", unet, vae, text)
