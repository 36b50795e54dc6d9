"""Options and console shared by the commands."""
from __future__ import annotations

import os
import sys

from rich.console import Console


def _width(stream) -> int | None:
    """A terminal's own width (or $COLUMNS); piped output wraps at the width of the terminal the command runs
    in (`harness run ... | tee log`), and at 160 columns where there is none (logs, CI), not rich's 80."""
    if stream.isatty() or os.environ.get("COLUMNS"):
        return None
    for other in (sys.stderr, sys.stdout, sys.stdin):
        try:
            if other.isatty():
                return os.get_terminal_size(other.fileno()).columns
        except (OSError, ValueError, AttributeError):
            continue
    return 160


# markup off: captions, paths and method names are printed as they are ("[x]" in a path is text, not a style)
console = Console(stderr=False, width=_width(sys.stdout), markup=False)
err_console = Console(stderr=True, width=_width(sys.stderr), markup=False)

SET_HELP = "override a config field, KEY=VALUE; repeatable; 'harness config' lists every key"


def out_path(value: str | None, option: str = "--out"):
    """An --out given as text: None when not given, else its Path; an empty one is refused (it would mean the
    current folder)."""
    from pathlib import Path

    from harness.errors import ConfigError

    if value is None:
        return None
    if not value.strip():
        raise ConfigError(f"{option} is empty; give a folder, e.g. {option} reports/mine")
    return Path(value)
