"""The ``bdt`` estimator: LightGBM gradient-boosted trees on flattened object lists.

Not a torch module: the trees see the same inputs as the networks, computed by :mod:`estimators.features`
on CPU tensors and flattened into one row per event (:meth:`BDTEstimator.columns`). Two tasks only:

- CARL (:meth:`BDTEstimator.fit_carl`): θ0 is appended as extra columns, θ1 is fixed at the reference point
  θ_ref, label y = 1 for events drawn at θ1. With ŝ = sigmoid(margin) = P(y = 1|x, θ0) the CARL convention
  ŝ = 1/(1 + r̂) gives log r̂(x|θ0, θ_ref) = log((1 − ŝ)/ŝ) = −margin exactly (no exp/log round trip).
- classification (:meth:`BDTEstimator.fit_classifier`): label = process index.

Saved layout: ``config.json`` (``"encoder": "bdt"``, ``encoder_config`` with the hyper-parameters below,
``metadata``), ``model.txt`` (the LightGBM model as text), ``history.json`` (written by the pipeline). Each
file is written atomically (temp file + rename). :meth:`BDTEstimator.load` (or :func:`estimators.load`) reads it back.
It implements :class:`lfi.protocols.RatioEstimator` for CARL fits.

Shapes: N events, P object slots, G given globals, D parameters, F flat columns.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from lfi.errors import ModelError, OptionError, UnknownOptionError, first_line
from lfi.files import atomic_write_text
from lfi.train.progress import require_finished
from lfi.objects import N_TYPES

__all__ = ["BDTEstimator", "bdt_options", "parse_bdt_options", "MODEL_FILE", "PAIRS"]

log = logging.getLogger("estimators.bdt")

CONFIG_FILE, MODEL_FILE = "config.json", "model.txt"
#: Valid values of the ``pair`` option.
PAIRS = ("none", "mass,delta_r")
_N_OBJECT_FEATURES = 6 + N_TYPES - 1  # len(estimators.features.OBJECT_FEATURES): 6 continuous, one-hot real types
_N_DERIVED_GLOBALS = 2  # len(estimators.features.DERIVED_GLOBALS)


class BDTEstimator:
    """LightGBM on flattened objects (+ globals, + optional pair features, + θ0 for CARL).

    Parameters
    ----------
    n_objects : int
        Object slots per event; events with more real objects are truncated by p_T (with a warning), events
        with fewer slots are zero-padded.
    n_globals : int
        Given event-level globals G (e.g. MET, MET φ).
    pair : {"none", "mass,delta_r"}
        Add m_ij (GeV) and ΔR_ij of every pair i < j of slots as extra columns.
    n_parameters : int
        D, the number of θ0 columns of a CARL model (set by :meth:`fit_carl`; 0 for a classifier).
    num_leaves, num_boost_round, learning_rate, early_stopping_rounds, min_data_in_leaf, feature_fraction,
    num_threads, seed :
        LightGBM parameters (small defaults: 31 leaves, ≤ 400 rounds at rate 0.1, stop after 20 rounds
        without validation improvement).
    metadata : dict, optional
        JSON-serialisable extras (method, parameter names, reference point).
    """

    encoder_name = "bdt"

    def __init__(self, *, n_objects: int, n_globals: int, pair: str = "none", n_parameters: int = 0,
                 num_leaves: int = 31, num_boost_round: int = 400, learning_rate: float = 0.1,
                 early_stopping_rounds: int = 20, min_data_in_leaf: int = 50, feature_fraction: float = 1.0,
                 num_threads: int = 2, seed: int = 0, metadata: dict | None = None):
        pair = ",".join(p.strip() for p in str(pair).split(",")) if pair else "none"
        if pair not in PAIRS:
            raise OptionError(f"unknown pair={pair!r} for bdt; valid: {', '.join(PAIRS)}")
        if int(n_objects) < 1 or int(n_globals) < 0:
            raise OptionError(f"bdt needs n_objects >= 1 and n_globals >= 0, got {n_objects}, {n_globals}")
        self.n_objects, self.n_globals, self.pair = int(n_objects), int(n_globals), pair
        self.n_parameters = int(n_parameters)
        self.num_leaves, self.num_boost_round = int(num_leaves), int(num_boost_round)
        self.learning_rate, self.early_stopping_rounds = float(learning_rate), int(early_stopping_rounds)
        self.min_data_in_leaf, self.feature_fraction = int(min_data_in_leaf), float(feature_fraction)
        self.num_threads, self.seed = int(num_threads), int(seed)
        self.metadata = dict(metadata or {})
        self.task: str | None = None  # "carl" or "classifier" once fitted
        self.booster = None
        self.history: list[dict[str, float]] = []

    # ------------------------------------------------------------------ configuration
    @property
    def config(self) -> dict[str, Any]:
        """JSON-able hyper-parameters (the keyword arguments of the constructor without ``metadata``)."""
        keys = [k for k in _options() if k != "metadata"]
        return {k: getattr(self, k) for k in keys}

    @property
    def column_names(self) -> list[str]:
        """Names of the F feature columns of :meth:`columns` (without θ0)."""
        from estimators.features import DERIVED_GLOBALS, OBJECT_FEATURES

        names = [f"o{i}_{f}" for i in range(self.n_objects) for f in OBJECT_FEATURES]
        names += [f"global_{g}" for g in range(self.n_globals)] + list(DERIVED_GLOBALS)
        if self.pair != "none":
            names += [f"{f}_{i}_{j}" for i in range(self.n_objects) for j in range(i + 1, self.n_objects)
                      for f in self.pair.split(",")]
        return names

    @property
    def n_columns(self) -> int:
        """F = 13·P + G + 2 (+ 2·P(P − 1)/2 with pair features)."""
        n_pairs = self.n_objects * (self.n_objects - 1) // 2 if self.pair != "none" else 0
        return _N_OBJECT_FEATURES * self.n_objects + self.n_globals + _N_DERIVED_GLOBALS + 2 * n_pairs

    # ------------------------------------------------------------------ inputs
    def columns(self, momenta, types, globals_) -> np.ndarray:
        """Flat per-event feature rows, the BDT's view of the same inputs the networks get.

        Parameters
        ----------
        momenta : array_like or Tensor, shape (N, P, 4)
            (E, px, py, pz) in GeV, zero-padded.
        types : array_like or Tensor, shape (N, P), int
            Object types (0 = padding), see :data:`lfi.objects.OBJECT_TYPES`.
        globals_ : array_like or Tensor, shape (N, G)

        Returns
        -------
        ndarray, shape (N, F), float32
            ``object_features`` of the ``n_objects`` slots flattened slot by slot (13 each), then
            ``global_features`` (G + 2: the globals, ln(1 + H_T/GeV), number of objects), then — with
            ``pair="mass,delta_r"`` — (m_ij in GeV, ΔR_ij) for every pair i < j in upper-triangle order.
        """
        import torch

        from estimators.features import global_features, object_features, pair_features

        momenta = torch.as_tensor(np.asarray(momenta), dtype=torch.float32)
        types = torch.as_tensor(np.asarray(types)).long()
        globals_ = torch.as_tensor(np.asarray(globals_), dtype=torch.float32)
        if momenta.ndim != 3 or momenta.shape[-1] != 4 or types.shape != momenta.shape[:2]:
            raise ValueError(f"momenta must be (N, P, 4) and types (N, P), got {tuple(momenta.shape)}, {tuple(types.shape)}")
        if globals_.ndim != 2 or globals_.shape != (momenta.shape[0], self.n_globals):
            raise ValueError(f"globals_ must be (N, {self.n_globals}), got {tuple(globals_.shape)}")
        momenta, types = self._fit_slots(momenta, types)
        with torch.no_grad():
            parts = [object_features(momenta, types).flatten(1), global_features(momenta, types, globals_)]
            if self.pair != "none":
                pairs = pair_features(momenta, types, self.pair.split(","))  # (N, P, P, 2)
                i, j = torch.triu_indices(self.n_objects, self.n_objects, offset=1)
                parts.append(pairs[:, i, j, :].flatten(1))
            out = torch.cat(parts, dim=1).numpy().astype(np.float32, copy=False)
        assert out.shape[1] == self.n_columns
        return out

    def _fit_slots(self, momenta, types):
        """Truncate (by p_T, with a warning) or zero-pad the slot axis to ``n_objects``."""
        import torch

        n, p = types.shape
        if p > self.n_objects:
            real = types != 0
            if bool((real.sum(1) > self.n_objects).any()):
                log.warning("events with more than %d objects: keeping the %d of highest p_T", self.n_objects,
                            self.n_objects)
            pt = torch.sqrt(momenta[..., 1] ** 2 + momenta[..., 2] ** 2).masked_fill(~real, -1.0)
            keep = torch.sort(torch.argsort(pt, dim=1, descending=True)[:, : self.n_objects], dim=1).values
            momenta = torch.gather(momenta, 1, keep.unsqueeze(-1).expand(-1, -1, 4))
            types = torch.gather(types, 1, keep)
        elif p < self.n_objects:
            momenta = torch.cat([momenta, momenta.new_zeros(n, self.n_objects - p, 4)], dim=1)
            types = torch.cat([types, types.new_zeros(n, self.n_objects - p)], dim=1)
        return momenta, types

    def _rows(self, batches: Iterable[Mapping], label_key: str, with_theta: bool):
        """Feature rows, labels, θ1 (with ``with_theta``) and weights (when the batches carry ``weight``)."""
        xs, ys, theta1, weights = [], [], [], []
        for batch in batches:
            if "weight" in batch:
                weights.append(np.asarray(batch["weight"], np.float64))
            x = self.columns(batch["momenta"], batch["types"], batch["globals"])
            if with_theta:
                x = np.concatenate([x, np.asarray(batch["theta0"], np.float32)], axis=1)
                theta1.append(np.asarray(batch["theta1"], np.float64))
            xs.append(x)
            ys.append(np.asarray(batch[label_key]))
        if not xs:
            raise ValueError("bdt: no training batches")
        if weights and len(weights) != len(xs):
            raise ValueError("bdt: some batches carry weights and some do not")
        return (np.concatenate(xs), np.concatenate(ys), np.concatenate(theta1) if with_theta else None,
                np.concatenate(weights) if weights else None)

    # ------------------------------------------------------------------ training
    def _params(self, objective: str, **extra) -> dict:
        return {"objective": objective, "num_leaves": self.num_leaves, "learning_rate": self.learning_rate,
                "min_data_in_leaf": self.min_data_in_leaf, "feature_fraction": self.feature_fraction,
                "num_threads": self.num_threads, "seed": self.seed, "deterministic": True, "verbosity": -1, **extra}

    def _train(self, params: dict, x, y, xv, yv, metric: str, w=None, wv=None) -> "BDTEstimator":
        import lightgbm as lgb

        train_set = lgb.Dataset(x, label=y, weight=w, free_raw_data=True)
        val_set = lgb.Dataset(xv, label=yv, weight=wv, reference=train_set)
        record: dict = {}
        callbacks = [lgb.record_evaluation(record)]
        if self.early_stopping_rounds > 0:
            callbacks.append(lgb.early_stopping(self.early_stopping_rounds, verbose=False))
        self.booster = lgb.train({**params, "metric": metric}, train_set, num_boost_round=self.num_boost_round,
                                 valid_sets=[train_set, val_set], valid_names=["train", "val"], callbacks=callbacks)
        train_log, val_log = record["train"][metric], record["val"][metric]
        self.history = [{"round": i + 1, "train_loss": float(a), "val_loss": float(b)}
                        for i, (a, b) in enumerate(zip(train_log, val_log))]
        return self

    def fit_carl(self, train_batches: Iterable[Mapping], val_batches: Iterable[Mapping]) -> "BDTEstimator":
        """Fit the CARL classifier of events at θ0 (y = 0) against events at θ1 = θ_ref (y = 1).

        Parameters
        ----------
        train_batches, val_batches : iterable of dict
            Batches as yielded by :class:`lfi.augment.AugmentedBatches`: ``momenta`` (B, P, 4), ``types``
            (B, P), ``globals`` (B, G), ``theta0``, ``theta1`` (B, D), ``y`` (B,). θ1 must be the same point
            in every batch (the reference; it is stored as ``metadata["reference"]``).

        Returns
        -------
        BDTEstimator
            ``self``, with ``history`` = per-round binary log-loss on both sets (the best iteration is used).
        """
        x, y, t1, _ = self._rows(train_batches, "y", True)
        xv, yv, t1v, _ = self._rows(val_batches, "y", True)
        reference = t1[0]
        if not (np.allclose(t1, reference) and np.allclose(t1v, reference)):
            raise OptionError("bdt CARL needs θ1 fixed at one reference point (theta1=reference)")
        self.n_parameters = t1.shape[1]
        self.metadata.setdefault("reference", reference.tolist())
        self.task = "carl"
        return self._train(self._params("binary"), x, y.astype(np.float32), xv, yv.astype(np.float32), "binary_logloss")

    def fit_classifier(self, train_batches: Iterable[Mapping], val_batches: Iterable[Mapping], *,
                       label_key: str = "process") -> "BDTEstimator":
        """Fit a process classifier (label = integer process index, 2 or more classes).

        Parameters
        ----------
        train_batches, val_batches : iterable of dict
            ``momenta`` (B, P, 4), ``types`` (B, P), ``globals`` (B, G) and ``label_key`` (B,) integer labels;
            optional ``weight`` (B,) event weights (every batch or none).
        """
        x, y, _, w = self._rows(train_batches, label_key, False)
        xv, yv, _, wv = self._rows(val_batches, label_key, False)
        y, yv = y.astype(np.int64), yv.astype(np.int64)
        n_classes = int(max(y.max(), yv.max())) + 1
        if n_classes < 2 or y.min() < 0:
            raise ValueError(f"bdt classifier needs labels 0..K-1 with K >= 2, got {sorted(set(y.tolist()))[:5]}")
        if n_classes == 2:
            return self.fit_binary_columns(x, y, xv, yv, weights=w, val_weights=wv)
        self.n_parameters, self.task = 0, "classifier"
        return self._train(self._params("multiclass", num_class=n_classes), x, y, xv, yv, "multi_logloss", w, wv)

    def fit_binary_columns(self, x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, *,
                           weights: np.ndarray | None = None, val_weights: np.ndarray | None = None) -> "BDTEstimator":
        """Fit a two-class classifier on precomputed feature rows (:meth:`columns`), shapes (N, F) and (N,) labels
        0/1, with optional per-row weights. With weights, the margin estimates log(Σ_{y=1} w / Σ_{y=0} w) at x:
        the log ratio of the two weighted densities including their totals."""
        self.n_parameters, self.task = 0, "classifier"
        return self._train(self._params("binary"), x, y, x_val, y_val, "binary_logloss", weights, val_weights)

    # ------------------------------------------------------------------ prediction
    def _require(self, task: str) -> None:
        if self.booster is None:
            raise RuntimeError("this bdt is not fitted yet")
        if self.task != task:
            raise ValueError(f"this bdt was fitted for {self.task}, not {task}")

    def margin_from_columns(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Raw margin for precomputed columns ``x`` (N, F) and θ0 ``theta`` (N, D) or (D,); shape (N,)."""
        theta = np.broadcast_to(np.asarray(theta, np.float32), (len(x), self.n_parameters))
        best = self.booster.best_iteration or None
        return np.asarray(self.booster.predict(np.concatenate([x, theta], axis=1), raw_score=True,
                                               num_iteration=best), np.float64)

    def carl_log_ratio(self, momenta, types, globals_, theta) -> np.ndarray:
        """log r̂(x|θ, θ_ref) of a CARL fit, shape (N,), float64.

        Parameters
        ----------
        momenta, types, globals_ :
            As in :meth:`columns`.
        theta : array_like, shape (D,) or (N, D)
            The numerator point θ0; the denominator is the reference θ_ref of the fit.

        Notes
        -----
        ŝ = sigmoid(m) estimates P(y = 1|x) = 1/(1 + r), so log r̂ = log((1 − ŝ)/ŝ) = −m, exact for any margin.
        """
        self._require("carl")
        return -self.margin_from_columns(self.columns(momenta, types, globals_), theta)

    def predict_proba(self, momenta, types, globals_) -> np.ndarray:
        """Class probabilities of a classifier fit, shape (N, K)."""
        self._require("classifier")
        p = self.booster.predict(self.columns(momenta, types, globals_), num_iteration=self.booster.best_iteration or None)
        return np.column_stack([1 - p, p]) if p.ndim == 1 else p

    def signal_score(self, momenta, types, globals_) -> np.ndarray:
        """Signal log-odds (raw margin) of a two-class classifier fit for every event, shape (N,), float64."""
        return self.binary_margin(self.columns(momenta, types, globals_))

    def binary_margin(self, x: np.ndarray) -> np.ndarray:
        """Raw margin (log-odds of class 1) of a two-class classifier fit for precomputed rows ``x`` (N, F);
        shape (N,), float64."""
        self._require("classifier")
        raw = self.booster.predict(x, raw_score=True, num_iteration=self.booster.best_iteration or None)
        if np.ndim(raw) != 1:
            raise ValueError("the margin of one class needs a two-class classifier fit")
        return np.asarray(raw, np.float64)

    @property
    def size(self) -> dict[str, int]:
        """``{"trees": trees used, "leaves": their leaves}`` of a fitted model."""
        if self.booster is None:
            return {}
        used = self.booster.best_iteration or self.booster.num_trees()
        dump = self.booster.dump_model(num_iteration=used)["tree_info"]
        return {"trees": len(dump), "leaves": int(sum(t["num_leaves"] for t in dump))}

    # ------------------------------------------------------------------ the estimator protocol (lfi.protocols)
    @property
    def kind(self) -> str:
        """``ratio`` for a CARL fit, ``classifier`` for a process classifier."""
        return "ratio" if self.task == "carl" else "classifier"

    def grid_state(self, sample, *, device: str = "cpu") -> np.ndarray:
        """The flat input columns of every event, shape (N, F); the trees take θ as an input, so nothing else
        can be shared between grid points (``device`` is ignored: LightGBM runs on the CPU)."""
        self._require("carl")
        return self.columns(sample.momenta, sample.types, sample.globals_)

    def grid_log_density(self, state: np.ndarray, theta: np.ndarray, *, chunk_rows: int = 2_000_000) -> np.ndarray:
        """log r̂(x_n|θ_t, θ_ref) = −margin for θ of shape (T, D); shape (N, T), float64.

        The grid costs N·T tree predictions, made in chunks of about ``chunk_rows`` rows to bound memory.
        """
        theta = np.atleast_2d(np.asarray(theta, float))
        n = len(state)
        per_chunk = max(1, chunk_rows // max(n, 1))
        tiled = np.tile(state, (min(per_chunk, len(theta)), 1))
        out = np.empty((n, len(theta)))
        for start in range(0, len(theta), per_chunk):
            block = theta[start : start + per_chunk]
            margin = self.margin_from_columns(tiled[: n * len(block)], np.repeat(block, n, axis=0))
            out[:, start : start + len(block)] = -margin.reshape(len(block), n).T
        return out

    def log_ratio(self, sample, theta0, theta1, *, device: str = "cpu") -> np.ndarray:
        """log r̂(x|θ0, θ1) of every event, shape (N,): differences of the CARL output at θ0 and θ1."""
        log_r = self.grid_log_density(self.grid_state(sample), np.stack([theta0, theta1]))
        return log_r[:, 0] - log_r[:, 1]

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json`` and ``model.txt`` into ``directory`` (each atomically)."""
        if self.booster is None:
            raise RuntimeError("cannot save an unfitted bdt")
        directory = Path(directory)
        config = {"encoder": "bdt", "encoder_config": self.config, "task": self.task,
                  "best_iteration": int(self.booster.best_iteration or 0), "metadata": self.metadata}
        atomic_write_text(directory / MODEL_FILE, self.booster.model_to_string())
        atomic_write_text(directory / CONFIG_FILE, json.dumps(config, indent=2))
        return directory

    @classmethod
    def load(cls, path: str | os.PathLike) -> "BDTEstimator":
        """Rebuild a saved bdt from its directory.

        Raises
        ------
        ModelNotFoundError
            If ``config.json`` or ``model.txt`` is missing (names the file).
        ModelError
            If the config is not a bdt config or the model file is damaged.
        """
        import lightgbm as lgb

        path = Path(path)
        require_finished(path, (CONFIG_FILE, MODEL_FILE))
        try:
            config = json.loads((path / CONFIG_FILE).read_text())
            if config.get("encoder") != "bdt":
                raise KeyError("encoder is not bdt")
            model = cls(**config["encoder_config"], metadata=config.get("metadata"))
            model.task = config["task"]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise ModelError(f"{path / CONFIG_FILE}: not a valid bdt config ({first_line(err)})") from None
        try:
            model.booster = lgb.Booster(model_str=(path / MODEL_FILE).read_text())
        except (lgb.basic.LightGBMError, UnicodeDecodeError) as err:
            raise ModelError(f"{path / MODEL_FILE}: not a readable LightGBM model ({first_line(err)})") from None
        model.booster.best_iteration = int(config.get("best_iteration", 0))
        history = path / "history.json"
        if history.is_file():
            model.history = json.loads(history.read_text())
        return model

    @classmethod
    def trained(cls, setup) -> "BDTEstimator":
        """CARL with LightGBM from a :class:`lfi.train.TrainingSetup`: one fit on a fixed draw of augmented events.

        ``events_per_epoch`` (default: the training split's size) events are drawn once for training and a
        quarter as many for validation, from the same :class:`~lfi.augment.AugmentedBatches` the networks use;
        the epoch settings of the config do not apply (LightGBM stops early on the validation log-loss).
        ``history.json`` holds the per-round log-loss.
        """
        from lfi.augment import AugmentedBatches

        if setup.method != "carl":
            raise OptionError(f"the bdt estimator trains only carl (and classifiers); {setup.method!r} needs a network")
        unused = setup.options.head.given() + list(setup.options.method.loss_arguments())
        if unused:
            raise OptionError(f"option {unused[0]} does not apply to the bdt (it has no network head and trains CARL)")
        if setup.options.data.theta1 == "prior":
            raise OptionError("the bdt estimator needs θ1 fixed at the reference (drop theta1=prior)")
        config = setup.config
        hyper = {"seed": config.seed, **parse_bdt_options(setup.options.encoder)}
        model = cls(n_objects=setup.sample.momenta.shape[1], n_globals=len(setup.sample.global_names),
                    n_parameters=setup.sample.n_parameters, metadata=setup.metadata(), **hyper)
        n_train = setup.events_per_epoch
        batch = max(config.batch_size, 4096)
        common = dict(batch_size=min(batch, n_train), seed=config.seed)
        train_batches = AugmentedBatches(setup.train, setup.theta0_prior, setup.theta1_prior, n_events=n_train, **common)
        n_val = max(n_train // 4, 2)
        val_batches = AugmentedBatches(setup.validation, setup.theta0_prior, setup.theta1_prior, n_events=n_val,
                                       **{**common, "batch_size": min(batch, n_val), "seed": config.seed + 1})
        model.fit_carl(train_batches, val_batches)
        model.save(setup.out)
        atomic_write_text(setup.out / "history.json", json.dumps(model.history, indent=2))
        atomic_write_text(setup.out / "train_options.json", json.dumps(setup.record(), indent=2, default=str))
        log.info("bdt: %d rounds, best %d", len(model.history), model.booster.best_iteration)
        return model


    @classmethod
    def trained_classifier(cls, setup) -> "BDTEstimator":
        """A two-class LightGBM classifier from a :class:`lfi.train.classifier_setup.ClassifierSetup`, with the
        class-balanced weights; stops early on the validation log-loss (the epoch settings do not apply; only
        the cross-entropy loss)."""
        from lfi.train.class_batches import ClassBatches

        if setup.loss != "ce":
            raise OptionError(f"--loss {setup.loss}: the bdt trains with cross-entropy only")
        events = setup.events
        model = cls(n_objects=events.momenta.shape[1], n_globals=events.globals_.shape[1],
                    metadata=setup.metadata(), **{"seed": setup.config.seed, **parse_bdt_options(setup.options)})
        batch = 8192
        model.fit_classifier(ClassBatches(events, setup.train, setup.train_weights, batch_size=batch, shuffle=False),
                             ClassBatches(events, setup.validation, setup.validation_weights, batch_size=batch,
                                          shuffle=False), label_key="label")
        model.save(setup.out)
        atomic_write_text(setup.out / "history.json", json.dumps(model.history, indent=2))
        return model


def _options() -> dict[str, Any]:
    params = inspect.signature(BDTEstimator.__init__).parameters
    return {k: p.default for k, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}


def bdt_options() -> dict[str, Any]:
    """The ``--option`` keys the bdt takes, with their defaults."""
    return {k: v for k, v in _options().items() if k not in ("n_objects", "n_globals", "n_parameters", "metadata")}


def parse_bdt_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Typed bdt hyper-parameters from command-line values (by the types of the defaults).

    Raises
    ------
    UnknownOptionError
        Unknown option (lists the accepted ones with their defaults).
    """
    accepted = bdt_options()
    out = {}
    for key, value in options.items():
        if key not in accepted:
            listing = ", ".join(f"{k}={v}" for k, v in accepted.items())
            raise UnknownOptionError(f"unknown option {key!r} for bdt; accepted: {listing}")
        default = accepted[key]
        if isinstance(value, str) and not isinstance(default, str):
            value = float(value) if isinstance(default, float) else int(value)
        out[key] = value
    return out
