"""Model profiles: which weights back CLIP, the classifier, the word embedder and the generator.

default: open_clip ViT-B-32/openai, torchvision vgg19_bn/IMAGENET1K_V1, Flair on bert-base-uncased,
         BigGAN-deep-256; from each library's usual cache (a local file or folder may be given).
         Any profile takes a StyleGAN2-ADA generator instead: models.generator=stylegan2_ada:PATH.pkl
         (read by harness.models.stylegan2's safe loader); in the tiny profile, plain
         `stylegan2_ada` is a tiny seeded StyleGAN2 written as a network pickle.
random:  the same architectures with random weights (sizing time and memory, no download).
tiny:    small seeded models written to a cache folder in the real formats (harness.tiny builds them; harness.models.cache finds them).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.config.schema import ModelsConfig
from harness.errors import HarnessError, WeightsMissingError
from harness.models import cache as built_models


@dataclass(frozen=True)
class ModelSpec:
    """Resolved model identifiers for one profile plus the user's overrides."""

    profile: str
    clip: str
    clip_pretrained: str | None
    classifier: str
    classifier_weights: str | None
    words: str
    generator: str

    def ids(self) -> dict[str, str]:
        local_classifier = Path(self.classifier).is_dir()
        return {"clip": clip_id(self.clip, self.clip_pretrained),
                "classifier": self.classifier if local_classifier else
                f"{self.classifier}/{self.classifier_weights or 'random'}",
                "words": self.words, "generator": self.generator}


def resolve_spec(cfg: ModelsConfig) -> ModelSpec:
    """Profile defaults, with any field the user set taking its place (tiny models built on demand)."""
    cache = Path(cfg.cache_dir) if cfg.cache_dir else None
    if cfg.profile == "default":
        base = dict(clip="ViT-B-32", clip_pretrained="openai", classifier="vgg19_bn",
                    classifier_weights="IMAGENET1K_V1", words="bert-base-uncased", generator="biggan-deep-256")
    elif cfg.profile == "random":
        base = dict(clip="ViT-B-32", clip_pretrained=None, classifier="vgg19_bn", classifier_weights=None,
                    words=None, generator="random:biggan-deep-256")
    elif cfg.profile == "tiny":
        base = dict(clip=None, clip_pretrained=None, classifier=None, classifier_weights=None, words=None,
                    generator=None)
    else:
        raise HarnessError(f"unknown model profile {cfg.profile!r}: use default, random or tiny")
    for key in base:
        value = getattr(cfg, key)
        if value is not None:
            base[key] = value
    if cfg.profile == "tiny":
        base["clip"] = base["clip"] or "local-dir:" + str(built_models.tiny_model_dir("clip", cache))
        base["classifier"] = base["classifier"] or str(built_models.tiny_model_dir("classifier", cache))
        base["words"] = base["words"] or str(built_models.tiny_model_dir("words", cache))
        base["generator"] = base["generator"] or str(built_models.tiny_model_dir("generator", cache))
    if base["words"] is None:
        base["words"] = str(built_models.random_words_dir(cache))
    base["generator"] = _stylegan2_generator(base["generator"], cfg.profile, cache)
    return ModelSpec(profile=cfg.profile, **base)


EVALUATORS = {"default": ("ViT-L-14", "openai"), "random": ("ViT-L-14", None), "tiny": ("tiny", None)}


def evaluator_spec(models: ModelsConfig, metrics) -> tuple[str, str | None, bool]:
    """The CLIPScore judge as (open_clip name or 'local-dir:PATH', pretrained, is the search's CLIP).

    metrics.evaluator_clip: None = the profile's held-out judge (default: ViT-L-14/openai; random:
    ViT-L-14 with random weights; tiny: a tiny CLIP of another width and seed); "search" = the
    search's own CLIP; anything else is used as given (pretrained None: openai in the default profile).
    """
    spec = resolve_spec(models)
    if metrics.evaluator_clip == "search":
        return spec.clip, spec.clip_pretrained, True
    if metrics.evaluator_clip is None:
        name, pretrained = EVALUATORS[models.profile]
        if name == "tiny":
            cache = Path(models.cache_dir) if models.cache_dir else None
            name = "local-dir:" + str(built_models.tiny_model_dir("evaluator_clip", cache))
    else:
        name = metrics.evaluator_clip
        pretrained = metrics.evaluator_pretrained or (EVALUATORS["default"][1] if models.profile == "default"
                                                      and not name.startswith("local-dir:") else None)
    same = (name, pretrained) == (spec.clip, spec.clip_pretrained)
    return name, pretrained, same


def clip_id(name: str, pretrained: str | None) -> str:
    return name if name.startswith("local-dir:") else f"{name}/{pretrained or 'random'}"


STYLEGAN2 = "stylegan2_ada"
STYLEGAN2_PREFIX = STYLEGAN2 + ":"


DIFFUSION_PREFIX = "diffusion:"


def diffusion_pipeline(generator: str) -> str | None:
    """The pipeline id of a resolved `diffusion:ID` generator, else None."""
    return generator[len(DIFFUSION_PREFIX):] if generator.startswith(DIFFUSION_PREFIX) else None


