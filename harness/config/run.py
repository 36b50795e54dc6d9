"""Build a RunConfig from layered plain data: defaults < suite overrides < --models/--device < --set."""
from __future__ import annotations

import copy

from harness.config.schema import RunConfig
from harness.config.typed import apply_override, from_dict, parse_set


def build_run_config(base: dict | None = None, sets: list[str] | tuple = (), where: str = "--set",
                     **fields) -> RunConfig:
    """RunConfig from a nested dict `base`, then `fields` (dotted keys), then `--set key=value` strings.

    Every unknown key or bad value is a one-line ConfigError naming `where` and the field.
    """
    data = copy.deepcopy(base or {})
    for key, value in fields.items():
        if value is not None:
            apply_override(data, key.replace("__", "."), value, where)
    for assignment in sets:
        key, value = parse_set(assignment)
        apply_override(data, key, value, f"--set {assignment}")
    return from_dict(RunConfig, data, where)
