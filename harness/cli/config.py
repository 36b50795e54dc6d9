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
                                                    help="only keys under this prefix, e.g. critics"),
           set_: Optional[list[str]] = typer.Option(None, "--set", metavar="critics.plugins=[NAME]",
                                                    help="also list the settings of the plugin critics named here")
           ) -> None:
    """List every settable key (for --set KEY=VALUE and a suite's overrides) with its default."""
    from harness.config.schema import RunConfig
    from harness.config.typed import describe_fields
    from harness.errors import ConfigError

    from harness.critics import critic_specs

    plugins = []
    for item in set_ or []:
        from harness.config.typed import parse_set

        key, value = parse_set(item)
        if key != "critics.plugins":
            raise ConfigError(f"harness config --set {item!r}: only critics.plugins=[NAME, ...] is listed (the keys "
                              "of the plugin critics it names)")
        plugins += list(value or [])
    rows = [r for r in describe_fields(RunConfig) if r[0] != "critics.sections"]
    at = next(i for i, r in enumerate(rows) if r[0].startswith("critics."))
    rows[at:at] = [r for spec in critic_specs(plugins) if spec.settings is not None  # each critic's own settings
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
