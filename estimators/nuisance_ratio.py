"""The learned nuisance ratio: per stored variation, a classifier of the varied against the nominal weights gives
the detector-level factor f̂(x) = E[w_variation / w_nominal | x] (docs/statistics.md §16).

A stored variation weight w^±_e = w_e·r^±(x_e, z_e) depends on the whole event history z (the shower, the partons),
while a likelihood of the observed x needs the factor as a function of x alone. Its best estimate is the
conditional mean E[r^±|x] = p^±(x)/p(x)·σ^±/σ: the likelihood ratio of the varied and the nominal weighted
densities, totals included. A two-class LightGBM classifier (:class:`estimators.bdt.BDTEstimator`) fit on every
event twice, once with its nominal weight (class 0) and once with its varied weight (class 1), has the log-odds of
exactly that ratio as its margin (the likelihood-ratio trick with weighted classes; Cranmer, Pavez, Louppe,
arXiv:1506.02169). From the two log-factors of each nuisance the exponential interpolation of
:mod:`lfi.limits.nuisance` follows as for stored factors: a(x) = ½ log(f̂⁺/f̂⁻), b(x) = ½ log(f̂⁺f̂⁻) (a = log f̂⁺,
b = 0 for a one-sided nuisance). Because f̂ depends on x only, it applies to any sample with the same objects,
observed events included.

Saved layout of a directory: one bdt directory per variation benchmark (``<benchmark>/config.json``,
``<benchmark>/model.txt``), then ``config.json`` with ``"kind": "nuisance_ratio"``, the nuisances and their
variations, and metadata; ``config.json`` is written last, so a directory without it is unfinished.

Shapes: N events, K nuisances. Weights in pb.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from estimators.bdt import BDTEstimator, parse_bdt_options
from lfi.errors import EventFileError, ModelError, OptionError, UnknownNameError, first_line
from lfi.files import atomic_write_text
from lfi.limits.nuisance import NuisanceModel
from lfi.train.progress import require_finished

__all__ = ["NuisanceRatio", "KIND"]

log = logging.getLogger("estimators.nuisance_ratio")

KIND = "nuisance_ratio"
_CONFIG = "config.json"


class NuisanceRatio:
    """Learned per-event nuisance factors f̂^±_k(x) of K nuisances.

    Parameters
    ----------
    variations : dict of str to (str, str or None)
        Nuisance name → benchmark names of its ν = +1 and ν = −1 variation (None: one-sided).
    classifiers : dict of str to BDTEstimator
        One fitted two-class bdt per variation benchmark.
    metadata : dict, optional
        JSON-serialisable facts (training file, events, per-variation validation loss).
    """

    kind = KIND

    def __init__(self, variations: Mapping[str, tuple[str, str | None]], classifiers: Mapping[str, BDTEstimator],
                 metadata: dict | None = None):
        self.variations = {name: (up, down) for name, (up, down) in variations.items()}
        self.classifiers = dict(classifiers)
        self.metadata = dict(metadata or {})
        needed = {b for pair in self.variations.values() for b in pair if b is not None}
        if needed != set(self.classifiers):
            raise ValueError(f"need one classifier per variation benchmark {sorted(needed)}, got "
                             f"{sorted(self.classifiers)}")

    @property
    def names(self) -> list[str]:
        """The nuisances, in order."""
        return list(self.variations)

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(cls, sample, nuisances: Sequence[str] = ("all",), *, validation: float = 0.25, seed: int = 0,
            options: Mapping[str, Any] | None = None) -> "NuisanceRatio":
        """Fit one classifier per variation of the named stored nuisances of ``sample``.

        Parameters
        ----------
        sample : lfi.events.EventSample
            Events with nuisance variations (format version 2).
        nuisances : sequence of str
            Names of stored nuisances, or ``["all"]``.
        validation : float
            Fraction of the events (both copies of each) kept for early stopping, in (0, 1).
        seed : int
            Seed of the split and of LightGBM.
        options : mapping, optional
            bdt hyper-parameters (:func:`estimators.bdt.bdt_options`: num_leaves, num_boost_round, learning_rate,
            min_data_in_leaf, pair, …); strings are converted. One LightGBM thread by default: the fits are small,
            and two OpenMP threads on a busy 2-core machine ran 20× slower than one.

        Raises
        ------
        lfi.errors.EventFileError
            The sample stores no nuisances, or a variation has no nominal.
        lfi.errors.UnknownNameError
            A nuisance the sample does not have (the message lists those it has).
        lfi.errors.OptionError
            A bad validation fraction or option.
        """
        names = _resolve(sample, nuisances)
        if not 0.0 < float(validation) < 1.0:
            raise OptionError(f"validation must lie in (0, 1), got {validation!r}")
        settings = {"seed": int(seed), "num_threads": 1, **parse_bdt_options(dict(options or {}))}
        nominal, up, down = sample.nuisance_variations()
        if np.any(nominal <= 0):
            raise EventFileError(f"{int(np.sum(nominal <= 0))} events have a non-positive nominal weight: the nuisance "
                                 "ratio is learned relative to positive nominal weights")
        template = BDTEstimator(n_objects=sample.momenta.shape[1], n_globals=sample.globals_.shape[1], **settings)
        rows = template.columns(sample.momenta, sample.types, sample.globals_)
        is_val = np.random.default_rng(int(seed)).random(len(sample)) < float(validation)
        if is_val.all() or not is_val.any():
            raise OptionError(f"{len(sample)} events are too few to keep a validation fraction of {validation}")
        scale = 1.0 / nominal.mean()  # LightGBM's leaf sums need weights of order 1; the ratio keeps its totals
        variations, classifiers, losses = {}, {}, {}
        for name in names:
            k = sample.nuisance_names.index(name)
            up_index, down_index = (int(i) for i in sample.nuisance_benchmarks[k])
            up_name = sample.benchmark_names[up_index]
            down_name = sample.benchmark_names[down_index] if down_index >= 0 else None
            variations[name] = (up_name, down_name)
            for benchmark, varied in ((up_name, up[:, k]), (down_name, down[:, k])):
                if benchmark is None:
                    continue
                log.info("nuisance %s: learning the ratio of %s to the nominal on %d events", name, benchmark,
                         len(sample))
                model = BDTEstimator(n_objects=template.n_objects, n_globals=template.n_globals, **settings,
                                     metadata={"nuisance": name, "variation": benchmark})
                classifiers[benchmark] = _fit_one(model, rows, nominal * scale, varied * scale, is_val)
                losses[benchmark] = min((h["val_loss"] for h in model.history), default=None)  # the kept round's
        metadata = {"events": len(sample), "validation": float(validation), "seed": int(seed),
                    "options": dict(settings), "validation_loss": losses}
        return cls(variations, classifiers, metadata)

    # ------------------------------------------------------------------ prediction
    def log_factors(self, sample) -> dict[str, np.ndarray]:
        """log f̂(x) of every variation benchmark for every event of ``sample``, each shape (N,)."""
        rows = next(iter(self.classifiers.values())).columns(sample.momenta, sample.types, sample.globals_)
        return {benchmark: model.binary_margin(rows) for benchmark, model in self.classifiers.items()}

    def nuisance_model(self, sample, names: Sequence[str] = ("all",)) -> NuisanceModel:
        """The exponential interpolation of the learned factors on the events of ``sample``.

        Parameters
        ----------
        names : sequence of str
            Which of the learned nuisances, or ``["all"]``.

        Raises
        ------
        lfi.errors.UnknownNameError
            A nuisance this model did not learn (the message lists those it did).
        """
        names = self.names if list(names) == ["all"] else list(dict.fromkeys(names))
        unknown = [n for n in names if n not in self.variations]
        if unknown:
            raise UnknownNameError(f"--nuisance: the nuisance model has no {unknown[0]!r}; it learned "
                                   f"{', '.join(self.names)}")
        logs = self.log_factors(sample)
        linear, quadratic = np.empty((len(sample), len(names))), np.empty((len(sample), len(names)))
        for k, name in enumerate(names):
            up, down = self.variations[name]
            if down is None:
                linear[:, k], quadratic[:, k] = logs[up], 0.0
            else:
                linear[:, k], quadratic[:, k] = 0.5 * (logs[up] - logs[down]), 0.5 * (logs[up] + logs[down])
        return NuisanceModel(tuple(names), linear, quadratic)

    # ------------------------------------------------------------------ files
    def save(self, directory: str | os.PathLike) -> Path:
        """Write one bdt directory per variation, then ``config.json`` (each file atomically)."""
        directory = Path(directory)
        for benchmark, model in self.classifiers.items():
            model.save(directory / benchmark)
        config = {"kind": KIND, "nuisances": {name: list(pair) for name, pair in self.variations.items()},
                  "metadata": self.metadata}
        atomic_write_text(directory / _CONFIG, json.dumps(config, indent=2))
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "NuisanceRatio":
        """Read a saved nuisance model.

        Raises
        ------
        lfi.errors.ModelNotFoundError
            No such directory, or no ``config.json`` (an unfinished or foreign directory).
        lfi.errors.ModelError
            A config of another kind, or a damaged one.
        """
        directory = Path(directory)
        require_finished(directory, (_CONFIG,))
        try:
            config = json.loads((directory / _CONFIG).read_text())
            if config.get("kind") != KIND:
                raise ValueError(f"kind is {config.get('kind')!r}, not {KIND!r} (train one with lfi nuisance-train)")
            variations = {name: (up, down) for name, (up, down) in config["nuisances"].items()}
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise ModelError(f"{directory / _CONFIG}: not a nuisance model ({first_line(err)})") from None
        benchmarks = [b for pair in variations.values() for b in pair if b is not None]
        return cls(variations, {b: BDTEstimator.load(directory / b) for b in benchmarks}, config.get("metadata"))


def _resolve(sample, nuisances: Sequence[str]) -> list[str]:
    if not sample.nuisance_names:
        raise EventFileError("this sample stores no nuisance variations (simulate with --nuisances, or import a "
                             "MadMiner file with nuisance benchmarks)")
    names = list(sample.nuisance_names) if list(nuisances) == ["all"] else list(dict.fromkeys(nuisances))
    unknown = [n for n in names if n not in sample.nuisance_names]
    if unknown or not names:
        raise UnknownNameError(f"--nuisance: no nuisance {(unknown or [''])[0]!r} in the sample; it has "
                               f"{', '.join(sample.nuisance_names)}")
    return names


def _fit_one(model: BDTEstimator, rows: np.ndarray, nominal: np.ndarray, varied: np.ndarray,
             is_val: np.ndarray) -> BDTEstimator:
    """Class 0: every event with its nominal weight; class 1: the same events with their varied weight."""
    def doubled(mask):
        x = np.concatenate([rows[mask], rows[mask]])
        y = np.concatenate([np.zeros(mask.sum()), np.ones(mask.sum())])
        return x, y, np.concatenate([nominal[mask], varied[mask]])

    x, y, w = doubled(~is_val)
    xv, yv, wv = doubled(is_val)
    return model.fit_binary_columns(x, y, xv, yv, weights=w, val_weights=wv)
