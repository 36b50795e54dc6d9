"""Options and console shared by the commands."""
from __future__ import annotations

import os
import sys

from rich.console import Console


def _width(stream) -> int | None:
    """A terminal's own width (or $COLUMNS); piped output (logs, CI) gets 160 columns, not rich's 80."""
    return None if stream.isatty() or os.environ.get("COLUMNS") else 160


console = Console(stderr=False, width=_width(sys.stdout))
err_console = Console(stderr=True, width=_width(sys.stderr))

SET_HELP = "override a config field, KEY=VALUE; repeatable; 'harness config' lists every key"
