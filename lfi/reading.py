"""Reading an input file someone else wrote: a damaged file gives one error line naming it, and nothing else.

Used by every reader (the lfi event format, LHE, Delphes ROOT, MadMiner HDF5): inside :func:`reading`, warnings
that decoding damaged bytes provokes are not shown, and an exception that the reading library raises because of
the file becomes one :class:`~lfi.errors.EventFileError`. Bugs in lfi keep their traceback.
"""

from __future__ import annotations

import contextlib
import os
import struct
import warnings
import zlib
from typing import Callable, Iterator
from xml.etree.ElementTree import ParseError

import numpy as np

from lfi.errors import EventFileError, LfiError, first_line

__all__ = ["reading", "is_read_error", "error_reason"]

# What a damaged file makes a reading library raise, whatever the library (HDF5, ROOT, gzip, XML).
_READ_ERRORS = (OSError, EOFError, ValueError, KeyError, IndexError, RuntimeError, OverflowError, zlib.error,
                struct.error, ParseError)


def is_read_error(err: BaseException, libraries: tuple[str, ...] = ("h5py",)) -> bool:
    """Whether ``err``, raised while reading an input file, says that the file is damaged (not that lfi has a bug).

    True for the exception types a damaged file makes reading libraries raise (``OSError``, ``ValueError``,
    ``KeyError``, ``IndexError``, ``RuntimeError``, ``EOFError``, zlib, struct and XML errors), and for any other
    exception (``TypeError``, ``AttributeError``, a library's own class) raised inside one of ``libraries``
    (top-level package names, e.g. ``("uproot", "awkward")``). Never for ``MemoryError``, a ``KeyboardInterrupt``
    or an :class:`~lfi.errors.LfiError` (which already is the one line).
    """
    if isinstance(err, (LfiError, MemoryError)) or not isinstance(err, Exception):
        return False
    if isinstance(err, _READ_ERRORS) or type(err).__module__.split(".")[0] in libraries:
        return True
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and str(tb.tb_frame.f_globals.get("__name__", "")).split(".")[0] in libraries


def error_reason(err: BaseException) -> str:
    """One line saying what a reading library found wrong."""
    if isinstance(err, KeyError) and err.args and isinstance(err.args[0], str):  # KeyError would quote its message
        key = err.args[0]
        err = Exception(key if " " in key.strip() else f"missing key {key!r}")
    elif isinstance(getattr(err, "message", None), str) and err.message.strip():  # uproot: "while reading ..." first
        err = Exception(err.message)
    return first_line(err)


@contextlib.contextmanager
def reading(
    path: str | os.PathLike, message: Callable[[str], str] | None = None, libraries: tuple[str, ...] = ("h5py",)
) -> Iterator[None]:
    """Read one input file inside this block: a damaged file gives one error line and nothing else.

    Inside the block warnings are not shown (NumPy's overflow or invalid value in a cast, a library's own
    warnings about the bytes it decodes: a damaged file must not print them before its error line), and an
    exception that :func:`is_read_error` blames on the file becomes one :class:`EventFileError` line
    ``"<path>: <message(reason)>"``; the default message is ``"unreadable (<reason>); truncated or corrupted
    file?"``. An :class:`~lfi.errors.LfiError` and any other exception (a bug) pass through unchanged.

    Parameters
    ----------
    path : path-like
        The file being read (named in the message).
    message : callable, optional
        Text after the path, given the library's reason; may say where reading stopped (dataset, event).
    libraries : tuple of str
        Packages whose exceptions of any type mean a damaged file (see :func:`is_read_error`).
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            yield
        except Exception as err:
            if not is_read_error(err, libraries):
                raise
            reason = error_reason(err)
            text = message(reason) if message is not None else f"unreadable ({reason}); truncated or corrupted file?"
            raise EventFileError(f"{path}: {text}") from err
