"""One entry point from an event file to a saved, trained estimator: :func:`train_estimator`."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

from lfi.events import EventSample
from lfi.train.losses import METHOD_KIND, get_loss
from lfi.train.trainer import TrainConfig, fit

__all__ = ["train_estimator", "default_head"]

log = logging.getLogger("lfi.train")

_HEAD_OPTIONS = {"head_hidden": "hidden", "head_dropout": "dropout"}
_LOSS_OPTIONS = ("alpha", "focal_alpha", "focal_gamma")
_DATA_OPTIONS = ("prior", "reference", "theta1", "head", "events_per_epoch", "validation_fraction")


def default_head(method: str) -> str:
    """The head a method trains by default (ratio methods: the positive morphing-aware amplitude head)."""
    return {"ratio": "amplitude_ratio", "score": "score", "classifier": "classifier"}[METHOD_KIND[method]]


def _as_list(value) -> list:
    """``"128,64"`` or ``128`` or ``[128, 64]`` → a list of numbers."""
    if isinstance(value, str):
        return [float(v) if "." in v else int(v) for v in value.split(",") if v]
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _encoder_options(encoder: str, options: dict) -> dict:
    """Command-line options for the encoder, typed by its defaults (``hidden=256`` or ``hidden=256,256`` for
    layer widths, ``k=8``, ``pair=mass,delta_r``); see :func:`estimators.encoders.parse_options`."""
    from estimators.encoders import parse_options

    as_text = {k: v if isinstance(v, (list, tuple)) else str(v).strip() for k, v in options.items()}
    return parse_options(encoder, as_text)


def _parameter_box(sample: EventSample) -> tuple[np.ndarray, np.ndarray]:
    return sample.benchmark_theta.min(axis=0), sample.benchmark_theta.max(axis=0)


def _reference(sample: EventSample, value: str | None) -> np.ndarray:
    """The reference point θ_ref: a benchmark name, comma-separated values, or the SM (all zeros)."""
    if value is None:
        return np.zeros(sample.n_parameters)
    if value in sample.benchmark_names:
        return sample.benchmark_theta[sample.benchmark_index(value)]
    values = np.array([float(v) for v in str(value).split(",")])
    if len(values) != sample.n_parameters:
        raise ValueError(f"reference={value!r} needs {sample.n_parameters} comma-separated values or a benchmark name")
    return values


def train_estimator(
    data: str | os.PathLike,
    encoder: str,
    method: str,
    out: str | os.PathLike,
    *,
    config: TrainConfig | None = None,
    options: dict | None = None,
    resume: bool = False,
    progress: bool = True,
):
    """Train an estimator on an event file and save it as a directory.

    Parameters
    ----------
    data : path-like
        Event file with a morphing setup (ratio and score methods) or several processes (classifiers).
    encoder : str
        Encoder registry name, e.g. ``mlp`` or ``part``.
    method : str
        One of ``carl, rolr, rascal, alice, alices, cascal, sally, sallino, ce, focal``.
    out : path-like
        Output directory: ``config.json``, ``weights.pt``, ``history.json``, ``checkpoint.pt``.
    config : TrainConfig
    options : dict
        ``prior`` (θ0 prior, e.g. ``uniform:-1:1``; default uniform over the benchmarks' box),
        ``reference`` (θ1 = θ_ref: benchmark name or values; default the SM point 0),
        ``theta1`` (``reference`` or ``prior``: draw θ1 too), ``head`` (``amplitude_ratio``, ``morphing_ratio``
        or ``ratio``),
        ``events_per_epoch``, ``validation_fraction`` (default 0.2), ``alpha`` (score-term weight),
        ``focal_alpha``, ``focal_gamma``, ``head_hidden`` (head layers, e.g. ``128,128``), ``head_dropout``;
        any other key is passed to the encoder as a hyper-parameter.

    Returns
    -------
    estimators.Estimator or estimators.bdt.BDTEstimator
        The trained model (best validation weights), also saved in ``out``. ``encoder="bdt"`` (LightGBM,
        ``carl`` only) fits once on ``events_per_epoch`` drawn events, see :func:`_train_bdt`.
    """
    import torch

    import estimators
    from lfi.augment import AugmentedBatches, PointPrior, UniformPrior, parse_prior

    options = dict(options or {})
    config = config or TrainConfig()
    loss = get_loss(method, **{k: float(options.pop(k)) for k in _LOSS_OPTIONS if k in options})
    data_options = {k: options.pop(k) for k in _DATA_OPTIONS if k in options}
    head_options = {_HEAD_OPTIONS[k]: options.pop(k) for k in list(_HEAD_OPTIONS) if k in options}
    if "hidden" in head_options:
        head_options["hidden"] = _as_list(head_options["hidden"])
    if encoder == "bdt" and method != "carl" and loss.kind != "classifier":
        raise ValueError(f"the bdt estimator trains only carl (and classifiers); {method!r} needs a network")
    sample = EventSample.load(data)
    if loss.kind == "classifier":
        raise ValueError("classifier training (ce, focal) runs through `lfi classify`, which is not built yet")
    if not sample.can_morph:
        raise ValueError(f"{data}: {method} needs weights that morph (a /morphing group); this file has none")
    if sample.momenta.shape[1] == 0:
        raise ValueError(f"{data}: this sample has no object lists; estimators need objects")

    fraction = float(data_options.get("validation_fraction", 0.2))
    train, val = sample.split((1 - fraction, fraction), seed=config.seed)
    low, high = _parameter_box(sample)
    prior = parse_prior(data_options["prior"], sample.n_parameters) if "prior" in data_options else UniformPrior(tuple(low), tuple(high))
    reference = _reference(sample, data_options.get("reference"))
    ref_prior = PointPrior(tuple(reference.tolist()))
    theta1_prior = prior if data_options.get("theta1") == "prior" else ref_prior
    if loss.kind == "score":
        theta0_prior, only0 = ref_prior, True
    else:
        theta0_prior, only0 = prior, False

    if encoder == "bdt":
        return _train_bdt(sample, train, val, theta0_prior, theta1_prior, reference, data, method, out, config,
                          options, data_options)
    head = data_options.get("head") or default_head(method)
    if loss.kind == "ratio" and head in ("morphing_ratio", "amplitude_ratio"):
        basis = sample.morphing_basis
        head_config = {
            "components": sample.morphing_components.tolist(),
            "basis": sample.benchmark_theta[basis].tolist(),
            "basis_sigma": train.cross_sections[basis].tolist(),
        }
    elif loss.kind == "ratio" and head == "ratio":
        head_config = {
            "n_parameters": sample.n_parameters,
            "theta_centre": ((low + high) / 2).tolist(),
            "theta_scale": np.maximum((high - low) / 2, 1e-12).tolist(),
        }
    elif loss.kind == "score":
        head_config = {"n_parameters": sample.n_parameters}
    else:
        raise ValueError(f"head={head!r} does not fit method {method!r}; ratio methods take amplitude_ratio (default), "
                         "morphing_ratio or ratio")
    head_config.update(head_options)
    encoder_config = {"n_objects": sample.momenta.shape[1], "n_globals": len(sample.global_names),
                      **_encoder_options(encoder, options)}
    metadata = {
        "method": method,
        "parameters": sample.parameters,
        "reference": reference.tolist(),
        "observables": sorted(sample.observables),
        "train_file": str(data),
    }
    out = Path(out)
    if resume and (out / "config.json").exists():
        model = estimators.load(out)  # same architecture; weights are replaced by the checkpoint's
    else:
        torch.manual_seed(config.seed)  # reproducible initial weights
        model = estimators.build(encoder, head, encoder_config=encoder_config, head_config=head_config, metadata=metadata)
        model.encoder.fit_input_scaling(
            torch.from_numpy(train.momenta), torch.from_numpy(train.types.astype(np.int64)), torch.from_numpy(train.globals_)
        )
    n_epoch = int(data_options.get("events_per_epoch", len(train)))
    common = dict(batch_size=config.batch_size, only_theta0=only0, seed=config.seed)
    train_batches = AugmentedBatches(train, theta0_prior, theta1_prior, n_events=n_epoch, **common)
    val_batches = AugmentedBatches(val, theta0_prior, theta1_prior, n_events=max(n_epoch // 4, config.batch_size),
                                   **{**common, "seed": config.seed + 1})
    model.save(out)  # config first, so that a resumed run rebuilds the same architecture
    history = fit(model, loss, train_batches, val_batches, config, out, resume=resume, progress=progress)
    model.to("cpu").save(out)
    log.info("saved %s estimator (%s, %s head) to %s after %d epochs", encoder, method, head, out, len(history))
    (out / "train_options.json").write_text(json.dumps({"config": config.__dict__, "options": data_options}, indent=2, default=str))
    return model


def _train_bdt(sample, train, val, theta0_prior, theta1_prior, reference, data, method, out, config, options,
               data_options):
    """CARL with LightGBM (:class:`estimators.bdt.BDTEstimator`): one fit on a fixed draw of augmented events.

    ``events_per_epoch`` (default: the training split's size) events are drawn once for training and a quarter
    as many for validation, from the same :class:`~lfi.augment.AugmentedBatches` the networks use; the epoch
    settings of ``config`` do not apply (LightGBM stops early on the validation log-loss). ``history.json``
    holds the per-round log-loss.
    """
    from estimators.bdt import BDTEstimator, parse_bdt_options
    from lfi.augment import AugmentedBatches

    if data_options.get("theta1") == "prior":
        raise ValueError("the bdt estimator needs θ1 fixed at the reference (drop theta1=prior)")
    hyper = {"seed": config.seed, **parse_bdt_options(options)}
    metadata = {"method": method, "parameters": sample.parameters, "reference": reference.tolist(),
                "observables": sorted(sample.observables), "train_file": str(data)}
    model = BDTEstimator(n_objects=sample.momenta.shape[1], n_globals=len(sample.global_names),
                         n_parameters=sample.n_parameters, metadata=metadata, **hyper)
    n_train = int(data_options.get("events_per_epoch", len(train)))
    batch = max(config.batch_size, 4096)
    common = dict(batch_size=min(batch, n_train), seed=config.seed)
    train_batches = AugmentedBatches(train, theta0_prior, theta1_prior, n_events=n_train, **common)
    n_val = max(n_train // 4, 2)
    val_batches = AugmentedBatches(val, theta0_prior, theta1_prior, n_events=n_val,
                                   **{**common, "batch_size": min(batch, n_val), "seed": config.seed + 1})
    model.fit_carl(train_batches, val_batches)
    out = Path(out)
    model.save(out)
    (out / "history.json").write_text(json.dumps(model.history, indent=2))
    (out / "train_options.json").write_text(json.dumps({"config": config.__dict__, "options": data_options}, indent=2,
                                                       default=str))
    log.info("saved bdt estimator (%s, %d rounds, best %d) to %s", method, len(model.history),
             model.booster.best_iteration, out)
    return model
