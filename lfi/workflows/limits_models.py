"""The trained estimators of a limits job: loading them for a test sample, how long each trained, and a warning
when the test file is the one a model was trained on."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Sequence


from lfi.errors import LfiError, ModelError, ModelNotFoundError, OptionError
from lfi.events import EventSample

__all__ = ["load_models", "resolve_model_device", "training_record"]

log = logging.getLogger("lfi.limits")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def training_record(directory: str | os.PathLike, metadata: dict | None = None) -> dict | None:
    """How long a saved model trained, where its directory tells; ``None`` where it does not.

    Networks: ``{"epochs": n, "max_epochs": m, "early_stopped": n < m}`` from ``history.json`` (one entry per
    epoch) and ``train_options.json`` (``config.epochs``), or from ``progress.json``; ``max_epochs`` and
    ``early_stopped`` are ``None`` when the maximum is not recorded. The BDT: ``{"rounds": n, "best_round": k}``.
    """
    directory, metadata = Path(directory), metadata or {}
    if "epochs" in metadata:
        epochs, max_epochs = int(metadata["epochs"]), metadata.get("max_epochs")
    else:
        history = _read_json(directory / "history.json")
        if not isinstance(history, list):
            history = None
        if history and all(isinstance(h, dict) and "round" in h for h in history):
            config = _read_json(directory / "config.json") or {}
            best = config.get("best_iteration") if isinstance(config, dict) else None
            return {"rounds": len(history), "best_round": int(best) if best else None}
        progress = _read_json(directory / "progress.json")
        progress = progress if isinstance(progress, dict) else {}
        if history is not None:
            epochs = len(history)
        elif isinstance(progress.get("epoch"), int):
            epochs = progress["epoch"]
        else:
            return None
        options = _read_json(directory / "train_options.json")
        config = options.get("config") if isinstance(options, dict) else None
        max_epochs = config.get("epochs") if isinstance(config, dict) else None
        if max_epochs is None:
            max_epochs = progress.get("max_epochs")
    if not isinstance(max_epochs, int) or isinstance(max_epochs, bool):
        return {"epochs": epochs, "max_epochs": None, "early_stopped": None}
    return {"epochs": epochs, "max_epochs": max_epochs, "early_stopped": epochs < max_epochs}


def _training_files(directory: Path, metadata: dict) -> list[Path]:
    """Where the model's training file may be: ``metadata["train_file"]`` (as typed, so a relative path is
    tried from here and from the model's parent directory) and ``train_options.json`` (resolved)."""
    names = []
    if metadata.get("train_file"):
        names.append(str(metadata["train_file"]))
    options = _read_json(directory / "train_options.json")
    data = options.get("data") if isinstance(options, dict) else None
    if isinstance(data, dict) and data.get("file"):
        names.append(str(data["file"]))
    out: list[Path] = []
    for name in names:
        path = Path(name).expanduser()
        for candidate in ([path] if path.is_absolute() else [Path.cwd() / path, directory.resolve().parent / path]):
            if candidate not in out:
                out.append(candidate)
    return out


def _warn_if_training_file(data: Path, directory: Path, metadata: dict) -> None:
    """A warning when the test file is the model's training file (same file, or a copy with the same size and
    modification time, or, for files up to 256 MiB, the same SHA-256 as recorded at training)."""
    try:
        stat = data.stat()
    except OSError:
        return
    why = None
    for candidate in _training_files(directory, metadata):
        try:
            if os.path.samefile(candidate, data):
                why = "the same file"
                break
            other = candidate.stat()
            if other.st_size == stat.st_size and other.st_mtime_ns == stat.st_mtime_ns:
                why = f"a copy of {candidate}: same size and modification time"
        except OSError:
            continue
    if why is None and stat.st_size <= 256 * 2**20:
        options = _read_json(directory / "train_options.json")
        recorded = (options.get("data") or {}).get("sha256") if isinstance(options, dict) else None
        if isinstance(recorded, str) and recorded:
            from lfi.train.setup import file_sha256

            if file_sha256(data) == recorded:
                why = "the same content: SHA-256 as recorded at training"
    if why:
        log.warning("warning: --model %s was trained on --data %s (%s): its limits are biased (too tight); use an "
                    "independent test file", directory, data, why)


def load_models(models: Sequence[str | os.PathLike], sample: EventSample, data: Path) -> list[tuple[str, Any, Path]]:
    """Load every model before any map is computed; refuse what cannot give a map on this sample."""
    import estimators

    loaded, names = [], {}
    for directory in models:
        directory = Path(directory)
        if not directory.is_dir():
            raise ModelNotFoundError(f"--model {directory}: no such directory")
        try:
            estimator = estimators.load(directory)
        except LfiError:
            raise
        except FileNotFoundError as err:
            raise ModelNotFoundError(f"--model {directory}: {err}") from None
        kind = getattr(estimator, "kind", None)
        if kind not in ("ratio", "score"):
            raise OptionError(f"--model {directory}: a {kind} estimator gives no likelihood map "
                              "(train a ratio or score method)")
        trained_for = estimator.metadata.get("parameters")
        if trained_for is not None and list(trained_for) != list(sample.parameters):
            raise ModelError(f"--model {directory}: trained for parameters {', '.join(trained_for)}, but {data} has "
                             f"{', '.join(sample.parameters)}")
        name = f"{estimator.metadata.get('method', 'model')}_{directory.name}"
        if name in names:
            raise OptionError(f"--model {directory} and {names[name]} give the same map name {name!r}; "
                              "give each model once, in directories of different names")
        names[name] = directory
        _warn_if_training_file(data, directory, estimator.metadata)
        loaded.append((name, estimator, directory))
    return loaded


def resolve_model_device(device: str) -> str:
    """``device`` checked before any work: one OptionError line for a name torch does not know or a missing GPU."""
    from lfi.train.trainer import resolve_device

    return str(resolve_device(device))
