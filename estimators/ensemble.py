"""Ensembles: K estimators of one kind trained with different seeds (optionally on bootstrap resamples), used as
one estimator whose log r̂ (or t̂) is the members' mean, with the members' spread at hand.

Saved layout: ``config.json`` (``"family": "ensemble"``, the member estimator name, the member folders,
metadata), ``train_options.json`` (the run's settings) and one saved estimator per member in ``member_<k>/``.
Each member resumes on its own, so ``--resume`` after an interruption retrains only what did not finish.
It implements :class:`lfi.protocols.RatioEstimator` or :class:`lfi.protocols.ScoreEstimator`, as its members do.

Shapes: K members, N events, T parameter points, D parameters.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from lfi.errors import ModelError, first_line
from lfi.files import atomic_write_text
from lfi.train.progress import require_finished
from lfi.train.setup import TrainingSetup

__all__ = ["Ensemble", "FAMILY", "member_directory"]

log = logging.getLogger("lfi.train")
FAMILY = "ensemble"
CONFIG_FILE, RECORD_FILE = "config.json", "train_options.json"


def member_directory(out: Path, k: int) -> Path:
    """Where member ``k`` of an ensemble saved in ``out`` lives."""
    return Path(out) / f"member_{k}"


class Ensemble:
    """The mean of K trained estimators of the same kind.

    Parameters
    ----------
    members : list
        Trained estimators (all ratio or all score estimators).
    metadata : dict, optional
        Facts about the training (method, parameters, reference point, member count, bootstrap).
    """

    def __init__(self, members: list, metadata: dict | None = None):
        if not members:
            raise ModelError("an ensemble needs at least one member")
        kinds = {m.kind for m in members}
        if len(kinds) != 1:
            raise ModelError(f"ensemble members must all be of one kind, got {sorted(kinds)}")
        self.members = list(members)
        self.metadata = dict(metadata or members[0].metadata)

    @property
    def kind(self) -> str:
        return self.members[0].kind

    def __len__(self) -> int:
        return len(self.members)

    # ------------------------------------------------------------------ the estimator protocols (lfi.protocols)
    def grid_state(self, sample, *, device: str = "cpu") -> list:
        """Every member's per-event state."""
        return [m.grid_state(sample, device=device) for m in self.members]

    def member_grid_log_density(self, state: list, theta: np.ndarray) -> np.ndarray:
        """f_k(x_n, θ_t) of every member, shape (K, N, T), float64."""
        return np.stack([m.grid_log_density(s, theta) for m, s in zip(self.members, state)])

    def grid_log_density(self, state: list, theta: np.ndarray) -> np.ndarray:
        """The members' mean f(x_n, θ_t), shape (N, T): the ensemble's log r̂ is the mean of the members'."""
        return self.member_grid_log_density(state, theta).mean(axis=0)

    def log_ratio(self, sample, theta0, theta1, *, device: str = "cpu") -> np.ndarray:
        """Mean over members of log r̂(x|θ0, θ1), shape (N,)."""
        return np.mean([m.log_ratio(sample, theta0, theta1, device=device) for m in self.members], axis=0)

    def score(self, sample, *, device: str = "cpu") -> np.ndarray:
        """Mean over members of t̂(x), shape (N, D)."""
        return np.mean([m.score(sample, device=device) for m in self.members], axis=0)

    def save(self, directory: str | os.PathLike) -> Path:
        """Save every member in ``member_<k>/`` and then ``config.json`` (written last: it marks the ensemble done)."""
        directory = Path(directory)
        for k, member in enumerate(self.members):
            member.save(member_directory(directory, k))
        return self._write_config(directory)

    def _write_config(self, directory: Path) -> Path:
        config = {"family": FAMILY, "encoder": FAMILY, "members": [member_directory(Path(), k).name
                                                                   for k in range(len(self))],
                  "metadata": self.metadata}
        atomic_write_text(directory / CONFIG_FILE, json.dumps(config, indent=2))
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike, *, load_member: Callable[[Path], Any]) -> "Ensemble":
        """Rebuild a saved ensemble; ``load_member`` rebuilds one member directory (:func:`estimators.load`)."""
        directory = Path(directory)
        require_finished(directory, (CONFIG_FILE,))
        try:
            config = json.loads((directory / CONFIG_FILE).read_text())
            names = list(config["members"])
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise ModelError(f"{directory / CONFIG_FILE}: not a valid ensemble config ({first_line(err)})") from None
        return cls([load_member(directory / name) for name in names], config.get("metadata"))

    @classmethod
    def trained(cls, setup: TrainingSetup, *, member_family: type) -> "Ensemble":
        """Train ``setup.ensemble`` members of class ``member_family`` (seeds seed, seed + 1, ...); save the ensemble.

        With ``setup.bootstrap`` each member trains on a resample (with replacement) of the training events,
        drawn with the member's seed. With ``setup.resume`` finished members are kept and an interrupted one
        continues from its checkpoint.
        """
        out = setup.out
        record_path = out / RECORD_FILE
        if setup.resume and record_path.is_file():
            setup.check_resume(json.loads(record_path.read_text()))
        atomic_write_text(record_path, json.dumps(setup.record(), indent=2, default=str))
        members = []
        for k in range(setup.ensemble):
            member_out = member_directory(out, k)
            if setup.resume and (member_out / CONFIG_FILE).is_file():  # estimator files appear only when it finished
                log.info("ensemble member %d/%d: finished earlier, kept", k + 1, setup.ensemble)
                members.append(member_family.load(member_out))
                continue
            log.info("ensemble member %d/%d", k + 1, setup.ensemble)
            members.append(member_family.trained(_member_setup(setup, k, member_out)))
        ensemble = cls(members, {**setup.metadata(), "ensemble": setup.ensemble, "bootstrap": setup.bootstrap})
        ensemble._write_config(out)  # the members saved themselves
        return ensemble


def _member_setup(setup: TrainingSetup, k: int, out: Path) -> TrainingSetup:
    seed = setup.config.seed + k
    train = setup.train
    if setup.bootstrap:
        rng = np.random.default_rng(seed)
        train = train.select(np.sort(rng.integers(0, len(train), len(train))))
    return dataclasses.replace(setup, train=train, out=out, ensemble=1, bootstrap=False,
                               resume=setup.resume and (out / "checkpoint.pt").is_file(),
                               config=dataclasses.replace(setup.config, seed=seed))
