"""Errors a user can cause and fix: each carries one line that names the file, the event, the key or the option.

The command line prints such an error as that one line and exits non-zero; anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

__all__ = ["LfiError", "EventFileError", "first_line"]


class LfiError(Exception):
    """Base of the errors caused by input (a file, an option, a setting) rather than by a bug in lfi."""


class EventFileError(LfiError, ValueError):
    """An event file is missing, unreadable, of another format, or breaks the data contract.

    The message always names the file and, where it applies, the HDF5 dataset (see ``docs/event-format.md``).
    """


def first_line(err: BaseException, width: int = 160) -> str:
    """The first line of an exception's message, cut to ``width`` characters (for one-line error messages)."""
    text = str(err).strip()
    return (text.splitlines()[0] if text else type(err).__name__)[:width]
