"""Whether a training directory holds a finished estimator, and what to tell the user when it does not.

The trainer writes ``progress.json`` after every finished epoch (:func:`lfi.train.trainer.fit`); the estimator
files appear only when training ends. Loaders call :func:`require_finished` first.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from lfi.errors import ModelNotFoundError

__all__ = ["PROGRESS_FILE", "read_progress", "require_finished"]

PROGRESS_FILE = "progress.json"


def read_progress(directory: str | os.PathLike) -> dict | None:
    """The last finished epoch of a training in ``directory``, or None if none finished.

    Returns
    -------
    dict or None
        ``epoch`` (last finished), ``max_epochs``, ``val_loss``, ``best_val_loss``, ``finished`` (the run ended
        normally or by early stopping) and ``early_stopped``.
    """
    try:
        return json.loads((Path(directory) / PROGRESS_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def require_finished(directory: str | os.PathLike, files: tuple[str, ...]) -> None:
    """Refuse, in one line, a directory that lacks one of ``files``; say how to continue an interrupted training.

    Raises
    ------
    ModelNotFoundError
        Naming the missing file, and for an unfinished training the last finished epoch and ``--resume``.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelNotFoundError(f"{directory}: no such estimator directory")
    missing = [name for name in files if not (directory / name).is_file()]
    if not missing:
        return
    progress = read_progress(directory)
    if progress is not None and not progress.get("finished", False):
        raise ModelNotFoundError(
            f"{directory}: training did not finish (stopped after epoch {progress['epoch']} of "
            f"{progress['max_epochs']}); rerun the same `lfi train` command with --resume to continue it")
    raise ModelNotFoundError(f"{directory / missing[0]}: missing; is {directory} a saved estimator directory?")
