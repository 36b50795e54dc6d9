"""Options and console shared by the commands."""
from __future__ import annotations

import sys

from rich.console import Console

# Piped output (logs, CI) gets wide tables instead of rich's 80-column default.
console = Console(stderr=False, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
