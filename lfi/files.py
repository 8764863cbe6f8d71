"""Atomic file output: a result appears under its name complete, or not at all.

Every file lfi writes (event samples, models, checkpoints, maps, figures, summaries) goes through
:func:`atomic_write`: the writer fills a temporary file in the destination's folder, which is renamed onto
the destination only when writing succeeded and removed on any failure (including Ctrl-C). The file gets
the permissions an ordinary ``open(path, "w")`` would give it (0666 less the process umask), so colleagues
on a shared file system can read models and figures.

Two things can still go wrong, and both are handled here:

- Python drops a ``KeyboardInterrupt`` raised while a ``__del__`` or weakref callback runs (h5py runs many while
  it writes) and prints "Exception ignored in ..." instead; the write would then go on and be renamed.
  :func:`remember_interrupts` remembers such a Ctrl-C, and :func:`atomic_write` refuses to rename after one.
- ``kill -9`` (or a crash) leaves the temporary behind. The next :func:`atomic_write` to the same destination
  removes temporaries of that destination not written to for :data:`STALE_AFTER_S` seconds and older than the
  running process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import stat
import sys
import tempfile
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text", "remember_interrupts", "STALE_AFTER_S"]

log = logging.getLogger("lfi")

#: A temporary not written to for this long (and older than this process) was left by a killed run.
STALE_AFTER_S = 60.0
_PROCESS_STARTED = time.time()  # lfi.files is imported early in every lfi process
_INTERRUPTS = types.SimpleNamespace(pressed=False, depth=0, previous_hook=None)


@contextlib.contextmanager
def remember_interrupts() -> Iterator[types.SimpleNamespace]:
    """Ctrl-C raises ``KeyboardInterrupt`` as usual and is also remembered in ``.pressed``, even when Python
    drops the exception inside a ``__del__`` or weakref callback (then nothing is printed either).

    Nested uses share one state. Outside the main thread, or when SIGINT is ignored or handled by someone
    else, Ctrl-C is left alone.
    """
    state = _INTERRUPTS
    if state.depth == 0:
        if (threading.current_thread() is not threading.main_thread()
                or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
            yield types.SimpleNamespace(pressed=False)
            return
        state.pressed, state.previous_hook = False, sys.unraisablehook

        def on_ctrl_c(signum, frame):
            state.pressed = True
            raise KeyboardInterrupt

        def unraisable(info):
            if not (isinstance(info.exc_type, type) and issubclass(info.exc_type, KeyboardInterrupt)):
                state.previous_hook(info)

        signal.signal(signal.SIGINT, on_ctrl_c)
        sys.unraisablehook = unraisable
    state.depth += 1
    try:
        yield state
    finally:
        state.depth -= 1
        if state.depth == 0:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            sys.unraisablehook = state.previous_hook


def _remove_stale_temporaries(path: Path) -> None:
    """Remove the temporaries of ``path`` that a killed run left (see the module docstring)."""
    pattern = re.compile(rf"\.{re.escape(path.stem)}\.[a-z0-9_]{{8}}\.tmp{re.escape(path.suffix)}")
    limit = min(_PROCESS_STARTED, time.time() - STALE_AFTER_S)
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            info = entry.lstat()
            if stat.S_ISREG(info.st_mode) and info.st_mtime < limit:
                entry.unlink()
                log.info("removed %s, left by an interrupted run", entry)
        except OSError:
            pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write to; rename it onto ``path`` when the block ends without error.

    Parameters
    ----------
    path : path-like
        Destination. Its folder is created if needed; an existing file is replaced only once the new one
        is complete. The temporary file keeps the destination's suffix (``.png``, ``.npy``, ``.h5``) so that
        writers which infer the format from the name work unchanged.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "numbers.txt"
    >>> with atomic_write(target) as tmp:
    ...     _ = tmp.write_text("1 2 3")
    >>> target.read_text()
    '1 2 3'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        with remember_interrupts() as interrupts:
            yield tmp
            if interrupts.pressed:  # a Ctrl-C that Python dropped while writing: the file may be incomplete
                raise KeyboardInterrupt
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    path = Path(path)
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
