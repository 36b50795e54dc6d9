"""Model loading in one place: profiles resolve to ids, ids to files, files to backbones.

`load_models(cfg, device)` returns a `Models` bundle; nothing here runs at import.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from harness.config.schema import ModelsConfig
from harness.models.profiles import ModelSpec, resolve_spec, weight_files


@dataclass
class Models:
    """The loaded backbones of one profile."""

    spec: ModelSpec
    clip: object  # ClipBackbone
    classifier: object  # ClassifierBackbone
    words: object  # WordBackbone
    generator: object  # BigGAN or StyleGAN2 network (torch.nn.Module)
    files: dict[str, list[Path]] = field(default_factory=dict)
    generator_kind: str = "biggan"  # the harness.generators.GENERATORS entry that wraps `generator`

    def describe(self) -> dict:
        """Model ids and weight-file hashes for the run manifest."""
        return describe(self.spec, self.files)


def describe(spec: ModelSpec, files: dict[str, list[Path]]) -> dict:
    """Model ids and weight-file hashes (for the manifest), without loading any model."""
    return {"profile": spec.profile, "ids": spec.ids(),
            "weights": {k: [{"path": str(p), "sha256": file_sha256(p)} for p in v] for k, v in files.items()}}


def describe_config(cfg: ModelsConfig) -> dict:
    spec = resolve_spec(cfg)
    return describe(spec, weight_files(spec))


_HASHES: dict[tuple[str, int, float], str] = {}


def file_sha256(path: Path) -> str:
    """sha256 of a file, memoized by (path, size, mtime)."""
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def load_generator_net(spec: ModelSpec, device: str):
    from harness.models.profiles import generator_plugin, load_generator_plugin, stylegan2_pickle

    plugin = generator_plugin(spec.generator)
    if plugin is not None:
        from harness.models.cache import default_cache_dir

        return load_generator_plugin(plugin[0]).load_net(plugin[1], spec.profile, device, default_cache_dir())
    from harness.models.profiles import diffusion_pipeline

    pipeline = diffusion_pipeline(spec.generator)
    if pipeline is not None:
        from harness.models.diffusion import load_pipeline

        return load_pipeline(pipeline, spec.profile, device)
    pickle_path = stylegan2_pickle(spec.generator)
    if pickle_path is not None:
        from harness.models.stylegan2 import load_generator

        return load_generator(pickle_path).to(device)
    from pytorch_pretrained_biggan import BigGAN

    from harness.models import biggan

    if spec.generator.startswith("random:"):
        import torch

        resolution = int(spec.generator.rsplit("-", 1)[1])
        torch.manual_seed(0)
        return biggan.init_random(BigGAN(biggan.deep_config(resolution))).eval().to(device)
    return biggan.load_strict(biggan.resolve(spec.generator, offline=True)).to(device)


def load_models(cfg: ModelsConfig, device: str = "cpu", batch_size: int = 64) -> Models:
    """Load all four models of `cfg` onto `device` from local files (missing weights: one-line error)."""
    from harness.models.classifier import load_classifier
    from harness.models.clip import load_clip
    from harness.models.profiles import clip_weights_file, words_folder
    from harness.models.words import load_words

    spec = resolve_spec(cfg)
    files = weight_files(spec)  # fails fast, before any model is built
    pretrained = spec.clip_pretrained
    if pretrained and not spec.clip.startswith("local-dir:") and not Path(pretrained).is_file():
        pretrained = str(clip_weights_file(spec.clip, pretrained))  # a cached file: open_clip needs no network
    clip = load_clip(spec.clip, pretrained, device, batch_size=batch_size, tag=spec.clip_pretrained)
    classifier = load_classifier(spec.classifier, spec.classifier_weights, device, batch_size=batch_size)
    words = load_words(str(words_folder(spec.words)), device)
    generator = load_generator_net(spec, device)
    return Models(spec=spec, clip=clip, classifier=classifier, words=words, generator=generator, files=files,
                  generator_kind=generator_kind(spec))


def load_judge(cfg: ModelsConfig, metrics, device: str = "cpu", search_clip=None):
    """The CLIPScore judge of profile `cfg` and MetricsConfig `metrics` (harness.models.profiles.evaluator_spec):
    (ClipBackbone, its id, whether it is the search's own CLIP). `search_clip` is reused when it is."""
    from harness.models.clip import load_clip
    from harness.models.profiles import clip_id, clip_weights_file, evaluator_spec

    name, pretrained, same = evaluator_spec(cfg, metrics)
    if same and search_clip is not None:
        return search_clip, clip_id(name, pretrained), True
    weights = pretrained
    if pretrained and not name.startswith("local-dir:"):
        weights = str(clip_weights_file(name, pretrained))  # a cached file; the tag keeps its settings
    return load_clip(name, weights, device, tag=pretrained), clip_id(name, pretrained), same


def generator_kind(spec: ModelSpec) -> str:
    """The generators-registry name (or generator plugin) that wraps the network of `spec`."""
    from harness.models.profiles import diffusion_pipeline, generator_plugin, stylegan2_pickle

    plugin = generator_plugin(spec.generator)
    if plugin is not None:
        return plugin[0]
    if diffusion_pipeline(spec.generator) is not None:
        return "diffusion"
    return "stylegan2_ada" if stylegan2_pickle(spec.generator) is not None else "biggan"


__all__ = ["Models", "ModelSpec", "load_models", "resolve_spec", "file_sha256"]
