"""User-facing errors: one line, exit code 2, no traceback."""


class HarnessError(Exception):
    """A problem with the user's input or environment, reported as one line.

    The message says what is wrong and how to fix it. The CLI prints it and exits with code 2.
    """

    exit_code = 2

    def __init__(self, message: str, details: list[str] | tuple = ()):
        super().__init__(" ".join(str(message).split()))
        self.details = [" ".join(str(d).split()) for d in details]  # printed one a line under the message


class ConfigError(HarnessError):
    """A config file, field or override is invalid."""


class PluginError(HarnessError):
    """A plugin misbehaved (raised, exited, or returned what its contract does not allow): the message names it."""


class WeightsMissingError(HarnessError):
    """Model weights are not in the local caches and cannot be downloaded here."""
