"""The encoder interface: object list + globals → event embedding.

Every encoder is an :class:`ObjectEncoder` built with keyword-only, JSON-serialisable hyper-parameters:
``n_objects`` (P slots it is configured for), ``n_globals`` (G), then its own. It has ``embed_dim``,
``config`` (the resolved hyper-parameters) and :meth:`~ObjectEncoder.fit_input_scaling`, and
``forward(momenta, types, globals_)`` maps

- ``momenta`` (B, P', 4) float, (E, px, py, pz) in GeV, zero-padded,
- ``types`` (B, P') long, 0 pad, 1 jet, 2 b-jet, 3 e−, 4 e+, 5 μ−, 6 μ+, 7 γ,
- ``globals_`` (B, G) float

to a (B, embed_dim) tensor. Encoders with one embedding per object also have ``encode_objects`` (the same
inputs → per-object embeddings (B, P', embed_dim) in the input slots, and the event embedding), on which the
jet–parton assignment head sits (:mod:`estimators.assignment`). P' may differ from ``n_objects``: with more slots, the ``n_objects`` objects of
highest p_T are kept (in their input order) and a warning names how many events lost real objects; encoders
with a fixed slot layout (``mlp``, ``cnn1d``, ``mixer``) are zero-padded up to ``n_objects``.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple, Sequence

import torch
from torch import Tensor, nn

from estimators.features import N_TYPES, InputScaler, interaction_matrix, parse_interaction, parse_pair
from lfi.errors import OptionError

__all__ = ["ObjectEncoder", "PackedObjectEncoder", "EncoderInputs"]


class EncoderInputs(NamedTuple):
    """Standardised inputs of one batch.

    x : (B, P, 13) per-object features; mask : (B, P) bool, True for real objects;
    glob : (B, G + 2) event-level features; pairs : (B, P, P, C) pair channels (selected pair features, then
    the interaction matrix), or None when C = 0; momenta (B, P, 4) GeV and types (B, P) after truncation/padding.
    """

    x: Tensor
    mask: Tensor
    glob: Tensor
    pairs: Tensor | None
    momenta: Tensor
    types: Tensor


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return value


class ObjectEncoder(nn.Module):
    """Base class of all encoders (input checks, truncation/padding, scaling, pair channels).

    Parameters
    ----------
    n_objects : int
        P, the object slots the encoder is configured for (≥ 1).
    n_globals : int
        G, event-level inputs (≥ 0).
    pair : str or sequence of str
        Pair features as channels of the pair input ("none", "mass,delta_r", "ln_kt,ln_z,ln_delta,ln_m2", ...).
    interaction : str
        SM interaction matrix appended as one more pair channel: "none", "sm_ids", "sm_const", "sm_running".
    config : dict
        The subclass's own hyper-parameters, recorded in :attr:`config`.
    """

    #: Encoders whose layers depend on the slot count get inputs padded to exactly ``n_objects`` slots.
    fixed_slots: bool = False
    embed_dim: int

    def __init__(self, *, n_objects: int, n_globals: int, pair: str | Sequence[str] = "none",
                 interaction: str = "none", config: dict[str, Any] | None = None) -> None:
        super().__init__()
        if int(n_objects) < 1 or int(n_globals) < 0:
            raise OptionError(f"need n_objects ≥ 1 and n_globals ≥ 0, got {n_objects} and {n_globals}")
        self.n_objects, self.n_globals = int(n_objects), int(n_globals)
        self.pair = parse_pair(pair)
        self.interaction = parse_interaction(interaction)
        self.scaler = InputScaler(n_globals=self.n_globals, pair=self.pair)
        self.config: dict[str, Any] = {"n_objects": self.n_objects, "n_globals": self.n_globals}
        self.config.update({k: _jsonable(v) for k, v in (config or {}).items()})

    @property
    def object_dim(self) -> int:
        """Width of the per-object embeddings of :meth:`encode_objects` (``embed_dim`` unless an encoder says)."""
        return self.embed_dim

    @property
    def n_pair_channels(self) -> int:
        """C: selected pair features plus one channel for the interaction matrix, if any."""
        return len(self.pair) + (self.interaction != "none")

    # -- input handling -------------------------------------------------------------------------------
    def _conform(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Check shapes, keep the ``n_objects`` hardest objects, pad fixed-slot encoders."""
        if momenta.dim() != 3 or momenta.shape[-1] != 4:
            raise ValueError(f"momenta must have shape (batch, objects, 4), got {tuple(momenta.shape)}")
        if types.shape != momenta.shape[:2]:
            raise ValueError(f"types must have shape {tuple(momenta.shape[:2])}, got {tuple(types.shape)}")
        if globals_.dim() != 2 or globals_.shape != (momenta.shape[0], self.n_globals):
            raise ValueError(f"globals_ must have shape ({momenta.shape[0]}, {self.n_globals}) for this encoder "
                             f"(n_globals={self.n_globals}), got {tuple(globals_.shape)}")
        types = types.long()
        if types.numel() and (int(types.min()) < 0 or int(types.max()) >= N_TYPES):
            raise ValueError(f"object types must be in 0..{N_TYPES - 1}, got values in "
                             f"[{int(types.min())}, {int(types.max())}]")
        p = momenta.shape[1]
        if p > self.n_objects:
            pt = torch.hypot(momenta[..., 1], momenta[..., 2]).masked_fill(types == 0, -1.0)
            order = torch.argsort(pt, dim=1, descending=True, stable=True)
            dropped = (torch.gather(types, 1, order[:, self.n_objects:]) != 0).any(1)
            n_lost = int(dropped.sum())
            if n_lost:
                warnings.warn(f"{n_lost} of {momenta.shape[0]} events have more than n_objects={self.n_objects} "
                              f"objects; kept the {self.n_objects} of highest pT", stacklevel=3)
            keep = order[:, : self.n_objects].sort(dim=1).values
            momenta = torch.gather(momenta, 1, keep.unsqueeze(-1).expand(-1, -1, 4))
            types = torch.gather(types, 1, keep)
        elif p < self.n_objects and self.fixed_slots:
            momenta = nn.functional.pad(momenta, (0, 0, 0, self.n_objects - p))
            types = nn.functional.pad(types, (0, self.n_objects - p))
        return momenta, types, globals_

    def _inputs(self, momenta: Tensor, types: Tensor, globals_: Tensor, *, with_pairs: bool = True) -> EncoderInputs:
        """Conform, then compute the standardised inputs (see :class:`EncoderInputs`)."""
        momenta, types, globals_ = self._conform(momenta, types, globals_)
        dtype = self.scaler.object_mean.dtype  # the model's dtype (float32 unless converted with .double())
        momenta, globals_ = momenta.to(dtype), globals_.to(dtype)
        pairs = None
        if with_pairs and self.n_pair_channels:
            parts = [self.scaler.pairs(momenta, types)] if self.pair else []
            if self.interaction != "none":
                parts.append(interaction_matrix(momenta, types, self.interaction).unsqueeze(-1))
            pairs = torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0]
        return EncoderInputs(self.scaler.objects(momenta, types), types != 0,
                             self.scaler.globals(momenta, types, globals_), pairs, momenta, types)

    @torch.no_grad()
    def fit_input_scaling(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> None:
        """Fit the input standardisation on training events; it is stored in buffers (state_dict).

        Parameters
        ----------
        momenta : Tensor, shape (N, P', 4)
            GeV.
        types : Tensor, shape (N, P'), long
        globals_ : Tensor, shape (N, G)
        """
        momenta, types, globals_ = (torch.as_tensor(a) for a in (momenta, types, globals_))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            conformed = self._conform(momenta, types, globals_)
        self.scaler.fit_input_scaling(*conformed)

    def forward(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> Tensor:  # pragma: no cover
        raise NotImplementedError

    def encode_objects(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> tuple[Tensor, Tensor]:
        """Per-object embeddings (B, P', embed_dim), zero in padded slots, and the event embedding (B, embed_dim).

        The object slots are those of the input (no truncation: P' ≤ ``n_objects`` is required).

        Raises
        ------
        OptionError
            For an encoder without per-object embeddings.
        """
        raise OptionError(f"the {type(self).__name__} encoder has no per-object embeddings; use one of those "
                          "listed in docs/assignment.md §2")

    def _require_all_slots(self, momenta: Tensor) -> None:
        if momenta.shape[1] > self.n_objects:
            raise OptionError(f"per-object embeddings need every slot: {momenta.shape[1]} object slots but "
                              f"n_objects={self.n_objects}")


class PackedObjectEncoder(ObjectEncoder):
    """An encoder whose per-object layers run on the packed real objects and then pool them into the event
    embedding: subclasses define ``_particles`` (inputs → packed objects (N, D), their :class:`TokenPacking`, the
    scaled globals) and ``_event`` (those → (B, D)); ``forward`` and ``encode_objects`` follow."""

    def forward(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> Tensor:
        """Event embedding, shape (B, embed_dim); see the module docstring for the inputs."""
        return self._event(*self._particles(momenta, types, globals_))

    def encode_objects(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> tuple[Tensor, Tensor]:
        """Per-object embeddings after the per-object blocks (B, P, D) and the event embedding (B, D)."""
        self._require_all_slots(momenta)
        x, packing, glob = self._particles(momenta, types, globals_)
        return packing.scatter(x), self._event(x, packing, glob)
