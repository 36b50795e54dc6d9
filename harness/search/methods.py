"""Methods (baselines/*.yaml) checked against the registries they name: critics and pick policies."""
from __future__ import annotations

from pathlib import Path

from harness.config import methods as method_files
from harness.config.schema import MethodConfig
from harness.critics import SCORE_NAMES
from harness.errors import ConfigError
from harness.search.pick import PICKS


def check_method(method: MethodConfig, where: str) -> MethodConfig:
    for name in method.objectives:
        if name not in SCORE_NAMES:
            raise ConfigError(f"{where}: field 'objectives' names unknown critic {name!r} "
                              f"(known: {', '.join(SCORE_NAMES)})")
    if method.pick not in PICKS:
        raise ConfigError(f"{where}: field 'pick' names unknown policy {method.pick!r} (known: {', '.join(PICKS)})")
    return method


def load_method(name: str, folder: Path | None = None) -> MethodConfig:
    """A method by name (from baselines/) or by the path of a YAML file, with its names checked."""
    method = method_files.load_method(name, folder)
    return check_method(method, str(method_files.method_path(name, folder)))
