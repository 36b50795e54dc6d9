"""The `harness` command line (typer); each command lives in its own module."""
