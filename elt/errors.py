"""Expected failures and the exit codes `elt` documents for them.

An expected failure (bad settings, a source that refuses us, a busy warehouse,
a gate that stops bad data) prints one message saying what failed, where and
what to do, and exits with its code; a traceback appears only with `--debug`.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

#: exit codes (README "Exit codes" lists them)
OK = 0
FAILED = 1  # a stage ran and failed: a gate's critical check, dbt model or test
USAGE = 2  # bad settings, `.env` or command-line arguments: nothing ran
SOURCE = 3  # a source API refused or could not be reached after retries
BUSY = 4  # another run held the pipeline lock longer than ELT_LOCK_WAIT
INTERRUPTED = 130  # SIGINT / SIGTERM


class ExpectedError(Exception):
    """A failure with a message for the user, not a bug: no traceback without --debug."""

    exit_code = FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text}\n  what to do: {self.hint}" if self.hint else text


class SettingsError(ExpectedError, ValueError):
    """A setting, environment variable or `.env` line that can never work."""

    exit_code = USAGE


class Busy(ExpectedError):
    """Another run held the lock longer than we were willing to wait."""

    exit_code = BUSY


class GateFailed(ExpectedError):
    """A quality gate found a critical problem; nothing was published."""

    exit_code = FAILED
