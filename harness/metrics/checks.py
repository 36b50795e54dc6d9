"""Metric settings checked before any compute: evaluator weights, the reference set, the extractor."""
from __future__ import annotations

from pathlib import Path

from harness.config.schema import MetricsConfig, ModelsConfig
from harness.errors import ConfigError, WeightsMissingError


def check_metrics(cfg: MetricsConfig, models: ModelsConfig | None = None, reference: str | None = None) -> None:
    """The metric plugins (loaded now: a broken one is one line before any compute), the reference set and
    feature extractor; with `models`, also the evaluator's weights."""
    from harness.metrics.registry import sections

    sections(cfg.plugins)
    name = pretrained = None
    if models is not None:
        from harness.models.profiles import clip_files, clip_id, evaluator_spec

        name, pretrained, _ = evaluator_spec(models, cfg)
        try:
            clip_files(name, pretrained)
        except WeightsMissingError:
            raise WeightsMissingError(
                f"CLIPScore evaluator weights {clip_id(name, pretrained)} are not in the local caches; run "
                f"'harness models fetch {models.profile}' with a network, set metrics.evaluator_clip to a model "
                "you have, or metrics.evaluator_clip=search to judge with the search's own CLIP") from None
    ref = reference or cfg.reference
    if ref:
        path = Path(ref).expanduser()
        if not (path.is_dir() or (path.is_file() and path.suffix == ".npz")):
            raise ConfigError(f"metrics.reference: {path} is neither a folder of images nor a .npz statistics file")
        from harness.metrics.fid import extractor_name, make_extractor, reference_extractor

        built_with = reference_extractor(path)
        if built_with is not None and models is not None:
            expected = extractor_name(cfg.fid_features, f"{name}/{pretrained or 'random'}")
            if built_with != expected:
                raise ConfigError(f"metrics.reference {path} holds features of {built_with}, but this run's FID/KID "
                                  f"features are {expected}; build it again with 'harness reference build' and the "
                                  "same metrics.fid_features, or set metrics.fid_features to match")
        if cfg.fid_features == "inception":
            make_extractor("inception")
