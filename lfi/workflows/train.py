"""From an event file to a saved, trained estimator: :func:`train_estimator`.

The workflow reads the file, checks that it suits the method, splits it, sets up the θ priors and the
reference point, and hands a :class:`lfi.train.TrainingSetup` to the estimator family named by ``estimator``
(:func:`estimators.train`): networks train with :func:`lfi.train.fit`, the ``bdt`` with LightGBM.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from estimators.network_training import default_head
from lfi.augment import PointPrior, UniformPrior, parse_prior
from lfi.augment.streaming import EventChunks
from lfi.errors import OptionError
from lfi.events import EventSample
from lfi.train.methods import WITH_SCORE, method_kind
from lfi.train.setup import DataOptions, TrainConfig, TrainingSetup, TrainOptions

__all__ = ["train_estimator", "default_head"]

log = logging.getLogger("lfi.train")


def _reference(sample: EventSample, value: str | None) -> np.ndarray:
    """The reference point θ_ref: a benchmark name, comma-separated values, or the SM (all zeros)."""
    if value is None:
        return np.zeros(sample.n_parameters)
    if value in sample.benchmark_names:
        return sample.benchmark_theta[sample.benchmark_index(value)]
    try:
        values = np.array([float(v) for v in str(value).split(",")])
    except ValueError:
        values = np.array([])
    if len(values) != sample.n_parameters:
        raise OptionError(f"option reference={value!r}: needs {sample.n_parameters} comma-separated values or a "
                         f"benchmark name ({', '.join(sample.benchmark_names)})")
    return values


def _first_chunk(data: str | os.PathLike, stream: int) -> EventSample:
    """The first ``stream`` events: what the checks, the priors' box and the input scaling see when streaming."""
    return EventSample.load(data, slice(0, stream))


def _refuse_unused_options(options: TrainOptions, method: str, kind: str) -> None:
    """An option the method would silently ignore is an error, naming it."""
    unused = []
    if kind == "score":
        unused += [key for key in ("prior", "theta1") if getattr(options.data, key) != getattr(DataOptions(), key)]
    if options.method.alpha is not None and method not in WITH_SCORE:
        unused.append("alpha")
    if method != "focal":
        unused += [key for key in ("focal_alpha", "focal_gamma") if getattr(options.method, key) is not None]
    if unused:
        raise OptionError(f"option {unused[0]} does not apply to {method} (it would be ignored)")


def training_setup(data: str | os.PathLike, estimator: str, method: str, out: str | os.PathLike, *,
                   config: TrainConfig | None = None, options: Mapping[str, Any] | TrainOptions | None = None,
                   resume: bool = False, progress: bool = True, ensemble: int = 1,
                   bootstrap: bool = False, on_epoch: Callable[[dict, Any], None] | None = None) -> TrainingSetup:
    """Read ``data``, check it suits ``method``, split it and set up the priors (see :func:`train_estimator`)."""
    kind = method_kind(method)
    options = options if isinstance(options, TrainOptions) else TrainOptions.parse(options)
    config = config or TrainConfig()
    if Path(out).exists() and not Path(out).is_dir():
        raise OptionError(f"--out {out}: is a file; an estimator is saved as a directory")
    stream = options.data.stream
    sample = EventSample.load(data) if stream is None else _first_chunk(data, stream)
    if kind == "classifier":
        raise OptionError(f"--method {method}: classifiers train with `lfi classify --data SIGNAL BACKGROUND... "
                          f"--estimator NAME --loss {method}`")
    if not sample.can_morph:
        raise OptionError(f"{data}: {method} needs weights that morph (a /morphing group); this file has none")
    if sample.momenta.shape[1] == 0:
        raise OptionError(f"{data}: this sample has no object lists; estimators need objects")
    _refuse_unused_options(options, method.lower(), kind)
    fraction = options.data.validation_fraction
    if stream is None:
        train, validation = sample.split((1 - fraction, fraction), seed=config.seed)
    else:
        if bootstrap or estimator in ("bdt", "flow"):
            raise OptionError("option stream: only network ratio and score estimators stream their training file "
                              "(not bdt, flow or --bootstrap)")
        train, validation = EventChunks.split(data, EventSample.read_info(data)["events"], stream, fraction)
    low, high = sample.benchmark_theta.min(axis=0), sample.benchmark_theta.max(axis=0)
    prior = (parse_prior(options.data.prior, sample.n_parameters) if options.data.prior
             else UniformPrior(tuple(low), tuple(high)))
    reference = _reference(sample, options.data.reference)
    reference_prior = PointPrior(tuple(reference.tolist()))
    theta1_prior = prior if options.data.theta1 == "prior" else reference_prior
    theta0_prior = reference_prior if kind == "score" else prior
    return TrainingSetup(estimator=estimator, data_file=Path(data), sample=sample, train=train, validation=validation,
                         method=method.lower(), theta0_prior=theta0_prior, theta1_prior=theta1_prior,
                         reference=reference, config=config, options=options, out=Path(out), resume=resume,
                         progress=progress, ensemble=ensemble, bootstrap=bootstrap, on_epoch=on_epoch)


def train_estimator(data: str | os.PathLike, estimator: str, method: str, out: str | os.PathLike, *,
                    config: TrainConfig | None = None, options: Mapping[str, Any] | TrainOptions | None = None,
                    resume: bool = False, progress: bool = True, ensemble: int = 1, bootstrap: bool = False,
                    on_epoch: Callable[[dict, Any], None] | None = None):
    """Train an estimator on an event file and save it as a directory.

    Parameters
    ----------
    data : path-like
        Event file with a morphing setup (ratio and score methods).
    estimator : str
        Registry name: an encoder (``mlp``, ``part``, ...) trained as a network, or ``bdt`` (LightGBM, ``carl``).
    method : str
        One of :data:`lfi.train.METHODS`.
    out : path-like
        Output directory: ``config.json`` and the weights, ``history.json``, ``train_options.json``.
    config : TrainConfig
        Loop settings (epochs, batch size, learning rate, device, ...).
    options : mapping or TrainOptions
        ``KEY=VALUE`` options, sorted into groups by :meth:`lfi.train.TrainOptions.parse`: data (``prior``,
        ``reference``, ``theta1``, ``events_per_epoch``, ``validation_fraction``), head (``head``,
        ``head_hidden``, ``head_dropout``), method (``alpha``, ``focal_alpha``, ``focal_gamma``); every other
        key is a hyper-parameter of the estimator.
    resume : bool
        Continue an interrupted run in ``out``.
    progress : bool
        Show progress bars.
    ensemble : int
        Train this many members (seeds ``config.seed``, ``+1``, ...) and save them as one estimator whose
        log r̂ (or t̂) is the members' mean (:class:`estimators.ensemble.Ensemble`).
    bootstrap : bool
        Each ensemble member trains on a bootstrap resample of the training events.
    on_epoch : callable, optional
        ``on_epoch(entry, model)`` after every epoch of a network's or flow's training (:func:`lfi.train.fit`; the
        BDT has no epochs), e.g. to follow an accuracy against elapsed time.

    Returns
    -------
    lfi.protocols.RatioEstimator or lfi.protocols.ScoreEstimator
        The trained estimator (best validation weights), also saved in ``out``.
    """
    import estimators

    setup = training_setup(data, estimator, method, out, config=config, options=options, resume=resume,
                           progress=progress, ensemble=ensemble, bootstrap=bootstrap, on_epoch=on_epoch)
    model = estimators.train(setup)
    log.info("saved %s estimator (%s) to %s", estimator, setup.method, setup.out)
    return model
