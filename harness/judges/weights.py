"""Are the weights a run needs in the local caches: its profile's models, the CLIPScore judge and every held-out
judge of its metric settings? Seconds, no network; one WeightsMissingError naming every missing one."""
from __future__ import annotations

from pathlib import Path

from harness.config.schema import ModelsConfig


def check_models(cfg: ModelsConfig, metrics=None) -> dict[str, list[Path]]:
    """The weight files per model of `cfg`'s profile (and, given a MetricsConfig, of its CLIPScore judge and its
    panel of judges)."""
    from harness.judges.panel import judge_files, panel_entry
    from harness.models.profiles import evaluator_spec, resolve_spec, weight_files

    evaluator, extra = None, {}
    if metrics is not None:
        name, pretrained, same = evaluator_spec(cfg, metrics.clipscore_config())
        evaluator = None if same else (name, pretrained)
        for e in metrics.panel():
            judge = (e.name, cfg.profile, e.model, e.pretrained)
            extra[f"judge {e.name}"] = (panel_entry(*judge)[0] or e.name, lambda judge=judge: judge_files(*judge))
    return weight_files(resolve_spec(cfg), evaluator, extra)
