"""The `harness` command. User errors are one line on stderr and exit code 2, never a traceback.

typer 0.29 carries its own click (`typer._click`) and no longer depends on click, so usage errors
are matched against the click typer actually uses, whichever that is.
"""
from __future__ import annotations

import sys
from typing import Optional

import typer

from harness import __version__
from harness.errors import HarnessError

EPILOG = "Examples: harness run suites/smoke | harness report reports/smoke | harness models check tiny"
RESUME_HINT = "interrupted: finished work is saved; rerun the same command to resume"
INTERRUPTED = 130  # the shell's code for a process stopped by SIGINT
TERMINATED = 143  # the shell's code for a process stopped by SIGTERM

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None, epilog=EPILOG,
                  help="Evaluate caption-to-image search in a GAN's latent space.")


def _show_version(value: bool) -> None:
    if value:
        print(f"harness {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: Optional[bool] = typer.Option(None, "--version", callback=_show_version, is_eager=True,
                                                 help="print the version and exit")) -> None:
    """Evaluate caption-to-image search in a GAN's latent space."""


def _plain_argument_help() -> None:
    """Arguments in help show their metavar and help (RUN_DIR...), never typer's type labels (<list[Path]>)."""
    from typer.core import TyperArgument

    TyperArgument.display_type_rich = lambda self, ctx: None


def _register() -> None:
    import importlib

    _plain_argument_help()
    importlib.import_module("harness.tiny")  # the tiny profile's builders, registered for every command
    for command in ("ablate", "compare", "config", "failures", "metrics", "models", "power", "reference", "regress",
                    "report", "run", "search"):
        importlib.import_module(f"harness.cli.{command}")  # each registers itself on `app`


def _usage_exceptions():
    """The exceptions module of the click typer uses: its vendored copy (typer >= 0.26), else click's."""
    try:
        from typer._click import exceptions
    except ImportError:  # an older typer that depends on click
        from click import exceptions
    return exceptions


TERMINATED_BY = []  # set when SIGTERM arrived: the interrupt that follows is reported as a termination


def _on_sigterm(signum, frame):
    """SIGTERM, handled as Ctrl-C is: locks released, finished work kept, the way to resume printed."""
    TERMINATED_BY.append(signum)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    _register()
    usage = _usage_exceptions()
    try:
        code = app(args=argv, standalone_mode=False)  # returns the exit code of typer.Exit in this mode
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        for line in exc.details:
            print(f"  {line}", file=sys.stderr)
        return exc.exit_code
    except (KeyboardInterrupt, typer.Abort):
        code = INTERRUPTED
    except typer.Exit as exc:
        code = exc.exit_code
    except usage.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `harness`, `harness models`: help, not an error
            print(exc.ctx.get_help() if exc.ctx else exc.format_message())
            return 0
        command = exc.ctx.command_path if exc.ctx else "harness"
        print(f"error: {exc.format_message()} (see '{command} --help')", file=sys.stderr)
        return 2
    except usage.ClickException as exc:
        print(f"error: {exc.format_message()}", file=sys.stderr)
        return 2
    if code == INTERRUPTED and TERMINATED_BY:
        print("terminated by SIGTERM: finished work is saved; rerun the same command to resume", file=sys.stderr)
        return TERMINATED
    if code == INTERRUPTED:  # typer 0.29 turns Ctrl-C into Exit(130) itself
        print(RESUME_HINT, file=sys.stderr)
    return code if isinstance(code, int) else 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":  # python -m harness.cli.main works as python -m harness does: the commands register on
    from harness.cli.main import run as _run  # the imported module's app, not on this __main__ copy's

    _run()
