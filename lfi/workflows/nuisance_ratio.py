"""``lfi nuisance-train``: learn the nuisance factors f̂(x) of a sample's stored variations (docs/statistics.md §16),
and load them for ``lfi limits`` and ``lfi coverage`` (``--nuisance-model DIR``)."""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping, Sequence

import numpy as np

from lfi.events import EventSample

__all__ = ["train_nuisance_ratio", "load_nuisance_ratio", "closure_table", "profiling_models"]

log = logging.getLogger("lfi.limits")


def train_nuisance_ratio(data: str | os.PathLike, out: str | os.PathLike, *, nuisances: Sequence[str] = ("all",),
                         options: Mapping[str, Any] | None = None, validation: float = 0.25, seed: int = 0):
    """Fit :class:`estimators.nuisance_ratio.NuisanceRatio` on the stored variations of ``data`` and save it.

    Parameters
    ----------
    data : path-like
        An event file with nuisance variations (format version 2).
    out : path-like
        The model directory (must not hold a finished model of another kind).
    nuisances, options, validation, seed
        As :meth:`estimators.nuisance_ratio.NuisanceRatio.fit`.

    Returns
    -------
    NuisanceRatio
        The saved model; its ``metadata`` records the file and the closure table (:func:`closure_table`).
    """
    from estimators.nuisance_ratio import NuisanceRatio
    from lfi.workflows.limits_checks import check_out_dir

    out = check_out_dir(out)
    sample = EventSample.load(data)
    model = NuisanceRatio.fit(sample, nuisances, validation=validation, seed=seed, options=options)
    model.metadata |= {"data": str(data), "closure": closure_table(model, sample)}
    out.mkdir(parents=True, exist_ok=True)
    model.save(out)
    return model


def load_nuisance_ratio(directory: str | os.PathLike):
    """The nuisance model saved in ``directory`` (one clear line if it is missing or of another kind)."""
    from estimators.nuisance_ratio import NuisanceRatio

    return NuisanceRatio.load(directory)


def profiling_models(samples: Sequence[EventSample], nuisances: Sequence[str] = (),
                     normalisations: Mapping[str, float] | None = None,
                     nuisance_model: str | os.PathLike | None = None) -> list:
    """The nuisance model (:class:`lfi.limits.nuisance.NuisanceModel`) of each sample: stored variations by name,
    normalisations per process, or the learned factors of ``nuisance_model`` (a directory of ``lfi nuisance-train``)
    evaluated on the sample's events (:func:`lfi.evaluate_profiled.nuisance_model_for`)."""
    from lfi.evaluate_profiled import nuisance_model_for

    learned = None if nuisance_model is None else load_nuisance_ratio(nuisance_model)
    return [nuisance_model_for(sample, nuisances, normalisations, learned) for sample in samples]


def closure_table(model, sample: EventSample) -> dict[str, dict[str, float]]:
    """Per variation benchmark: the stored σ_variation/σ_nominal against the learned Σ_e w_e f̂(x_e) / Σ_e w_e on
    the same events, and the weighted standard deviation of log f̂ (its shape effect). The two ratios agree when
    the classifier is calibrated (the learned factor is a conditional mean of the stored ones); on the training
    file this is a closure check, not a test on independent events."""
    nominal, _, _ = sample.nuisance_variations()
    logs = model.log_factors(sample)
    table = {}
    for benchmark, log_f in logs.items():
        stored = sample.weights[:, sample.benchmark_index(benchmark)].sum() / nominal.sum()
        mean = np.average(log_f, weights=nominal)
        table[benchmark] = {"stored": float(stored), "learned": float(nominal @ np.exp(log_f) / nominal.sum()),
                            "shape_std": float(np.sqrt(np.average((log_f - mean) ** 2, weights=nominal)))}
    return table
