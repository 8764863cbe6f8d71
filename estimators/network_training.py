"""Training a network estimator from a :class:`lfi.train.TrainingSetup`: head settings from the sample,
input scaling from the training split, on-the-fly augmented batches, :func:`lfi.train.fit`, then save.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import torch

from estimators.encoders import parse_options
from lfi.augment import AugmentedBatches
from lfi.augment.streaming import EventChunks, StreamingBatches
from lfi.errors import Interrupted, ModelError, OptionError, first_line
from lfi.files import atomic_write_text
from lfi.train.distributed import is_main_process
from lfi.train.losses import get_loss
from lfi.train.methods import DENSITY, method_kind
from lfi.train.setup import TrainingSetup
from lfi.train.trainer import CHECKPOINT_FILE, fit, resolve_device

__all__ = ["train_network", "resumed_model_config", "fit_and_save", "head_config", "default_head", "options_as_text",
           "RECORD_FILE"]

#: The run's settings, written when training starts and compared on ``--resume``.
RECORD_FILE = "train_options.json"

log = logging.getLogger("lfi.train")
_DEFAULT_HEAD = {"ratio": "amplitude_ratio", "score": "score", "classifier": "classifier"}


def default_head(method: str) -> str:
    """The head a method trains by default (ratio methods: the positive morphing-aware amplitude head)."""
    return _DEFAULT_HEAD[method_kind(method)]


def head_config(setup: TrainingSetup, head: str) -> dict:
    """Keyword arguments of ``head`` for this sample: the morphing setup and the training split's basis
    cross sections in pb (morphing-aware heads), the θ scaling (parameterised ratio), the number of parameters."""
    sample, kind = setup.sample, setup.kind
    if kind == "ratio" and head in ("morphing_ratio", "amplitude_ratio"):
        basis = sample.morphing_basis
        config = {"components": sample.morphing_components.tolist(), "basis": sample.benchmark_theta[basis].tolist(),
                  "basis_sigma": setup.train.cross_sections[basis].tolist()}
    elif kind == "ratio" and head == "ratio":
        low, high = sample.benchmark_theta.min(axis=0), sample.benchmark_theta.max(axis=0)
        config = {"n_parameters": sample.n_parameters, "theta_centre": ((low + high) / 2).tolist(),
                  "theta_scale": np.maximum((high - low) / 2, 1e-12).tolist()}
    elif kind == "score" and head == "score":
        config = {"n_parameters": sample.n_parameters}
    else:
        raise OptionError(f"option head={head!r} does not fit method {setup.method!r}; ratio methods take "
                         "amplitude_ratio (default), morphing_ratio or ratio, score methods take score")
    return {**config, **setup.options.head.config()}


def train_network(cls, setup: TrainingSetup):
    """Build (or, resuming, rebuild) a network of class ``cls``, train it on ``setup`` and save it; returns it.

    See :func:`fit_and_save` for what the output directory holds when.
    """
    if setup.method in DENSITY:
        raise OptionError(f"--method {setup.method} trains a conditional density of high-level observables: "
                          "use --estimator flow")
    loss = get_loss(setup.method, **setup.options.method.loss_arguments())
    config = setup.config
    saved = resumed_model_config(setup)
    if saved is not None:
        model = cls(**saved)  # weights come from the checkpoint
    else:
        head = setup.options.head.name or default_head(setup.method)
        encoder_config = {"n_objects": setup.sample.momenta.shape[1], "n_globals": len(setup.sample.global_names),
                          **parse_options(setup.estimator, options_as_text(setup.options.encoder))}
        torch.manual_seed(config.seed)  # reproducible initial weights
        model = cls(setup.estimator, encoder_config, head, head_config(setup, head), setup.metadata())
        train = setup.sample if isinstance(setup.train, EventChunks) else setup.train  # streaming: the first chunk
        model.encoder.fit_input_scaling(torch.from_numpy(train.momenta), torch.from_numpy(train.types.astype(np.int64)),
                                        torch.from_numpy(train.globals_))
    n_epoch = setup.events_per_epoch
    only_theta0 = setup.kind == "score"
    common = dict(batch_size=config.batch_size, only_theta0=only_theta0, seed=config.seed)
    batches = StreamingBatches if isinstance(setup.train, EventChunks) else AugmentedBatches
    train_batches = batches(setup.train, setup.theta0_prior, setup.theta1_prior, n_events=n_epoch, **common)
    val_batches = batches(setup.validation, setup.theta0_prior, setup.theta1_prior,
                          n_events=max(n_epoch // 4, config.batch_size), **{**common, "seed": config.seed + 1})
    model_config = {k: model.config[k] for k in ("encoder", "encoder_config", "head", "head_config", "metadata")}
    return fit_and_save(model, model_config, setup, loss, train_batches, val_batches)


def resumed_model_config(setup: TrainingSetup) -> dict | None:
    """The constructor arguments saved by the interrupted run that ``setup`` resumes (checked against this run's
    settings), or None for a new run; a bad ``--device`` fails here, before anything is written.

    Raises
    ------
    OptionError
        ``setup.out`` holds an earlier run and ``--resume`` was not given.
    ResumeMismatchError
        The settings differ from the interrupted run's.
    """
    out = setup.out
    resolve_device(setup.config.device)
    if setup.resume and (out / CHECKPOINT_FILE).is_file():
        saved = _read_json(out / RECORD_FILE)
        setup.check_resume(saved)
        return saved["model"]
    if (out / CHECKPOINT_FILE).exists():
        raise OptionError(f"{out} holds an earlier run ({CHECKPOINT_FILE}): pass --resume to continue it, "
                          "or pick another --out")
    return None


def fit_and_save(model, model_config: dict, setup: TrainingSetup, loss, train_batches, val_batches):
    """Train ``model`` with :func:`lfi.train.fit` and save it in ``setup.out``; returns it.

    The directory gets ``train_options.json`` (the run's settings with ``model_config``, the constructor
    arguments a resumed run rebuilds the model from) at the start, ``checkpoint.pt`` and ``progress.json`` after
    every finished epoch, and the estimator itself only when training ends: an interrupted run leaves nothing
    a loader would take for a trained model.
    """
    out = setup.out
    created = not out.exists()
    record = {**setup.record(), "model": model_config}
    main = is_main_process()  # under torchrun, rank 0 alone writes
    if main:
        atomic_write_text(out / RECORD_FILE, json.dumps(record, indent=2, default=str))
    try:
        fit(model, loss, train_batches, val_batches, setup.config, out, resume=setup.resume, progress=setup.progress,
            on_epoch=setup.on_epoch)
    except Interrupted:
        if not (out / CHECKPOINT_FILE).exists():  # nothing to resume: leave nothing behind
            (out / RECORD_FILE).unlink(missing_ok=True)
            if created and not any(out.iterdir()):
                out.rmdir()
        raise
    if main:
        model.to("cpu").save(out)
    return model


def _read_json(path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ModelError(f"{path}: cannot read the interrupted run's settings ({first_line(err)}); "
                         "start a new run in another --out") from None


def options_as_text(options) -> dict:
    """Encoder options as the registry parses them: text, or lists for layer widths."""
    return {k: v if isinstance(v, (list, tuple)) else str(v).strip() for k, v in options.items()}
