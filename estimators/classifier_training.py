"""Training a network event classifier from a :class:`lfi.train.classifier_setup.ClassifierSetup`: input
scaling from the training split, shuffled class-balanced batches, :func:`lfi.train.fit` with cross-entropy or
focal loss, then save (``config.json``, ``weights.pt`` as for every network)."""

from __future__ import annotations

import numpy as np
import torch

from estimators.encoders import parse_options
from estimators.network_training import options_as_text
from lfi.train.distributed import is_main_process
from lfi.train.class_batches import ClassBatches
from lfi.train.losses import get_loss
from lfi.train.trainer import CHECKPOINT_FILE, fit, resolve_device
from lfi.errors import OptionError

__all__ = ["train_classifier_network"]


def train_classifier_network(cls, setup):
    """Build a network of class ``cls`` with a two-class ``classifier`` head, train it and save it; returns it.

    A directory that already holds a finished model or a checkpoint is refused (``lfi classify`` skips
    finished seeds itself).
    """
    config, out, events = setup.config, setup.out, setup.events
    resolve_device(config.device)
    if (out / CHECKPOINT_FILE).exists():
        raise OptionError(f"{out} holds an unfinished run ({CHECKPOINT_FILE}); remove it or pick another --out")
    loss = get_loss(setup.loss, focal_alpha=setup.focal_alpha, focal_gamma=setup.focal_gamma)
    encoder_config = {"n_objects": events.momenta.shape[1], "n_globals": events.globals_.shape[1],
                      **parse_options(setup.estimator, options_as_text(setup.options))}
    torch.manual_seed(config.seed)
    model = cls(setup.estimator, encoder_config, "classifier", {"n_classes": 2}, setup.metadata())
    train = setup.train
    model.encoder.fit_input_scaling(torch.from_numpy(events.momenta[train]),
                                    torch.from_numpy(events.types[train].astype(np.int64)),
                                    torch.from_numpy(events.globals_[train]))
    train_batches = ClassBatches(events, train, setup.train_weights, batch_size=config.batch_size, seed=config.seed)
    val_batches = ClassBatches(events, setup.validation, setup.validation_weights, batch_size=config.batch_size,
                               shuffle=False)
    fit(model, loss, train_batches, val_batches, config, out, progress=setup.progress)
    if is_main_process():  # under torchrun, rank 0 alone writes
        (out / CHECKPOINT_FILE).unlink(missing_ok=True)  # finished: the saved model is what counts
        model.to("cpu").save(out)
    return model
