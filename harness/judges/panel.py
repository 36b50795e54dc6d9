"""Held-out judges beside CLIPScore: human-preference models the search never optimised.

  pickscore  PickScore v1 (Kirstain et al. 2023) through transformers' CLIPModel and its processor:
             score = logit_scale.exp() * cos(image, caption), as its model card computes it.
             Weights: the Hugging Face repo yuvalkirstain/PickScore_v1, processor
             laion/CLIP-ViT-H-14-laion2B-s32B-b79K (read from the local HF cache, never fetched here).
  hpsv2      HPS v2 / v2.1 (Wu et al. 2023) through open_clip: the ViT-H-14 architecture with the HPS
             checkpoint's `state_dict` (HPS_v2_compressed.pt / HPS_v2.1_compressed.pt from the HF repo
             xswu/HPSv2), score = cos(image, caption) as the hpsv2 package computes it.
  imagereward  not supported: `pip install --dry-run image-reward` (1.5) would replace the pinned stack,
             installing transformers 5.24 (flair 0.15 needs < 5), huggingface_hub 2.4, timm 0.6.13,
             fairscale 0.4.13, diffusers and datasets; see the README.

Each judge preprocesses as its authors score: the stored image as the 8-bit PIL image it is (exactly,
since stored PNGs are 8-bit), then for PickScore transformers' own `CLIPImageProcessor` (PIL bicubic
resize of the shortest edge, crop offset (h - c) // 2, rescale, normalise: the model card's path) and
for HPSv2 the official evaluation transform of its repository (`hps_transform`, tgxs002/HPSv2's
`image_transform(is_train=False, resize_longest_max=True)`: the 8-bit image to a float tensor, the longest side of
the tensor resized to the input size (bicubic, antialiased, no clamp: torchvision >= 0.17's tensor resize), padded
with black to a square, normalised).
Judge ids name the preprocessing, so scores cached under an older preprocessing are never served.
The `tiny` profile has tiny judges in the same formats (a
tiny CLIPModel + processor saved with save_pretrained; a tiny open_clip architecture plus a
checkpoint file holding `state_dict`); `random` has the real architectures with random weights.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from harness.errors import PluginError, WeightsMissingError
from harness.contracts import is_range
from harness.plugins import raised as _what
from harness.models.backbone import ImageBackbone
from harness.models.hub import hf_file, hf_folder, to_pil
from harness.models.preprocess import Preprocess

JUDGES = ("pickscore", "hpsv2")
PICKSCORE_MODEL = "yuvalkirstain/PickScore_v1"
PICKSCORE_PROCESSOR = "laion/CLIP-ViT-H-14-laion2B-s32B-b79K"
HPS_REPO = "xswu/HPSv2"
HPS_FILE = "HPS_v2.1_compressed.pt"
# profile -> judge -> (model, pretrained): what an entry without `model` means
DETECTOR = "facebook/mask2former-swin-small-coco-instance"  # the geneval judge's detector (its colours: the CLIPScore judge)
PANEL = {"default": {"pickscore": (PICKSCORE_MODEL, PICKSCORE_PROCESSOR), "hpsv2": ("ViT-H-14", f"{HPS_REPO}:{HPS_FILE}"),
                     "geneval": (DETECTOR, None)},
         "random": {"pickscore": ("random:ViT-H-14", None), "hpsv2": ("ViT-H-14", None),
                    "geneval": (f"random:{DETECTOR}", None)},
         "tiny": {"pickscore": ("tiny", None), "hpsv2": ("tiny", None), "geneval": ("tiny", None)}}
RANGES = {"pickscore": (-100.0, 100.0), "hpsv2": (-1.0, 1.0)}  # logit scale (100 in PickScore) x cosine; cosine


PREPROCESSING = {"pickscore": "CLIPImageProcessor on 8-bit PIL",
                 "hpsv2": "HPSv2 float-tensor longest-side resize (bicubic, antialias) + pad"}


def hps_transform(size: int, mean, std):
    """HPSv2's evaluation transform on one PIL image -> float [3, size, size], as its repository's
    `image_transform(is_train=False, resize_longest_max=True)` composes it: RGB, ToTensor, then `ResizeMaxSize` on
    the float tensor (the longest side to `size`, bicubic with torchvision's antialias, no clamp, so values may
    leave [0, 1] as there), black padding to a square (left/top get the smaller half), Normalize. An image whose
    longest side is already `size` is not resized (and, unlike the official code, which would fail on it, a
    non-square one is still padded)."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as TF

    def apply(image):
        x = TF.to_tensor(image.convert("RGB"))
        height, width = x.shape[1:]
        scale = size / float(max(height, width))
        new = (height, width)
        if scale != 1.0:
            new = (round(height * scale), round(width * scale))
            x = TF.resize(x, list(new), InterpolationMode.BICUBIC, antialias=True)
        pad_h, pad_w = size - new[0], size - new[1]
        if pad_h or pad_w:
            x = TF.pad(x, [pad_w // 2, pad_h // 2, pad_w - pad_w // 2, pad_h - pad_h // 2], fill=0)
        return TF.normalize(x, list(mean), list(std))
    return apply


class HFClipBackbone(ImageBackbone):
    """A transformers CLIPModel with its processor (tokenizer, CLIPImageProcessor on PIL images): unit
    embeddings."""

    def __init__(self, model, processor, name: str, batch_size: int = 32):
        ip = processor.image_processor
        side = int(ip.crop_size.get("height") or ip.size.get("shortest_edge"))
        super().__init__(model, Preprocess(size=side, resize=side, mean=tuple(ip.image_mean),
                                           std=tuple(ip.image_std)), name, batch_size)
        self.tokenizer = processor.tokenizer
        self.image_processor = ip

    def pixels(self, images: torch.Tensor) -> torch.Tensor:
        """The processor's pixel_values for images float [N, 3, H, W] in [0, 1]."""
        return self.image_processor(images=to_pil(images), return_tensors="pt")["pixel_values"]

    @torch.inference_mode()
    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        out = [F.normalize(self.model.get_image_features(pixel_values=self.pixels(c).to(self.device)).float(), dim=-1)
               for c in images.split(self.batch_size)]
        return torch.cat(out)

    @torch.inference_mode()
    def encode_text(self, texts: list[str]) -> torch.Tensor:
        tokens = self.tokenizer(list(texts), padding=True, truncation=True, max_length=77, return_tensors="pt")
        feats = self.model.get_text_features(**{k: v.to(self.device) for k, v in tokens.items()})
        return F.normalize(feats.float(), dim=-1)

    @property
    def logit_scale(self) -> float:
        return float(self.model.logit_scale.detach().exp())


def caption_text(caption) -> str:
    """A caption object's text (harness.suites.captions.Caption: id, text, requirements), or a string itself."""
    return getattr(caption, "text", caption)


@dataclass
class Judge:
    """One held-out judge: `score(images [N, 3, H, W] in [0, 1], N captions) -> float64 [N]`, higher is better.
    Captions are caption objects (id, text, requirements) or strings; these judges read the text.

    `backbone` is loaded by `loader` on first use, so a metrics run served from the cache loads no model."""

    name: str  # pickscore | hpsv2
    id: str  # the weights it is loaded from
    loader: object  # () -> HFClipBackbone (pickscore) or harness.models.clip.ClipBackbone (hpsv2)
    score_range: tuple[float, float]

    @cached_property
    def backbone(self):
        return self.loader()

    def score(self, images: torch.Tensor, captions: list) -> np.ndarray:
        captions = [caption_text(c) for c in captions]
        unique = sorted(set(captions))
        text = self.backbone.encode_text(unique).cpu().double()
        index = torch.tensor([unique.index(c) for c in captions])
        cos = (self.backbone.encode_image(images).cpu().double() * text[index]).sum(-1)
        scale = self.backbone.logit_scale if self.name == "pickscore" else 1.0
        return (scale * cos).numpy()


def load_pickscore(model: str, processor: str | None, device: str = "cpu", cache_dir: Path | None = None):
    """PickScore from a CLIPModel folder or HF repo and its processor's (folder or repo; None = the model's own)."""
    from transformers import AutoProcessor, CLIPModel

    from harness.models import cache

    if model == "tiny":
        model = str(cache.tiny_model_dir("pickscore", cache_dir))
    if model.startswith("random:"):
        net, proc = random_pickscore(cache_dir)
    else:
        folder = hf_folder(model)
        net = CLIPModel.from_pretrained(folder, local_files_only=True)
        proc = AutoProcessor.from_pretrained(hf_folder(processor) if processor else folder, local_files_only=True,
                                             use_fast=False)
    return HFClipBackbone(net.to(device).eval(), proc, name=f"pickscore:{model}")


def load_hpsv2(arch: str, checkpoint: str | None, device: str = "cpu", cache_dir: Path | None = None):
    """HPS v2: an open_clip architecture (ViT-H-14, or a tiny local-dir one) with the HPS checkpoint's state_dict."""
    from harness.models import cache
    from harness.models.clip import load_clip

    if arch == "tiny":
        arch = "local-dir:" + str(cache.tiny_model_dir("hpsv2_base", cache_dir))
        checkpoint = checkpoint or str(cache.tiny_model_dir("hpsv2", cache_dir) / cache.TINY_HPS_FILE)
    backbone = load_clip(arch, None, device)
    if checkpoint:
        path = hf_file(checkpoint)
        state = torch.load(path, map_location="cpu", weights_only=True)
        backbone.model.load_state_dict(state.get("state_dict", state), strict=True)
    backbone.name = f"hpsv2:{arch}/{checkpoint or 'random'}"
    return HPSBackbone(backbone)


class HPSBackbone:
    """An open_clip ClipBackbone whose images go through HPSv2's own evaluation transform (`hps_transform`)."""

    def __init__(self, clip):
        self.clip = clip
        self.name = clip.name
        pre = clip.preprocessing
        self.transform = hps_transform(pre.size, pre.mean, pre.std)

    def pixels(self, images: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.transform(im) for im in to_pil(images)])

    @torch.inference_mode()
    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        model = self.clip.model
        out = [F.normalize(model.encode_image(self.pixels(c).to(self.clip.device)).float(), dim=-1)
               for c in images.split(self.clip.batch_size)]
        return torch.cat(out)

    def encode_text(self, texts: list[str]) -> torch.Tensor:
        return self.clip.encode_text(texts)


def panel_entry(name: str, profile: str, model: str | None = None, pretrained: str | None = None) -> tuple:
    """(model, pretrained) of judge `name`: the entry's own, else the profile's (a judge without a profile
    default, such as a plugin, keeps the entry's)."""
    default_model, default_pretrained = PANEL.get(profile, {}).get(name, (None, None))
    return (model or default_model, pretrained if model else default_pretrained)


def judge_id(name: str, model: str, pretrained: str | None) -> str:
    """What a judge's scores are keyed by: its weights (tiny judges by the tiny models' version)."""
    from harness.models.cache import TINY_VERSION

    model = TINY_VERSION if model == "tiny" else model
    return f"{name}:{model}" + (f" + {pretrained}" if pretrained else "") + f" | {PREPROCESSING[name]}"


@dataclass(frozen=True)
class JudgeSpec:
    """One judge's registration: `load(model, pretrained, profile, device, cache_dir)` -> an object with `id`,
    `score_range` and `score(images, captions) -> float64 [N]` (higher is better); `files(model, pretrained,
    profile)` -> the local weight files it needs (WeightsMissingError naming them when absent)."""

    name: str
    load: object
    files: object = None
    wants_metrics: bool = False  # load() also takes metrics= (the run's MetricsConfig: its settings)
    source: dict = field(default_factory=dict, compare=False)  # a plugin's provenance (harness.plugins.load)


def _clip_judge(name: str):
    loader = load_pickscore if name == "pickscore" else load_hpsv2

    def load(model, pretrained, profile, device="cpu", cache_dir=None):
        model, pretrained = panel_entry(name, profile, model, pretrained)
        return Judge(name, judge_id(name, model, pretrained), lambda: loader(model, pretrained, device, cache_dir),
                     RANGES[name])

    def files(model, pretrained, profile) -> list[Path]:
        model, pretrained = panel_entry(name, profile, model, pretrained)
        if model == "tiny" or model.startswith("random:"):
            return []
        if name == "pickscore":
            folders = [hf_folder(model)] + ([hf_folder(pretrained)] if pretrained else [])
            return sorted({p for f in folders for p in f.iterdir() if p.suffix in (".bin", ".safetensors", ".json")})
        return [hf_file(pretrained)] if pretrained else []
    return JudgeSpec(name, load, files)


def _geneval_judge() -> JudgeSpec:
    """GenEval-style object correctness (harness.judges.geneval): the detector of `model` (the profile's), colours
    by the profile's CLIPScore judge, GenEval's settings from metrics.geneval."""

    def load(model, pretrained, profile, device="cpu", cache_dir=None, metrics=None):
        from harness.config.schema import MetricsConfig, ModelsConfig
        from harness.models import load_judge
        from harness.judges.detector import load_detector
        from harness.judges.geneval import GenevalJudge
        from harness.judges.geneval_rules import Settings
        from harness.models.profiles import clip_id, evaluator_spec

        model, _ = panel_entry("geneval", profile, model, pretrained)
        cfg = (metrics or MetricsConfig()).geneval
        settings = Settings(cfg.threshold, cfg.counting_threshold, cfg.max_objects, cfg.margin)
        models = ModelsConfig(profile=profile, cache_dir=str(cache_dir) if cache_dir else None)
        colour = clip_id(*evaluator_spec(models, MetricsConfig())[:2])
        from harness.models.cache import TINY_VERSION

        shown = TINY_VERSION if model == "tiny" else model
        identity = (f"geneval:{shown} + colours {colour} on PIL crops | mmdet-style instances; threshold {settings.threshold}, "
                    f"counting {settings.counting_threshold}, max {settings.max_objects}, margin {settings.margin}")
        return GenevalJudge(lambda: load_detector(model, device, cache_dir),
                            lambda: load_judge(models, MetricsConfig(), device)[0], identity, settings)

    def files(model, pretrained, profile) -> list[Path]:
        from harness.judges.detector import detector_files

        return detector_files(panel_entry("geneval", profile, model, pretrained)[0])
    return JudgeSpec("geneval", load, files, wants_metrics=True)


# the panel beside CLIPScore (whose judge is the CLIPScore evaluator of harness.metrics); plugins: entry points
# of harness.judges, or module:Class (a class with `load` and optionally `files` classmethods, `score_range`)
JUDGES = {**{name: _clip_judge(name) for name in ("pickscore", "hpsv2")}, "geneval": _geneval_judge()}
GROUP = "harness.judges"


def judge_spec(name: str, option: str = "metrics.evaluators") -> JudgeSpec:
    """The registration of judge `name`: a built-in one, or a plugin (loaded now, one line when broken)."""
    if name in JUDGES:
        return JUDGES[name]
    from harness import plugins
    from harness.errors import HarnessError

    if name not in plugins.entry_points(GROUP) and ":" not in name:
        known = ", ".join(["clipscore", *JUDGES, *plugins.entry_points(GROUP)])
        raise HarnessError(f"{option}: no judge {name!r} (judges: {known}; a plugin judge is an entry point of "
                           f"{GROUP} or module:Class on the Python path)")
    obj, source = plugins.load(name, GROUP, "judge", option)
    from harness.contracts import check

    check(obj, "judge", name, option)
    return JudgeSpec(name, obj.load, getattr(obj, "files", None), source=source)


class CheckedJudge:
    """A plugin judge held to its contract: what its load or score raises or exits with, and scores that are not one
    number per image (NaN allowed: not applicable), infinite, or outside its declared score_range, are one PluginError
    naming the plugin."""

    def __init__(self, name: str, reference: str, load):
        self.name, self.reference = name, reference
        try:
            self.inner = load()
        except (Exception, SystemExit) as exc:
            raise PluginError(f"the judge plugin {reference!r} fails to load: {_what(exc)}; fix it or leave it out of "
                              "metrics.evaluators") from None
        for member, ok in (("id", lambda v: isinstance(v, str) and v), ("score_range", is_range)):
            if not ok(getattr(self.inner, member, None)):
                raise PluginError(f"the judge plugin {reference!r} loads an object whose `{member}` is "
                                  f"{getattr(self.inner, member, None)!r}: it needs id (a str) and score_range (low, high)")
        self.id, self.score_range = self.inner.id, tuple(self.inner.score_range)

    def score(self, images, captions) -> np.ndarray:
        try:
            out = self.inner.score(images, captions)
            scores = np.asarray(out.detach().cpu() if torch.is_tensor(out) else out, dtype=np.float64)
        except (Exception, SystemExit) as exc:
            raise PluginError(f"the judge plugin {self.reference!r} failed while scoring {len(images)} image(s): "
                              f"{_what(exc)}; fix it or leave it out of metrics.evaluators") from None
        if scores.shape != (len(images),):
            raise PluginError(f"the judge plugin {self.reference!r} returned {scores.shape[0] if scores.ndim else 0} "
                              f"score(s) of shape {scores.shape} for {len(images)} image(s): one number per image")
        lo, hi = self.score_range
        slack = 1e-6 * (hi - lo)
        bad = np.isinf(scores) | (np.isfinite(scores) & ((scores < lo - slack) | (scores > hi + slack)))
        if bad.any():
            raise PluginError(f"the judge plugin {self.reference!r} returned {scores[bad][0]:.6g}, outside its declared "
                              f"score_range ({lo}, {hi}) ({int(bad.sum())} of {len(scores)} scores); fix the score or "
                              "its score_range")
        return scores


PROBE_CAPTION = "a photo of a cat on a table."


def probe(judge, size: int = 32) -> None:
    """Score two plain images with `judge` (a CheckedJudge): its faults show before any job runs."""
    images = torch.stack([torch.full((3, size, size), 0.25), torch.linspace(0, 1, 3 * size * size).reshape(3, size, size)])
    judge.score(images, [PROBE_CAPTION] * 2)


def load_panel_judge(name: str, profile: str, model: str | None = None, pretrained: str | None = None,
                     device: str = "cpu", cache_dir: Path | None = None):
    """Judge `name` (the profile's panel, the entry's own model, or a plugin): loaded when it first scores."""
    return judge_spec(name).load(model, pretrained, profile, device, cache_dir)


def judge_files(name: str, profile: str, model: str | None = None, pretrained: str | None = None) -> list[Path]:
    """The local files judge `name` loads (empty: random or tiny weights); WeightsMissingError when absent."""
    spec = judge_spec(name)
    return list(spec.files(model, pretrained, profile)) if spec.files else []


VIT_H_14_HF_CLIP = {"text_config": {"hidden_size": 1024, "intermediate_size": 4096, "num_attention_heads": 16,
                                    "num_hidden_layers": 24, "max_position_embeddings": 77, "vocab_size": 49408,
                                    "hidden_act": "gelu"},
                    "vision_config": {"hidden_size": 1280, "intermediate_size": 5120, "num_attention_heads": 16,
                                      "num_hidden_layers": 32, "image_size": 224, "patch_size": 14,
                                      "hidden_act": "gelu"},
                    "projection_dim": 1024}


def random_pickscore(cache_dir: Path | None = None):
    """PickScore's architecture (ViT-H-14 as a transformers CLIPModel) with random weights, and its processor."""
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor

    from harness.models.cache import RANDOM_VERSION, atomic_dir, default_cache_dir
    from harness.models.hub import clip_processor

    root = Path(cache_dir) if cache_dir else default_cache_dir()
    folder = atomic_dir(root / RANDOM_VERSION / "pickscore-processor", lambda f: clip_processor(f, 224))
    torch.manual_seed(0)
    return CLIPModel(CLIPConfig(**VIT_H_14_HF_CLIP)).eval(), CLIPProcessor.from_pretrained(folder)
