"""Jet–parton assignment from files to files (docs/assignment.md §4): train an assigner on events with
``jet_partons`` truth (the attention head or the χ² fit), apply it to an event file, adding the candidates'
kinematics and the probabilities as observables.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from lfi.errors import ModelError, ModelNotFoundError, OptionError

__all__ = ["train_assigner", "load_assigner", "assign_events", "assign_file", "CHI2_ESTIMATOR"]

CHI2_ESTIMATOR = "chi2"
"""The ``--estimator`` name of the χ² permutation fit."""


def train_assigner(data, estimator: str, topology: str, out: str | os.PathLike, *,
                   options: dict | None = None, config=None, max_jets: int = 10, progress: bool = True):
    """Train (``part``, …) or fit (``chi2``) an assigner on events with ``jet_partons`` truth; save it.

    ``data`` is an event file or an :class:`lfi.events.EventSample`.

    Returns
    -------
    AssignmentModel or Chi2Assignment
    """
    from lfi.assignment.chi2 import Chi2Assignment
    from lfi.assignment.topology import JET_TRUTH_KEY
    from lfi.events import EventSample

    sample = data if isinstance(data, EventSample) else EventSample.load(data)
    if JET_TRUTH_KEY not in sample.truth_events:
        raise OptionError(f"{data if sample is not data else 'the events'}: no {JET_TRUTH_KEY!r} truth in the events (simulate tth or ttbar to get it)")
    if estimator == CHI2_ESTIMATOR:
        if options:
            raise OptionError(f"--estimator chi2 takes no --option (got {', '.join(options)})")
        fitted = Chi2Assignment.fit(topology, sample.momenta, sample.types, sample.globals_, sample.global_names,
                                    sample.truth_events[JET_TRUTH_KEY], max_jets=max_jets)
        fitted.save(out)
        return fitted
    from estimators.assignment_training import train_assignment

    return train_assignment(sample, topology, estimator, out, options=options, config=config, progress=progress)


def load_assigner(model: str | os.PathLike):
    """A saved assigner directory: an :class:`~estimators.assignment.AssignmentModel` or a
    :class:`~lfi.assignment.chi2.Chi2Assignment`, by the ``kind`` in its ``config.json``."""
    config_file = Path(model) / "config.json"
    if not config_file.is_file():
        raise ModelNotFoundError(f"{model}: no config.json (not a saved assigner; train one with lfi assign-train)")
    try:
        kind = json.loads(config_file.read_text()).get("kind")
    except (ValueError, AttributeError) as err:
        raise ModelError(f"{config_file}: unreadable ({type(err).__name__})") from None
    from lfi.assignment.chi2 import CHI2_KIND, Chi2Assignment

    if kind == CHI2_KIND:
        return Chi2Assignment.load(model)
    from estimators.assignment import ASSIGNMENT_KIND, AssignmentModel

    if kind == ASSIGNMENT_KIND:
        return AssignmentModel.load(model)
    raise ModelError(f"{config_file}: kind {kind!r} is not an assigner ({CHI2_KIND} or {ASSIGNMENT_KIND})")


def assign_events(assigner, sample, *, device: str = "cpu") -> dict:
    """Run an assigner on a sample.

    Returns
    -------
    dict
        ``topology`` (Topology), ``assignment`` (list of (N, rank) slots), and the per-event observables:
        the candidates' kinematics (:func:`lfi.assignment.candidates.candidate_observables`), then
        ``p_assign_<particle>`` and ``p_detect_<particle>`` (attention model) or ``chi2`` (χ² fit) under
        ``observables``.
    """
    from lfi.assignment.candidates import candidate_observables
    from lfi.assignment.chi2 import Chi2Assignment
    from lfi.assignment.topology import topology as topology_named

    top = topology_named(assigner.topology if isinstance(assigner, Chi2Assignment) else assigner.topology_name)
    if isinstance(assigner, Chi2Assignment):
        assignment, chi2 = assigner.assign(sample.momenta, sample.types, sample.globals_, sample.global_names)
        extra = {"chi2": np.where(np.isfinite(chi2), chi2, 0.0)}
    else:
        n_slots = assigner.encoder.n_objects
        if sample.momenta.shape[1] > n_slots:
            raise OptionError(f"the events have {sample.momenta.shape[1]} object slots, the model was trained on "
                              f"{n_slots}")
        out = assigner.predict(sample.momenta, sample.types, sample.globals_, device=device)
        assignment = out["assignment"]
        extra = {}
        for k, particle in enumerate(top.particles):
            extra[f"p_assign_{particle.name}"] = out["assignment_probability"][:, k]
            extra[f"p_detect_{particle.name}"] = out["detection_probability"][:, k]
    observables = candidate_observables(sample.momenta, sample.types, sample.globals_, list(sample.global_names), top,
                                        assignment)
    observables.update(extra)
    return {"topology": top, "assignment": assignment,
            "observables": {k: np.asarray(v, np.float64) for k, v in observables.items()}}


def assign_file(data: str | os.PathLike, model: str | os.PathLike, out: str | os.PathLike, *, prefix: str = "",
                as_globals: bool = False, device: str = "cpu") -> dict:
    """Add an assigner's observables (names with ``prefix``) to an event file, written to ``out`` atomically.

    With ``as_globals`` they are also appended to the event-level inputs (``globals``), which every encoder and the
    ``bdt`` read: a classifier trained on the new file sees the assignment ("assignment + BDT").

    Returns
    -------
    dict
        ``observables`` (the names added), ``events``, ``assigned`` (fraction of events with every particle
        assigned).

    Raises
    ------
    OptionError
        When an added name exists in the file (choose a ``prefix``).
    """
    from lfi.events import EventSample

    if Path(out).resolve() == Path(data).resolve():
        raise OptionError(f"--out {out} is the input file; write to a new file")
    assigner = load_assigner(model)
    sample = EventSample.load(data)
    result = assign_events(assigner, sample, device=device)
    added = {f"{prefix}{k}": v for k, v in result["observables"].items()}
    clash = sorted(set(added) & set(sample.observables))
    if clash:
        raise OptionError(f"{data}: already has the observable(s) {', '.join(clash)}; pass --prefix to add them "
                          "under other names")
    metadata = {**sample.metadata, "assignment": {"model": str(model), "prefix": prefix,
                                                  "topology": result["topology"].name}}
    extra = {}
    if as_globals:
        clash = sorted(set(added) & set(sample.global_names))
        if clash:
            raise OptionError(f"{data}: already has the global(s) {', '.join(clash)}; pass --prefix")
        columns = np.column_stack([added[k] for k in added]).astype(sample.globals_.dtype)
        extra = {"globals_": np.concatenate([sample.globals_, columns], axis=1),
                 "global_names": [*sample.global_names, *added]}
    replace(sample, observables={**sample.observables, **added}, metadata=metadata, **extra).save(out)
    assigned = np.all([np.all(a >= 0, axis=1) for a in result["assignment"]], axis=0)
    return {"observables": list(added), "events": len(sample), "assigned": float(assigned.mean()) if len(sample) else 0.0}
