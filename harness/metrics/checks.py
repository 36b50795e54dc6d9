"""Metric settings checked before any compute: evaluator weights, the reference set, the extractor."""
from __future__ import annotations

from pathlib import Path

from harness.config.schema import MetricsConfig
from harness.errors import ConfigError, WeightsMissingError


def check_metrics(cfg: MetricsConfig, reference: str | None = None) -> None:
    from harness.models.profiles import clip_weights_file

    if cfg.evaluator_clip != "search":
        if cfg.evaluator_clip.startswith("local-dir:"):
            if not Path(cfg.evaluator_clip[len("local-dir:"):]).is_dir():
                raise ConfigError(f"metrics.evaluator_clip: folder {cfg.evaluator_clip} not found")
        else:
            try:
                clip_weights_file(cfg.evaluator_clip, cfg.evaluator_pretrained)
            except WeightsMissingError:
                raise WeightsMissingError(
                    f"CLIPScore evaluator weights {cfg.evaluator_clip}/{cfg.evaluator_pretrained} are not in the "
                    "Hugging Face cache; run 'harness models fetch' with a network, or set "
                    "metrics.evaluator_clip=search to score with the search's own CLIP") from None
    ref = reference or cfg.reference
    if ref:
        path = Path(ref).expanduser()
        if not (path.is_dir() or (path.is_file() and path.suffix == ".npz")):
            raise ConfigError(f"metrics.reference: {path} is neither a folder of images nor a .npz statistics file")
        if cfg.fid_features == "inception":
            from harness.metrics.fid import make_extractor

            make_extractor("inception")
