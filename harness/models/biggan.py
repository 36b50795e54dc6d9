"""BigGAN-deep loading (pytorch-pretrained-biggan), strict, from a name, a folder or a hub repo.

`BigGAN.from_pretrained` loads with strict=False and fetches from old bucket URLs; here a
checkpoint with missing, unexpected or misshapen keys is refused, and a folder or Hugging Face hub
repository holding `config.json` + `pytorch_model.bin` is accepted too.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from pytorch_pretrained_biggan import BigGAN, BigGANConfig
from pytorch_pretrained_biggan.model import (CONFIG_NAME, PRETRAINED_CONFIG_ARCHIVE_MAP,
                                             PRETRAINED_MODEL_ARCHIVE_MAP, WEIGHTS_NAME)

from harness.errors import HarnessError, WeightsMissingError
from harness.models.checkpoint import state_mismatch

# Hub mirrors of the package's checkpoints known to exist, same format (config.json + pytorch_model.bin).
# (osanseviero/BigGAN-deep-128 is listed on the hub; no -256/-512 mirror could be confirmed.)
HUB_MIRRORS = {"biggan-deep-128": "osanseviero/BigGAN-deep-128"}

# BigGAN-deep layer tables (up-sample?, in mult, out mult), from the paper's architecture tables.
_PAIRS = {128: [16, 16, 8, 4, 2, 1], 256: [16, 16, 8, 8, 4, 2, 1], 512: [16, 16, 8, 8, 4, 2, 1, 1]}


def deep_config(resolution: int) -> BigGANConfig:
    """The BigGAN-deep config for 128, 256 or 512 px (used by the `random` profile)."""
    mults = _PAIRS[resolution]
    layers = []
    for a, b in zip(mults[:-1], mults[1:]):
        layers += [(False, a, a), (True, a, b)]
    return BigGANConfig(output_dim=resolution, layers=layers, attention_layer_position=8)


def init_random(model: BigGAN, power_iterations: int = 10) -> BigGAN:
    """Make a randomly initialised BigGAN output finite images.

    The unconditional BatchNorm weight/bias are created uninitialised (`torch.Tensor(n)`), and
    spectral-norm vectors u, v are random: in eval mode no power iteration runs, so sigma is a
    random projection and the weights blow up. Set weight=1, bias=0 and power-iterate u, v.
    """
    from torch.nn.utils.spectral_norm import SpectralNorm

    with torch.no_grad():
        bn = model.generator.bn
        bn.weight.fill_(1.0)
        bn.bias.zero_()
        for module in model.modules():
            for hook in module._forward_pre_hooks.values():
                if isinstance(hook, SpectralNorm):
                    for _ in range(power_iterations):
                        hook.compute_weight(module, do_power_iteration=True)
                    setattr(module, hook.name, hook.compute_weight(module, do_power_iteration=False))
    return model


def load_strict(folder: Path) -> BigGAN:
    """Load `config.json` + `pytorch_model.bin` from a folder; any key mismatch is an error."""
    folder = Path(folder)
    config = BigGANConfig.from_json_file(str(folder / CONFIG_NAME))
    model = BigGAN(config)
    state = torch.load(folder / WEIGHTS_NAME, map_location="cpu", weights_only=True)
    problems = state_mismatch(model, state)
    if problems:
        raise HarnessError(f"BigGAN checkpoint {folder} does not match its config: {problems}; "
                           "use a checkpoint saved from the same BigGAN-deep architecture")
    model.load_state_dict(state, strict=True)
    return model.eval()


def sources(name: str) -> list[str]:
    """Where the weights of a named BigGAN-deep checkpoint come from, in the order they are tried."""
    from pytorch_pretrained_biggan.file_utils import PYTORCH_PRETRAINED_BIGGAN_CACHE

    out = [f"the package's archive {PRETRAINED_MODEL_ARCHIVE_MAP[name]} (cache {PYTORCH_PRETRAINED_BIGGAN_CACHE})"]
    if name in HUB_MIRRORS:
        out.append(f"the hub mirror {HUB_MIRRORS[name]}")
    return out


def _download_package_archive(name: str) -> None:
    """What BigGAN.from_pretrained downloads: the package's own archive URLs, into its cache."""
    from pytorch_pretrained_biggan.file_utils import cached_path

    for url in (PRETRAINED_CONFIG_ARCHIVE_MAP[name], PRETRAINED_MODEL_ARCHIVE_MAP[name]):
        try:
            cached_path(url)
        except Exception:  # an unreachable archive: the next source is tried, and the error names them all
            return