def _stylegan2_generator(value: str, profile: str, cache: Path | None) -> str:
    """`stylegan2_ada[:PATH]` or a `.pkl` path -> `stylegan2_ada:ABSOLUTE_PATH`; `diffusion[:ID]` ->
    `diffusion:ID` (the profile's pipeline when ID is empty; a local folder made absolute); anything else
    unchanged."""
    if value == "diffusion" or value.startswith(DIFFUSION_PREFIX):
        from harness.models.diffusion import pipeline_id

        arg = value[len(DIFFUSION_PREFIX):] if value.startswith(DIFFUSION_PREFIX) else ""
        if value.startswith(DIFFUSION_PREFIX) and not arg.strip():
            raise HarnessError(f"models.generator={value}: the id after 'diffusion:' is empty; give diffusion:ORG/REPO "
                               "or diffusion:FOLDER, or diffusion alone for the profile's pipeline")
        if arg and Path(arg).expanduser().exists():
            folder = Path(arg).expanduser()
            if not (folder / "model_index.json").is_file():
                raise HarnessError(f"models.generator={value}: {folder} has no model_index.json, so it is not a "
                                   "diffusers pipeline folder; give the folder a pipeline's save_pretrained wrote, or "
                                   "a Hugging Face id (diffusion:ORG/REPO)")
            arg = str(folder.absolute())
        return DIFFUSION_PREFIX + pipeline_id(arg, profile)
    if value in (STYLEGAN2, STYLEGAN2_PREFIX):
        if profile != "tiny":
            raise HarnessError("models.generator=stylegan2_ada needs a network pickle: --set "
                               "models.generator=stylegan2_ada:PATH/network-snapshot-NNNNNN.pkl")
        return STYLEGAN2_PREFIX + str(built_models.tiny_model_dir("stylegan2", cache) / built_models.STYLEGAN2_PICKLE)
    if value.startswith(STYLEGAN2_PREFIX) or value.endswith(".pkl"):
        path = value[len(STYLEGAN2_PREFIX):] if value.startswith(STYLEGAN2_PREFIX) else value
        return STYLEGAN2_PREFIX + str(Path(path).expanduser().absolute())
    return value


GENERATOR_GROUP = "harness.generators"


def generator_plugin(generator: str) -> tuple[str, str] | None:
    """(entry-point name, argument) of a `NAME:ARG` generator whose NAME is a plugin of harness.generators."""
    from harness.plugins import entry_points

    name, sep, arg = generator.partition(":")
    return (name, arg) if sep and name in entry_points(GENERATOR_GROUP) else None


def load_generator_plugin(name: str, with_source: bool = False):
    """The Generator subclass of a generator plugin (it loads its own network: `load_net(arg, profile, device,
    cache_dir)`), checked against its contract; with_source: (class, provenance record)."""
    from harness import plugins
    from harness.contracts import check

    cls, source = plugins.load(name, GENERATOR_GROUP, "generator", "models.generator")
    check(cls, "generator", name, "models.generator")
    return (cls, source) if with_source else cls


def stylegan2_pickle(generator: str) -> Path | None:
    """The network pickle of a resolved `stylegan2_ada:PATH` generator id, else None."""
    return Path(generator[len(STYLEGAN2_PREFIX):]) if generator.startswith(STYLEGAN2_PREFIX) else None


def _hf_cached(repo: str, filename: str) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    hit = try_to_load_from_cache(repo, filename)
    return Path(hit) if isinstance(hit, str) else None


def clip_weights_file(name: str, pretrained: str | None) -> Path | None:
    """Local file holding the CLIP weights, or None for random weights / a local-dir model."""
    import open_clip

    if name.startswith("local-dir:") or not pretrained:
        return None
    if Path(pretrained).is_file():
        return Path(pretrained)
    cfg = open_clip.get_pretrained_cfg(name, pretrained)
    if not cfg:
        raise HarnessError(f"unknown open_clip weights {name}/{pretrained}; see open_clip.list_pretrained()")
    hub = cfg.get("hf_hub", "")
    if hub:
        repo, filename = os.path.split(hub.rstrip("/")) if not hub.endswith("/") else (hub.rstrip("/"), "")
        for candidate in [filename] if filename else ["open_clip_pytorch_model.bin", "open_clip_model.safetensors"]:
            hit = _hf_cached(repo, candidate)
            if hit:
                return hit
    url = cfg.get("url", "")
    if url:
        legacy = Path.home() / ".cache" / "clip" / Path(url).name
        if legacy.is_file():
            return legacy
    raise WeightsMissingError(f"CLIP weights {name}/{pretrained} are not in the Hugging Face cache; run "
                              "'harness models fetch default' with a network, or pass --set models.clip_pretrained=FILE")


