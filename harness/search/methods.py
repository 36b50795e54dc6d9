"""Methods (baselines/*.yaml) checked against the registries they name: critics and pick policies."""
from __future__ import annotations

from pathlib import Path

from harness.config import methods as method_files
from harness.config.schema import MethodConfig
from harness.critics import SCORE_NAMES
from harness.errors import ConfigError
from harness.search.pick import PICKS


def check_method(method: MethodConfig, where: str, critics=None) -> MethodConfig:
    """critics: the run's critic names (None: the built-ins and every installed critic plugin's name)."""
    if critics is None:
        from harness.plugins import entry_points

        critics = [*SCORE_NAMES, *entry_points("harness.critics")]
    for name in method.objectives:
        if name not in critics:
            raise ConfigError(f"{where}: field 'objectives' names unknown critic {name!r} "
                              f"(known: {', '.join(critics)}; a plugin critic is named in critics.plugins)")
    if method.pick not in PICKS:
        raise ConfigError(f"{where}: field 'pick' names unknown policy {method.pick!r} (known: {', '.join(PICKS)})")
    return method


def load_method(name: str, folder: Path | None = None, critics=None) -> MethodConfig:
    """A method by name (from baselines/) or by the path of a YAML file, with its names checked (critics: the
    run's critic names; None: the built-ins and every installed critic plugin's name)."""
    method = method_files.load_method(name, folder)
    return check_method(method, str(method_files.method_path(name, folder)), critics)