def _package_cache(name: str) -> Path | None:
    """The package's own cache entry for a named checkpoint, if both files are there."""
    from pytorch_pretrained_biggan.file_utils import PYTORCH_PRETRAINED_BIGGAN_CACHE

    cache = Path(PYTORCH_PRETRAINED_BIGGAN_CACHE)
    found = {}
    for key, url in (("weights", PRETRAINED_MODEL_ARCHIVE_MAP[name]), ("config", PRETRAINED_CONFIG_ARCHIVE_MAP[name])):
        stem = hashlib.sha256(url.encode("utf-8")).hexdigest()
        # cached_path names a file sha256(url)[.sha256(etag)] and writes its metadata beside as .json
        hits = sorted(p for p in cache.glob(stem + "*") if p.suffix != ".json") if cache.is_dir() else []
        if not hits:
            return None
        found[key] = hits[0]
    staged = cache / f"harness-{name}"
    staged.mkdir(parents=True, exist_ok=True)
    for key, target in (("weights", WEIGHTS_NAME), ("config", CONFIG_NAME)):
        link = staged / target
        if not link.exists():
            os.symlink(found[key], link)
    return staged


def _hub_folder(repo: str, offline: bool) -> Path | None:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        paths = [hf_hub_download(repo, filename, local_files_only=offline) for filename in (CONFIG_NAME, WEIGHTS_NAME)]
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    except Exception:  # network errors of every kind: the weights are not to be had now
        return None
    return Path(paths[0]).parent


def resolve(spec: str, offline: bool = True) -> Path:
    """Folder holding config.json + pytorch_model.bin for `spec`.

    spec: a local folder, `hf:ORG/REPO` (a hub repository in the same format), or one of
    biggan-deep-{128,256,512} (the package's cache, then the hub mirror's cache).
    offline: look only in local caches (answers in seconds); else download when missing.
    """
    path = Path(os.path.expanduser(spec))
    if path.is_dir():
        missing = [n for n in (CONFIG_NAME, WEIGHTS_NAME) if not (path / n).is_file()]
        if missing:
            raise WeightsMissingError(f"BigGAN folder {path} lacks {', '.join(missing)}; "
                                      "it needs config.json and pytorch_model.bin")
        return path
    if spec.startswith("hf:"):
        repo = spec[3:]
        folder = _hub_folder(repo, offline)
        if folder is None:
            raise WeightsMissingError(f"BigGAN weights for hub repository {repo} are not in the local cache; "
                                      f"run 'harness models fetch' online or pass a local folder")
        return folder
    if spec in PRETRAINED_MODEL_ARCHIVE_MAP:
        if not offline:
            _download_package_archive(spec)
        folder = _package_cache(spec)
        if folder is None and spec in HUB_MIRRORS:
            folder = _hub_folder(HUB_MIRRORS[spec], offline)
        if folder is None:
            looked = "looked in" if offline else "tried"
            fetch = "run 'harness models fetch' with a network, or " if offline else ""
            raise WeightsMissingError(
                f"BigGAN weights '{spec}' were not found ({looked}: {'; '.join(sources(spec))}); {fetch}place "
                f"config.json + pytorch_model.bin (from {PRETRAINED_CONFIG_ARCHIVE_MAP[spec]} and "
                f"{PRETRAINED_MODEL_ARCHIVE_MAP[spec]}) in a folder DIR and pass --set models.generator=DIR")
        return folder
    from harness.plugins import entry_points

    plugins = sorted(entry_points("harness.generators"))
    if spec in plugins:
        raise HarnessError(f"models.generator={spec}: {spec!r} is a generator plugin and needs its argument: "
                           f"--set models.generator={spec}:ARG")
    installed = f"; installed generator plugins (NAME:ARG): {', '.join(plugins)}" if plugins else ""
    raise HarnessError(f"unknown generator {spec!r}: use biggan-deep-128/256/512, a folder with config.json + "
                       f"pytorch_model.bin, hf:ORG/REPO, stylegan2_ada:PKL, diffusion:ID{installed}")
