"""Atomic file output: a result appears under its name complete, or not at all.

Every file lfi writes (event samples, models, checkpoints, maps, figures, summaries) goes through
:func:`atomic_write`: the writer fills a temporary file in the destination's folder, which is renamed onto
the destination only when writing succeeded and removed on any failure (including Ctrl-C). The file gets
the permissions an ordinary ``open(path, "w")`` would give it (0666 less the process umask), so colleagues
on a shared file system can read models and figures.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text"]


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
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
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
