"""Errors a user can cause and fix: each carries one line that names the file, the event, the key or the option.

The command line prints an :class:`LfiError` as that one line and exits non-zero; any other exception is a
bug and keeps its traceback. Each class also derives from the built-in exception a Python caller would
expect (``ValueError``, ``KeyError``, ``FileNotFoundError``), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "LfiError",
    "EventFileError",
    "OptionError",
    "UnknownOptionError",
    "UnknownNameError",
    "ModelError",
    "ModelNotFoundError",
    "ResumeMismatchError",
    "Interrupted",
    "first_line",
]


class LfiError(Exception):
    """Base of the errors caused by input (a file, an option, a setting) rather than by a bug in lfi."""


class EventFileError(LfiError, ValueError):
    """An event file is missing, unreadable, of another format, or breaks the data contract.

    The message always names the file and, where it applies, the HDF5 dataset (see ``docs/event-format.md`` §5).
    """


class OptionError(LfiError, ValueError):
    """An option, setting or argument has a value that cannot work; the message names it and what would."""


class UnknownOptionError(OptionError, TypeError):
    """An option key that the estimator, simulator or command does not take; the message lists the accepted ones."""


class UnknownNameError(LfiError, KeyError):
    """A name (estimator, method, benchmark, observable, simulator, ...) that does not exist; the message lists
    the valid ones."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""


class ModelError(LfiError, ValueError):
    """A saved estimator directory that cannot be used: unfinished, corrupted, or files that do not fit."""


class ModelNotFoundError(ModelError, FileNotFoundError):
    """A saved estimator directory, or one of its files, is missing."""


class ResumeMismatchError(OptionError):
    """``--resume`` with settings that differ from the interrupted run's; the message names each difference."""


class Interrupted(LfiError):
    """The user interrupted a long job (Ctrl-C); the message says what was kept and how to continue."""


def first_line(err: BaseException, width: int = 160) -> str:
    """The first line of an exception's message, cut to ``width`` characters (for one-line error messages)."""
    text = str(err).strip()
    return (text.splitlines()[0] if text else type(err).__name__)[:width]
