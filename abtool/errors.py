"""Typed errors. The CLI turns each into a one-line message and the error's exit code."""

from __future__ import annotations

EXIT_USAGE = 2


class AbtoolError(Exception):
    """Base class of every error abtool reports to the user (exit code 2).

    The message is one line and names the file and column at fault where there is one.
    """

    exit_code = EXIT_USAGE

    def __init__(self, message: str) -> None:
        # One line, whatever a file or column name holds (newlines, escape sequences).
        from abtool.escape import printable

        super().__init__(" ".join(printable(message).split()))
        self.message = str(self.args[0])


class InputError(AbtoolError):
    """A log cannot be used: missing, not Parquet, wrong schema, empty, or no usable values."""


class ConfigError(AbtoolError):
    """A --config or policy file is unreadable or holds an unknown key or a bad value."""


class UsageError(AbtoolError):
    """Options contradict each other or hold values outside their domain."""
