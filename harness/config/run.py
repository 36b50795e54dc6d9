"""Build a RunConfig from layered plain data: defaults < suite overrides < --models/--device < --set."""
from __future__ import annotations

import copy

from harness.config.schema import RunConfig
from harness.config.typed import apply_override, from_dict, parse_set
from harness.errors import ConfigError


OPTIONS = {"models.profile": "models", "device": "device"}  # config fields the command line sets by an option


def check_options(fields: dict) -> None:
    """The options' own values (--models, --device), blamed on the option, not on the suite file."""
    import re

    profile, device = fields.get("models__profile"), fields.get("device")
    if profile is not None and profile not in ("default", "random", "tiny"):
        raise ConfigError(f"--models: the model profile must be one of default, random, tiny, got {profile!r}")
    if device is not None and re.fullmatch(r"cpu|cuda(:\d+)?|mps", str(device)) is None:
        raise ConfigError(f"--device: must be cpu, cuda, cuda:N or mps, got {device!r}")


def build_run_config(base: dict | None = None, sets: list[str] | tuple = (), where: str = "--set",
                     **fields) -> RunConfig:
    """RunConfig from a nested dict `base`, then `fields` (dotted keys), then `--set key=value` strings.

    Every unknown key or bad value is a one-line ConfigError naming `where` and the field.
    """
    data = copy.deepcopy(base or {})
    check_options(fields)
    parsed = [(assignment, *parse_set(assignment)) for assignment in sets]
    for key, value in fields.items():
        if value is None:
            continue
        dotted = key.replace("__", ".")
        for assignment, k, v in parsed:
            if k == dotted and v != value:
                raise ConfigError(f"--{OPTIONS.get(dotted, dotted)} {value} and --set {assignment} disagree: give one of "
                                  "them")
        apply_override(data, dotted, value, where)
    for assignment, key, value in parsed:
        apply_override(data, key, value, f"--set {assignment}")
    return from_dict(RunConfig, data, where)
