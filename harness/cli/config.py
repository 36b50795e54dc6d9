"""`harness config`: every key `--set key=value` reaches, with its default and what it means."""
from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from harness.cli.common import console
from harness.cli.main import app


@app.command(epilog="Example: harness config critics"
                    " | harness run suites/smoke --set critics.image_real.temperature=0.5")
def config(section: Optional[str] = typer.Argument(None, metavar="[SECTION]",
                                                    help="only keys under this prefix, e.g. critics")) -> None:
    """List every settable key (for --set KEY=VALUE and a suite's overrides) with its default."""
    from harness.config.schema import RunConfig
    from harness.config.typed import describe_fields
    from harness.errors import ConfigError

    from harness.critics import BUILTIN

    rows = [r for r in describe_fields(RunConfig) if r[0] != "critics.sections"]
    at = next(i for i, r in enumerate(rows) if r[0].startswith("critics."))
    rows[at:at] = [r for spec in BUILTIN if spec.settings is not None  # each critic's own settings class
                   for r in describe_fields(spec.settings, f"critics.{spec.name}.")]
    rows = [r for r in rows if not section or r[0] == section or r[0].startswith(section + ".")]
    if not rows:
        raise ConfigError(f"no key starts with {section!r}; run 'harness config' for every key")
    table = Table(title="settable keys: --set KEY=VALUE (repeatable)")
    table.add_column("key", overflow="fold")
    table.add_column("default", overflow="fold")
    table.add_column("meaning", overflow="fold")
    for key, default, comment in rows:
        table.add_row(key, default, comment)
    console.print(table)
