"""The `harness` command. User errors are one line on stderr and exit code 2, never a traceback."""
from __future__ import annotations

import sys

import typer

from harness.errors import HarnessError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Evaluate caption-to-image search in a GAN's latent space.")


def _register() -> None:
    from harness.cli import ablate, compare, failures, metrics, models, regress, report, run, search  # noqa: F401  (commands register themselves on `app`)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    _register()
    try:
        code = app(args=argv, standalone_mode=False)  # returns the exit code of typer.Exit in this mode
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted: finished work is saved; rerun the same command to resume", file=sys.stderr)
        return 130
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.exceptions.Exit):
            return exc.exit_code
        if isinstance(exc, click.ClickException):
            print(f"error: {exc.format_message()}", file=sys.stderr)
            return 2
        if isinstance(exc, click.exceptions.Abort):
            print("aborted", file=sys.stderr)
            return 130
        raise
    return code if isinstance(code, int) else 0


def run() -> None:
    sys.exit(main())
