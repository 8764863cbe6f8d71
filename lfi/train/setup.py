"""Everything a training run is told, in typed groups: the loop settings and the data / head / method /
encoder options, parsed once from ``KEY=VALUE`` text or given as Python values (no torch needed).

:class:`TrainingSetup` is what an estimator family receives to train (see ``estimators.train``): the split
sample, the θ priors, the reference point, the options and where to save.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from lfi.errors import OptionError, ResumeMismatchError

__all__ = ["TrainConfig", "DataOptions", "HeadOptions", "MethodOptions", "TrainOptions", "TrainingSetup", "as_list",
           "MAY_CHANGE_ON_RESUME", "file_sha256"]


@dataclass
class TrainConfig:
    """Training settings, validated on construction.

    Attributes
    ----------
    epochs : int
        Maximum number of epochs.
    batch_size : int
    learning_rate : float
        Initial learning rate of AdamW.
    weight_decay : float
    schedule : {"cosine", "constant"}
        Learning rate over the epochs (cosine decays to 1 % of the initial value).
    patience : int
        Stop after this many epochs without a better validation loss; the best weights are restored.
    clip_grad : float
        Maximum gradient norm (0 disables clipping).
    device : str
        "auto" (CUDA if available, else CPU), "cpu", "cuda", "cuda:1", ...
    amp : {"auto", "off", "bf16", "fp16"}
        Mixed precision; "auto" = bf16 on CUDA devices that support it, off on CPU (bf16 is slower on AVX2 CPUs).
    compile : bool
        Run the forward pass through ``torch.compile``.
    seed : int
    """

    epochs: int = 30
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "cosine"
    patience: int = 8
    clip_grad: float = 5.0
    device: str = "auto"
    amp: str = "auto"
    compile: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        checks = [
            (self.epochs >= 1, f"epochs must be ≥ 1, got {self.epochs}"),
            (self.batch_size >= 2, f"batch_size must be ≥ 2, got {self.batch_size}"),
            (self.learning_rate > 0, f"learning_rate must be positive, got {self.learning_rate}"),
            (self.schedule in ("cosine", "constant"), f"schedule must be cosine or constant, got {self.schedule!r}"),
            (self.patience >= 1, f"patience must be ≥ 1, got {self.patience}"),
            (self.clip_grad >= 0, f"clip_grad must be ≥ 0, got {self.clip_grad}"),
            (self.amp in ("auto", "off", "bf16", "fp16"), f"amp must be auto, off, bf16 or fp16, got {self.amp!r}"),
        ]
        for ok, message in checks:
            if not ok:
                raise OptionError(message)


def as_list(value) -> list:
    """``"128,64"`` or ``128`` or ``[128, 64]`` → a list of numbers."""
    if isinstance(value, str):
        return [float(v) if "." in v else int(v) for v in value.split(",") if v]
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _typed(group: str, key: str, value: Any, kind: type) -> Any:
    if value is None or isinstance(value, kind) and not isinstance(value, bool):
        return value
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise OptionError(f"option {key}={value!r} ({group}): expected {kind.__name__}") from None


@dataclass(frozen=True)
class DataOptions:
    """How training examples are drawn.

    Attributes
    ----------
    prior : str, optional
        θ0 prior, e.g. ``uniform:-1:1`` or ``gaussian:0:0.5`` (default: uniform over the benchmarks' box).
    reference : str, optional
        θ1 = θ_ref: a benchmark name or comma-separated values (default: the SM, all zeros).
    theta1 : {"reference", "prior"}
        Fix θ1 at the reference, or draw it from the prior too.
    events_per_epoch : int, optional
        Augmented events drawn per epoch (default: the training split's size).
    validation_fraction : float
        Fraction of the events held out for validation.
    stream : int, optional
        Read the file in chunks of this many events instead of loading it (:mod:`lfi.augment.streaming`): memory
        set by the chunk; every round(1/validation_fraction)-th chunk validates.
    """

    prior: str | None = None
    reference: str | None = None
    theta1: str = "reference"
    events_per_epoch: int | None = None
    validation_fraction: float = 0.2
    stream: int | None = None

    def __post_init__(self) -> None:
        if self.theta1 not in ("reference", "prior"):
            raise OptionError(f"option theta1={self.theta1!r}: expected reference or prior")
        if not 0 < self.validation_fraction < 1:
            raise OptionError(f"option validation_fraction={self.validation_fraction}: expected a number in (0, 1)")
        if self.events_per_epoch is not None and self.events_per_epoch < 1:
            raise OptionError(f"option events_per_epoch={self.events_per_epoch}: expected a positive integer")
        if self.stream is not None and self.stream < 1:
            raise OptionError(f"option stream={self.stream}: expected a positive number of events per chunk")


@dataclass(frozen=True)
class HeadOptions:
    """The head: ``head`` (``amplitude_ratio``, ``morphing_ratio``, ``ratio``, ``score``; default by method),
    ``head_hidden`` (layer widths, e.g. ``128,128``) and ``head_dropout``."""

    name: str | None = None
    hidden: tuple[int, ...] | None = None
    dropout: float | None = None

    def given(self) -> list[str]:
        """The ``--option`` keys that were set."""
        return [key for key, name in _HEAD_KEYS.items() if getattr(self, name) is not None]

    def config(self) -> dict[str, Any]:
        """The head keyword arguments these options set."""
        out: dict[str, Any] = {}
        if self.hidden is not None:
            out["hidden"] = [int(h) for h in self.hidden]
        if self.dropout is not None:
            out["dropout"] = float(self.dropout)
        return out


@dataclass(frozen=True)
class MethodOptions:
    """Loss parameters: ``alpha`` (weight of the score term of RASCAL, ALICES, CASCAL), ``focal_alpha``,
    ``focal_gamma`` (focal loss); unset ones keep the loss's defaults."""

    alpha: float | None = None
    focal_alpha: float | None = None
    focal_gamma: float | None = None

    def loss_arguments(self) -> dict[str, float]:
        return {k: v for k, v in asdict(self).items() if v is not None}


_DATA_KEYS = {"prior": str, "reference": str, "theta1": str, "events_per_epoch": int, "validation_fraction": float,
              "stream": int}
_HEAD_KEYS = {"head": "name", "head_hidden": "hidden", "head_dropout": "dropout"}
_METHOD_KEYS = ("alpha", "focal_alpha", "focal_gamma")


@dataclass(frozen=True)
class TrainOptions:
    """The ``--option KEY=VALUE`` settings of a training, sorted into their groups.

    ``encoder`` keeps the remaining keys as given; the estimator family types and checks them against its
    own hyper-parameters (an unknown key is an error listing the accepted ones).
    """

    data: DataOptions = field(default_factory=DataOptions)
    head: HeadOptions = field(default_factory=HeadOptions)
    method: MethodOptions = field(default_factory=MethodOptions)
    encoder: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, options: Mapping[str, Any] | None) -> "TrainOptions":
        """Sort and type a flat mapping of options (values may be text, as from the command line).

        Raises
        ------
        ValueError
            A value of the wrong type, naming the option.
        """
        data, head, method, encoder = {}, {}, {}, {}
        for key, value in dict(options or {}).items():
            if key in _DATA_KEYS:
                data[key] = _typed("data", key, value, _DATA_KEYS[key])
            elif key in _HEAD_KEYS:
                name = _HEAD_KEYS[key]
                head[name] = (tuple(int(h) for h in as_list(value)) if name == "hidden"
                              else _typed("head", key, value, float if name == "dropout" else str))
            elif key in _METHOD_KEYS:
                method[key] = _typed("method", key, value, float)
            else:
                encoder[key] = value
        return cls(DataOptions(**data), HeadOptions(**head), MethodOptions(**method), encoder)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form, grouped (saved with the model as ``train_options.json``)."""
        return {"data": asdict(self.data), "head": asdict(self.head), "method": asdict(self.method),
                "encoder": {k: v if isinstance(v, (int, float, bool, list)) else str(v) for k, v in self.encoder.items()}}


@dataclass
class TrainingSetup:
    """What an estimator family needs to train: the data, the θ draws, the method and where to save.

    Attributes
    ----------
    estimator : str
        Registry name of the estimator (an encoder such as ``mlp`` or ``part``, or a family such as ``bdt``).
    data_file : Path
        The event file (recorded in the model's metadata).
    sample, train, validation : EventSample
        The whole sample and its split by event (weights of each part rescaled to the full cross section). With the
        option ``stream``: the file's first chunk, and the training and validation
        :class:`~lfi.augment.streaming.EventChunks`.
    method : str
        Training method, see :mod:`lfi.train.methods`.
    theta0_prior, theta1_prior
        Priors over θ0 and θ1 (:mod:`lfi.augment.priors`).
    reference : ndarray, shape (D,)
        θ_ref (the score methods' expansion point, the fixed θ1 of the ratio methods).
    config : TrainConfig
    options : TrainOptions
    out : Path
        Output directory of the estimator.
    resume : bool
    progress : bool
    ensemble : int
        Number of members trained with seeds ``seed``, ``seed + 1``, ... (1: a single estimator).
    bootstrap : bool
        Each ensemble member trains on a bootstrap resample of the training events.
    on_epoch : callable, optional
        Passed to :func:`lfi.train.fit`: called after every epoch (not saved, not compared on resume).
    """

    estimator: str
    data_file: Path
    sample: Any
    train: Any
    validation: Any
    method: str
    theta0_prior: Any
    theta1_prior: Any
    reference: np.ndarray
    config: TrainConfig
    options: TrainOptions
    out: Path
    resume: bool = False
    progress: bool = True
    ensemble: int = 1
    bootstrap: bool = False
    on_epoch: Any = None

    def __post_init__(self) -> None:
        if self.ensemble < 1:
            raise OptionError(f"--ensemble {self.ensemble}: expected at least 1 member")
        if self.bootstrap and self.ensemble < 2:
            raise OptionError("--bootstrap resamples the events of each ensemble member: it needs --ensemble 2 or more")

    @property
    def kind(self) -> str:
        """``ratio``, ``score`` or ``classifier``."""
        from lfi.train.methods import method_kind

        return method_kind(self.method)

    @property
    def events_per_epoch(self) -> int:
        return self.options.data.events_per_epoch or len(self.train)

    def metadata(self) -> dict[str, Any]:
        """Facts saved with the model: method, parameter names, θ_ref, observables and the training file."""
        return {
            "method": self.method,
            "parameters": self.sample.parameters,
            "reference": self.reference.tolist(),
            "observables": sorted(self.sample.observables),
            "train_file": str(self.data_file),
        }

    def record(self) -> dict[str, Any]:
        """The settings of this run as JSON-able data (``train_options.json``): what ``--resume`` compares."""
        return {"estimator": self.estimator, "method": self.method, "ensemble": self.ensemble, "bootstrap": self.bootstrap,
                "data": {"file": str(Path(self.data_file).resolve()), "sha256": file_sha256(self.data_file)},
                "config": asdict(self.config), "options": self.options.as_dict()}

    def check_resume(self, saved: Mapping[str, Any]) -> None:
        """Refuse to resume a run whose saved settings differ from this one's (see :data:`MAY_CHANGE_ON_RESUME`).

        Raises
        ------
        ResumeMismatchError
            One line naming every setting that differs, with the saved and the new value.
        """
        now = _flatten(self.record())
        then = _flatten(saved)
        compared = [key for key in sorted(then) if key not in MAY_CHANGE_ON_RESUME and key != "data.file"
                    and not key.startswith("model.")]  # the model follows from the settings
        differences = [f"{key} was {then[key]!r}, now {now.get(key)!r}" for key in compared if now.get(key) != then[key]]
        if differences:
            raise ResumeMismatchError(f"cannot resume {self.out}: " + "; ".join(differences) + " (only "
                                      + ", ".join(sorted(k.split(".")[-1] for k in MAY_CHANGE_ON_RESUME))
                                      + " may change on --resume; use another --out for a new run)")


#: Settings that may change when a run is resumed; everything else must equal the interrupted run's.
MAY_CHANGE_ON_RESUME = frozenset({"config.epochs", "config.patience", "config.device", "config.amp", "config.compile"})


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = list(value) if isinstance(value, tuple) else value
    return out


def file_sha256(path: str | os.PathLike, block: int = 1 << 22) -> str:
    """SHA-256 of a file's bytes, read in blocks of ``block`` bytes (hex); of a sharded sample's directory
    (:mod:`lfi.events.shards`), the SHA-256 of its shards' digests in manifest order."""
    from lfi.events.shards import is_sharded, read_manifest

    if is_sharded(path):
        shards = read_manifest(path)["shards"]
        joined = "".join(file_sha256(Path(path) / entry["file"], block) for entry in shards)
        return hashlib.sha256(joined.encode()).hexdigest()
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            digest.update(chunk)
    return digest.hexdigest()
