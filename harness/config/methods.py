"""Methods are YAML files in baselines/; the file stem is the method's name."""
from __future__ import annotations

import os
import re
from pathlib import Path

from harness.config.schema import MethodConfig
from harness.config.typed import from_dict, read_yaml
from harness.errors import ConfigError

DEFAULT_METHODS = ("no_selection", "best_of_n", "clip_single", "four_objective")  # a suite that names none
METHOD_ORDER = ("no_selection", "best_of_n", "zero_order", "zero_order_greedy", "clip_single", "four_objective",
                "evo_trajectory", "evo_trajectory_four")  # report order
METHOD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a folder name in the run directory


def baselines_dir() -> Path:
    """$HARNESS_BASELINES, else the baselines/ folder beside the package."""
    env = os.environ.get("HARNESS_BASELINES")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "baselines"


def available_methods(folder: Path | None = None) -> list[str]:
    folder = folder or baselines_dir()
    return sorted(p.stem for p in folder.glob("*.yaml"))


def method_path(name: str, folder: Path | None = None) -> Path:
    path = Path(name)
    if path.suffix in (".yaml", ".yml"):
        return path
    return (folder or baselines_dir()) / f"{name}.yaml"


def load_method(name: str, folder: Path | None = None) -> MethodConfig:
    """Load a method by name (from baselines/) or by the path of a YAML file; its critic and pick
    names are checked by harness.search.methods.load_method, where those registries live."""
    path = method_path(name, folder)
    if Path(name).suffix not in (".yaml", ".yml") and not path.is_file():
        known = ", ".join(available_methods(folder or baselines_dir())) or "none"
        raise ConfigError(f"unknown method {name!r}: no {path} (known methods: {known})")
    if not METHOD_NAME.fullmatch(path.stem):
        raise ConfigError(f"{path}: a method's name (its file stem) may use only letters, digits, '-', '_' and '.', "
                          "and must start with a letter or digit")
    data = read_yaml(path)
    if "name" in data:
        raise ConfigError(f"{path}: unknown key 'name' (a method's name is its file stem)")
    return from_dict(MethodConfig, {"name": path.stem, **data}, str(path))
