"""The ``flow`` estimator: a conditional normalising flow p̂(x|θ) over high-level observables (zuko).

Trained by NDE (maximum likelihood) or SCANDAL (plus the joint-score term), see ``docs/method.md`` §5 and
:mod:`estimators.flow_training`; used as a ratio estimator, log r̂(x|θ0, θ1) = log p̂(x|θ0) − log p̂(x|θ1),
so it implements :class:`lfi.protocols.RatioEstimator` and the limits need no special case.

Inputs: the K observables named by ``observables`` (keys of ``EventSample.observables``, stored units). An
observable that is positive in the whole training split is modelled as log x (``log_positive``); all are then
standardised with the training split's mean and standard deviation, θ with the centre and half-width of the
benchmarks' box. The scalings are buffers of the module (saved in ``weights.pt``) and their Jacobian is part
of :meth:`FlowEstimator.forward`, so log p̂ is a normalised density of the raw observables.

Saved layout: ``config.json`` (``"encoder": "flow"``, ``encoder_config`` with the constructor's arguments,
``metadata``), ``weights.pt`` (state dict, loaded with ``weights_only=True``), ``history.json`` (trainer).
zuko is imported only when a flow is built: without it the family says to install ``lfi[flows]``.

Shapes: N events, K observables, D parameters, T parameter points.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from estimators.estimator import CONFIG_FILE, WEIGHTS_FILE, save_model_files
from lfi.errors import ModelError, OptionError, UnknownOptionError, first_line
from lfi.train.progress import require_finished
from lfi.train.setup import as_list

__all__ = ["FlowEstimator", "flow_options", "parse_flow_options", "TRANSFORMS"]

#: Valid values of the ``transform`` option: masked affine autoregressive flow, neural spline flow.
TRANSFORMS = ("maf", "nsf")
def _zuko():
    try:
        import zuko
    except ImportError:
        raise OptionError("the flow estimator needs zuko: pip install 'lfi[flows]'") from None
    return zuko


class FlowEstimator(nn.Module):
    """Conditional flow log p̂(x|θ) on standardised observables.

    Parameters
    ----------
    observables : sequence of str
        The K observables x, in this order.
    n_parameters : int
        D, the number of parameters θ the flow is conditioned on.
    transform : {"nsf", "maf"}
        Neural spline flow (rational-quadratic splines; the default: on the toy its 95 % contour is 1.18 × the
        exact one's area against 1.52 × for the affine flow at the same budget, ``results/flows_toy_long_nsf``)
        or masked autoregressive flow (affine).
    transforms : int
        Number of stacked autoregressive transforms.
    hidden : sequence of int
        Hidden layer widths of each transform's conditioner network.
    bins : int
        Spline bins per dimension (``nsf`` only).
    log_positive : bool
        Model observables that are positive in the training split as log x.
    metadata : dict, optional
        JSON-serialisable extras (method, parameter names, reference point, training file).
    """

    encoder_name = "flow"
    kind = "ratio"

    def __init__(self, *, observables: Sequence[str], n_parameters: int, transform: str = "nsf", transforms: int = 5,
                 hidden: Sequence[int] = (64, 64), bins: int = 8, log_positive: bool = True,
                 metadata: dict | None = None):
        super().__init__()
        if transform not in TRANSFORMS:
            raise OptionError(f"unknown transform={transform!r} for flow; valid: {', '.join(TRANSFORMS)}")
        if not observables or int(n_parameters) < 1 or int(transforms) < 1 or int(bins) < 2:
            raise OptionError(f"flow needs observables, n_parameters ≥ 1, transforms ≥ 1 and bins ≥ 2, got "
                              f"{list(observables)}, {n_parameters}, {transforms}, {bins}")
        self.observables, self.n_parameters = [str(o) for o in observables], int(n_parameters)
        self.transform, self.transforms, self.bins = transform, int(transforms), int(bins)
        self.hidden, self.log_positive = [int(h) for h in hidden], bool(log_positive)
        self.metadata = dict(metadata or {})
        k, d = len(self.observables), self.n_parameters
        flows = _zuko().flows
        common = dict(features=k, context=d, transforms=self.transforms, hidden_features=tuple(self.hidden))
        self.flow = flows.MAF(**common) if transform == "maf" else flows.NSF(bins=self.bins, **common)
        self.register_buffer("x_log", torch.zeros(k, dtype=torch.bool))
        self.register_buffer("x_shift", torch.zeros(k))
        self.register_buffer("x_scale", torch.ones(k))
        self.register_buffer("theta_centre", torch.zeros(d))
        self.register_buffer("theta_scale", torch.ones(d))

    @property
    def config(self) -> dict[str, Any]:
        """The constructor's arguments, JSON-able (what ``config.json`` and a resumed run rebuild from)."""
        return {"observables": self.observables, "n_parameters": self.n_parameters, "transform": self.transform,
                "transforms": self.transforms, "hidden": self.hidden, "bins": self.bins,
                "log_positive": self.log_positive, "metadata": self.metadata}

    @property
    def device(self) -> torch.device:
        return self.x_shift.device

    @property
    def size(self) -> dict[str, int]:
        """``{"parameters": number of trainable parameters}``."""
        return {"parameters": sum(p.numel() for p in self.parameters() if p.requires_grad)}

    # ------------------------------------------------------------------ inputs
    def fit_scaling(self, x: np.ndarray, theta_low: np.ndarray, theta_high: np.ndarray) -> None:
        """Fix the input scalings from the training observables ``x`` (N, K) and the θ box ``[theta_low, theta_high]``
        (each shape (D,)): log for observables positive in every event (with ``log_positive``), then mean 0,
        standard deviation 1; θ centred on the box with unit half-width."""
        x = np.asarray(x, np.float64)
        take_log = np.all(x > 0, axis=0) & self.log_positive
        y = np.where(take_log, np.log(np.where(take_log, x, 1.0)), x)
        low, high = np.asarray(theta_low, float), np.asarray(theta_high, float)
        self.x_log.copy_(torch.from_numpy(take_log))
        self.x_shift.copy_(torch.from_numpy(y.mean(axis=0)))
        self.x_scale.copy_(torch.from_numpy(np.maximum(y.std(axis=0), 1e-12)))
        self.theta_centre.copy_(torch.from_numpy((low + high) / 2))
        self.theta_scale.copy_(torch.from_numpy(np.maximum((high - low) / 2, 1e-12)))

    def _standardise(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """u = (y − shift)/scale with y = log x or x, and log|det ∂u/∂x| per event; shapes (B, K), (B,)."""
        log_x = torch.log(x.clamp(min=1e-30))
        y = torch.where(self.x_log, log_x, x)
        log_jacobian = -(log_x * self.x_log).sum(-1) - torch.log(self.x_scale).sum()
        return (y - self.x_shift) / self.x_scale, log_jacobian

    def observables_of(self, sample) -> np.ndarray:
        """The flow's observables of an :class:`lfi.events.EventSample`, shape (N, K), float32.

        Raises
        ------
        ModelError
            The sample lacks one of them (names it).
        """
        missing = [name for name in self.observables if name not in sample.observables]
        if missing:
            raise ModelError(f"this flow models observable {missing[0]!r}, which the sample does not have "
                             f"(it has {', '.join(sorted(sample.observables)) or 'none'})")
        return np.stack([sample.observables[name] for name in self.observables], axis=1)

    # ------------------------------------------------------------------ density
    def forward(self, x: Tensor, theta: Tensor) -> Tensor:
        """log p̂(x|θ) per event, normalised over the raw observables, shape (B,).

        Parameters
        ----------
        x : Tensor, shape (B, K)
            Observables in their stored units.
        theta : Tensor, shape (B, D)
        """
        u, log_jacobian = self._standardise(x.to(self.x_shift.dtype))
        context = (theta.to(self.theta_centre.dtype) - self.theta_centre) / self.theta_scale
        return self.flow(context).log_prob(u) + log_jacobian

    # ------------------------------------------------------------------ the estimator protocol (lfi.protocols)
    def grid_state(self, sample, *, device: str = "cpu") -> dict[str, Tensor]:
        """The standardised observables ``u`` (N, K) and the Jacobian term ``log_jacobian`` (N,), on ``device``."""
        self.to(device).eval()
        with torch.no_grad():
            u, log_jacobian = self._standardise(torch.from_numpy(self.observables_of(sample)).to(device))
        return {"u": u, "log_jacobian": log_jacobian}

    def grid_log_density(self, state: dict[str, Tensor], theta: np.ndarray, *, chunk_rows: int = 200_000) -> np.ndarray:
        """log p̂(x_n|θ_t) for θ of shape (T, D); shape (N, T), float64.

        The grid costs N·T flow evaluations, made in blocks of about ``chunk_rows`` (event, θ) pairs to bound memory.
        """
        u, log_jacobian = state["u"], state["log_jacobian"]
        theta = torch.as_tensor(np.atleast_2d(np.asarray(theta, float)), dtype=u.dtype, device=u.device)
        context = (theta - self.theta_centre) / self.theta_scale  # (T, D)
        n, out = len(u), np.empty((len(u), len(theta)))
        events = max(1, min(n, chunk_rows))
        points = max(1, chunk_rows // events)
        with torch.no_grad():
            for e in range(0, n, events):
                ub = u[e : e + events]
                for t in range(0, len(theta), points):
                    cb = context[t : t + points]
                    rows = self.flow(cb.repeat_interleave(len(ub), 0)).log_prob(ub.repeat(len(cb), 1))
                    out[e : e + len(ub), t : t + len(cb)] = rows.reshape(len(cb), len(ub)).T.double().cpu().numpy()
        return out + log_jacobian.double().cpu().numpy()[:, None]

    def sample_observables(self, theta: np.ndarray, n_events: int, *, seed: int = 0) -> np.ndarray:
        """Draw synthetic events x ~ p̂(x|θ): the flow's observables in their stored units, shape (n_events, K).

        Parameters
        ----------
        theta : array_like, shape (D,)
        n_events : int
        seed : int
        """
        theta = torch.as_tensor(np.asarray(theta, float).reshape(-1), dtype=self.theta_centre.dtype,
                                device=self.device)
        if theta.shape != (self.n_parameters,):
            raise OptionError(f"--theta needs {self.n_parameters} values, got {theta.numel()}")
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        try:
            with torch.no_grad():
                u = self.eval().flow((theta - self.theta_centre) / self.theta_scale).sample((int(n_events),))
        finally:
            torch.random.set_rng_state(generator_state)
        y = u * self.x_scale + self.x_shift
        return torch.where(self.x_log, torch.exp(y), y).double().cpu().numpy()

    def log_ratio(self, sample, theta0: np.ndarray, theta1: np.ndarray, *, device: str = "cpu") -> np.ndarray:
        """log r̂(x|θ0, θ1) = log p̂(x|θ0) − log p̂(x|θ1) of every event for two points of shape (D,); shape (N,)."""
        log_p = self.grid_log_density(self.grid_state(sample, device=device), np.stack([theta0, theta1]))
        return log_p[:, 0] - log_p[:, 1]

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json`` and ``weights.pt`` into ``directory`` (each atomically)."""
        return save_model_files(directory, {"encoder": "flow", "encoder_config": self.config}, self)

    @classmethod
    def load(cls, path: str | os.PathLike, map_location: str | torch.device = "cpu") -> "FlowEstimator":
        """Rebuild a saved flow from its directory.

        Raises
        ------
        ModelNotFoundError
            ``config.json`` or ``weights.pt`` missing (names the file; says how to continue an interrupted training).
        ModelError
            Files that are damaged or do not fit together.
        OptionError
            zuko is not installed.
        """
        path = Path(path)
        require_finished(path, (CONFIG_FILE, WEIGHTS_FILE))
        try:
            config = json.loads((path / CONFIG_FILE).read_text())
            if config.get("encoder") != "flow":
                raise KeyError("encoder is not flow")
            model = cls(**config["encoder_config"])
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise ModelError(f"{path / CONFIG_FILE}: not a valid flow config ({first_line(err)})") from None
        try:
            state = torch.load(path / WEIGHTS_FILE, map_location=map_location, weights_only=True)
            model.load_state_dict(state)
        except (RuntimeError, TypeError, AttributeError) as err:
            raise ModelError(f"{path / WEIGHTS_FILE}: not readable or does not match {CONFIG_FILE} "
                             f"({first_line(err)})") from None
        return model.eval()

    @classmethod
    def trained(cls, setup) -> "FlowEstimator":
        """Build (or, resuming, rebuild) a flow and train it by NDE or SCANDAL; see :mod:`estimators.flow_training`.
        ``observables`` not given: :func:`estimators.flow_training.default_observables`."""
        from estimators.flow_training import train_flow

        return train_flow(cls, setup, parse_flow_options(setup.options.encoder))


def flow_options() -> dict[str, Any]:
    """The ``--option`` keys the flow takes, with their defaults (``observables=""``: the sample's default set,
    :func:`estimators.flow_training.default_observables`)."""
    params = inspect.signature(FlowEstimator.__init__).parameters
    options = {k: p.default for k, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    return {"observables": "", **{k: v for k, v in options.items() if k not in ("observables", "n_parameters",
                                                                                  "metadata")}}


def parse_flow_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Typed flow hyper-parameters from command-line values (by the types of the defaults); ``observables`` and
    ``hidden`` are comma-separated lists.

    Raises
    ------
    UnknownOptionError
        Unknown option (lists the accepted ones with their defaults).
    OptionError
        A value of the wrong type.
    """
    accepted = flow_options()
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key not in accepted:
            listing = ", ".join(f"{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}" for k, v in accepted.items())
            raise UnknownOptionError(f"unknown option {key!r} for flow; accepted: {listing}")
        default = accepted[key]
        try:
            if key == "observables":
                value = [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else list(value)
            elif isinstance(default, tuple):
                value = [int(h) for h in as_list(value)]
            elif isinstance(default, bool):
                if str(value).lower() not in ("true", "false", "1", "0"):
                    raise ValueError(value)
                value = str(value).lower() in ("true", "1")
            elif isinstance(value, str) and not isinstance(default, str):
                value = type(default)(value)
        except (TypeError, ValueError):
            raise OptionError(f"option {key}={value!r} (flow): expected {type(default).__name__}") from None
        out[key] = value
    return out
