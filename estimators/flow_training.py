"""Training a :class:`estimators.flow.FlowEstimator` from a :class:`lfi.train.TrainingSetup` by NDE or SCANDAL.

θ0 is drawn from the training prior and events at θ0 in proportion to their morphed weights, exactly as for
the ratio methods (:class:`lfi.augment.AugmentedBatches`, every event at θ0: ``only_theta0``); the loss is
−log p̂(x|θ0), plus α·‖∇θ log p̂(x|θ0) − t(x, z|θ0)‖² for SCANDAL (:mod:`lfi.train.losses`). The loop,
checkpoints, resume and early stopping are :func:`lfi.train.fit`'s, via :func:`estimators.network_training.fit_and_save`.
"""

from __future__ import annotations

import torch

from estimators.network_training import fit_and_save, resumed_model_config
from lfi.augment import AugmentedBatches
from lfi.errors import OptionError
from lfi.train.losses import get_loss
from lfi.train.methods import DENSITY
from lfi.train.setup import TrainingSetup

__all__ = ["train_flow", "default_observables", "DEFAULT_OBSERVABLES"]

#: Default observables by ``sample.metadata["simulator"]``: a set without exact functional relations (the toy's
#: pt_j2 = 0.6·pt_j1 and m_jj(pt_j1, Δφ, Δη) would put the density on a lower-dimensional surface).
DEFAULT_OBSERVABLES = {
    "toy": ("pt_j1", "delta_phi_jj", "delta_eta_jj"),
    "wbf": ("pt_j1", "pt_j2", "delta_eta_jj", "delta_phi_jj", "m_4l", "pt_4l", "m_z1", "m_z2"),
}


def train_flow(cls, setup: TrainingSetup, hyper: dict):
    """Build (or, resuming, rebuild) a flow of class ``cls`` with the typed hyper-parameters ``hyper``
    (:func:`estimators.flow.parse_flow_options`), train it on ``setup`` and save it in ``setup.out``.

    Raises
    ------
    OptionError
        A method other than ``nde``/``scandal``, a head option or ``theta1=prior`` (they do not apply to a
        density), an unknown flow option or observable, or zuko missing.
    """
    if setup.method not in DENSITY:
        raise OptionError(f"the flow estimator trains nde or scandal; --method {setup.method} needs a network or the bdt")
    unused = setup.options.head.given() + (["theta1"] if setup.options.data.theta1 != "reference" else [])
    if unused:
        raise OptionError(f"option {unused[0]} does not apply to the flow (it has no head and models p(x|θ0) alone)")
    loss = get_loss(setup.method, **setup.options.method.loss_arguments())
    config, sample = setup.config, setup.sample
    saved = resumed_model_config(setup)
    if saved is not None:
        model = cls(**saved)  # weights and scalings come from the checkpoint
    else:
        hyper = dict(hyper)
        observables = hyper.pop("observables", None) or default_observables(sample)
        torch.manual_seed(config.seed)  # reproducible initial weights
        model = cls(observables=observables, n_parameters=sample.n_parameters, metadata=setup.metadata(), **hyper)
        model.fit_scaling(model.observables_of(setup.train), sample.benchmark_theta.min(axis=0),
                          sample.benchmark_theta.max(axis=0))
    n_epoch = setup.events_per_epoch
    common = dict(batch_size=config.batch_size, only_theta0=True, seed=config.seed, observables=model.observables)
    train_batches = AugmentedBatches(setup.train, setup.theta0_prior, setup.theta1_prior, n_events=n_epoch, **common)
    val_batches = AugmentedBatches(setup.validation, setup.theta0_prior, setup.theta1_prior,
                                   n_events=max(n_epoch // 4, config.batch_size), **{**common, "seed": config.seed + 1})
    return fit_and_save(model, model.config, setup, loss, train_batches, val_batches)


def default_observables(sample) -> list[str]:
    """The observables a flow models when ``observables`` is not given: :data:`DEFAULT_OBSERVABLES` for the
    sample's simulator where listed, else every observable of the sample (sorted by name)."""
    listed = DEFAULT_OBSERVABLES.get(sample.metadata.get("simulator"), ())
    if listed and all(name in sample.observables for name in listed):
        return list(listed)
    return sorted(sample.observables)