def words_folder(model: str) -> Path:
    """Local folder of the Flair/transformers model: the path itself or its hub-cache snapshot."""
    if Path(model).is_dir():
        return Path(model)
    hit = _hf_cached(model, "config.json")
    if hit is None:
        raise WeightsMissingError(f"word-embedding model {model} is not in the Hugging Face cache; run "
                                  "'harness models fetch default' with a network, or pass --set models.words=FOLDER")
    return hit.parent


def clip_files(name: str, pretrained: str | None) -> list[Path]:
    if name.startswith("local-dir:"):
        folder = Path(name[len("local-dir:"):])
        if not (folder / "open_clip_config.json").is_file():
            raise WeightsMissingError(f"CLIP folder {folder} has no open_clip_config.json")
        return sorted(p for p in folder.iterdir() if p.suffix in (".bin", ".pth", ".safetensors"))
    hit = clip_weights_file(name, pretrained)
    return [hit] if hit else []


def classifier_files(spec: ModelSpec) -> list[Path]:
    from harness.models.classifier import torchvision_checkpoint

    if Path(spec.classifier).is_dir():
        return sorted(Path(spec.classifier).glob("*.pth"))
    if not spec.classifier_weights:
        return []
    path = Path(spec.classifier_weights)
    path = path if path.is_file() else torchvision_checkpoint(spec.classifier_weights)
    if not path.is_file():
        raise WeightsMissingError(f"vgg19_bn weights {spec.classifier_weights} are not in torch.hub's cache "
                                  f"({path}); run 'harness models fetch default' with a network, or pass "
                                  "--set models.classifier_weights=FILE")
    return [path]


def generator_files(spec: ModelSpec) -> list[Path]:
    from harness.models import biggan

    pickle_path = stylegan2_pickle(spec.generator)
    if spec.generator.startswith("random:"):
        return []
    plugin = generator_plugin(spec.generator)
    if plugin is not None:
        files = getattr(load_generator_plugin(plugin[0]), "files", None)
        return list(files(plugin[1], spec.profile)) if files else []
    pipeline = diffusion_pipeline(spec.generator)
    if pipeline is not None:
        from harness.models.diffusion import pipeline_files

        return pipeline_files(pipeline, spec.profile)
    if pickle_path is not None:
        if pickle_path.is_dir():
            raise HarnessError(f"StyleGAN2-ADA network pickle {pickle_path} is a folder, not a file; pass "
                               "--set models.generator=stylegan2_ada:PATH to the network-snapshot-*.pkl inside it")
        if not pickle_path.is_file():
            raise WeightsMissingError(f"StyleGAN2-ADA network pickle {pickle_path} does not exist; pass "
                                      "--set models.generator=stylegan2_ada:PATH to a network-snapshot-*.pkl")
        return [pickle_path]
    return [biggan.resolve(spec.generator, offline=True) / "pytorch_model.bin"]


def weight_files(spec: ModelSpec, evaluator: tuple[str, str | None] | None = None,
                 extra: dict[str, tuple[str, object]] | None = None) -> dict[str, list[Path]]:
    """The files holding each model's weights (and the CLIPScore evaluator's, when given as
    (name, pretrained), and those of `extra`: key -> (label, () -> files), e.g. each held-out judge's,
    harness.judges.weights), found in local caches only: seconds, no network.

    Raises one WeightsMissingError naming every missing model and how to get it.
    """
    ids = spec.ids()
    labels = {"clip": ids["clip"], "classifier": ids["classifier"], "words": ids["words"], "generator": ids["generator"]}
    if evaluator is not None:
        labels["evaluator"] = clip_id(*evaluator)
    for key, (label, _) in (extra or {}).items():
        labels[key] = label
    checks = {"clip": lambda: clip_files(spec.clip, spec.clip_pretrained),
              "classifier": lambda: classifier_files(spec),
              "words": lambda: sorted(p for p in words_folder(spec.words).iterdir()
                                      if p.suffix in (".bin", ".safetensors")),
              "generator": lambda: generator_files(spec)}
    if evaluator is not None:
        checks["evaluator"] = lambda: clip_files(*evaluator)
    for key, (_, files) in (extra or {}).items():
        checks[key] = files
    files, missing = {}, []
    for key, check in checks.items():
        try:
            files[key] = check()
        except WeightsMissingError as exc:
            text = str(exc) if key != "evaluator" else str(exc).replace("models.clip_pretrained",
                                                                        "metrics.evaluator_pretrained")
            missing.append((key, labels.get(key, key), text))
    if missing:
        names = ", ".join(f"{key} ({label})" for key, label, _ in missing)
        hint = ("run offline with --models tiny (small test models), or get them with 'harness models fetch "
                f"{spec.profile}' where a network is available") if spec.profile == "default" else \
            "place the files named below, or run with --models tiny"
        if len(missing) == 1:  # one missing model: one line says it all
            key, label, text = missing[0]
            hint = hint.replace("place the files named below, or run", "or run")
            raise WeightsMissingError(f"1 model(s) missing from the local caches: {key} ({label}): {text}; {hint}")
        raise WeightsMissingError(f"{len(missing)} model(s) missing from the local caches: {names}; {hint}",
                                  details=[f"{key}: {text}" for key, _, text in missing])
    return files
