"""Encoder inputs from object four-momenta: per-object, event-level and pairwise features, SM couplings.

Everything here is plain torch, batched, runs on the device of its inputs and respects padding.
Shape convention (used in every docstring below): ``B`` events, ``P`` object slots, ``G`` given
event-level globals.

- ``momenta`` : (B, P, 4) float, (E, px, py, pz) in GeV, zero-padded;
- ``types`` : (B, P) long, 0 pad, 1 jet, 2 b-jet, 3 e-, 4 e+, 5 mu-, 6 mu+, 7 photon
  (:data:`TYPE_NAMES` = :data:`lfi.objects.OBJECT_TYPES`, the row order of the SM interaction matrices); the
  padding mask is ``types != 0``.

Pairwise features follow ParT (Qu, Li, Qian, arXiv:2202.03772): Δ = √(Δy² + Δφ²), k_T = min(p_T,i, p_T,j)·Δ,
z = min(p_T,i, p_T,j)/(p_T,i + p_T,j), m² = (E_i + E_j)² − |p_i + p_j|², used as logarithms clamped at
:data:`EPS` (so collinear and massless pairs are finite), plus the seed's ``mass`` = m_ij and ``delta_r`` = ΔR_ij
(pseudorapidity). The SM interaction matrices follow docs/method.md §7 (arXiv:2211.05143), made symmetric.
Every feature of a pair that involves padding is 0.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn

from lfi.objects import ANTIMUON, BJET, ELECTRON, JET, MUON, N_TYPES, PHOTON, POSITRON
from lfi.objects import OBJECT_TYPES as TYPE_NAMES
from lfi.errors import OptionError

__all__ = [
    "TYPE_NAMES", "N_TYPES", "OBJECT_FEATURES", "N_CONTINUOUS_OBJECT_FEATURES", "DERIVED_GLOBALS",
    "PAIR_FEATURES", "INTERACTIONS", "EPS", "Q_MIN",
    "kinematics", "delta_phi", "object_features", "global_features", "pair_features",
    "alpha_em", "alpha_s", "g_e", "g_s", "sm_matrix", "interaction_matrix", "parse_pair", "parse_interaction",
    "InputScaler",
]

#: Per-object feature channels: 5 continuous (standardised), then a one-hot of the 7 real types.
#: φ enters only relative to the leading (highest-p_T) object: events are azimuthally symmetric, and an absolute
#: φ would leave every network to learn wrapped differences of angles. η enters absolutely and relative.
OBJECT_FEATURES = ("log_pt", "log_e", "eta", "delta_eta_lead", "delta_phi_lead", "log1p_mass") + tuple(
    f"is_{t}" for t in TYPE_NAMES[1:])
N_CONTINUOUS_OBJECT_FEATURES = 6
#: Event-level features computed from the objects, appended after the given globals.
DERIVED_GLOBALS = ("log1p_ht", "n_objects")
PAIR_FEATURES = ("mass", "delta_r", "ln_kt", "ln_z", "ln_delta", "ln_m2")
INTERACTIONS = ("none", "sm_ids", "sm_const", "sm_running")
#: Clamp of the ParT logarithms (as in ParT): ln of a vanishing Δ, k_T, z or m² is ln(1e-8) ≈ −18.4.
EPS = 1e-8
_TINY = 1e-20
#: Lowest scale Q (GeV) at which the running couplings are evaluated (α_s has its pole at 0.045 GeV).
Q_MIN = 1.0

# Couplings of docs/method.md §7.
G_S_CONST, G_Z, G_E_CONST = 1.22, 0.758, 0.31
MU0 = 91.1876  # GeV
ALPHA_EM_MU0, N_EM = 1.0 / 127.5, 3
ALPHA_S_MU0, N_F = 0.118, 6


# --------------------------------------------------------------------------------------------------
# kinematics
# --------------------------------------------------------------------------------------------------
def kinematics(momenta: Tensor) -> dict[str, Tensor]:
    """Transverse momentum, pseudorapidity, rapidity, azimuth, energy and mass of every slot.

    Parameters
    ----------
    momenta : Tensor, shape (B, P, 4)
        (E, px, py, pz) in GeV; padded slots are zero.

    Returns
    -------
    dict of str to Tensor, each shape (B, P)
        ``pt`` (GeV), ``eta``, ``y`` (rapidity), ``phi`` (rad, in (−π, π]), ``e`` (GeV), ``mass`` (GeV,
        √max(E² − p², 0)). A padded slot has all of them 0; η and y stay finite for objects along the beam.
    """
    e, px, py, pz = momenta.unbind(-1)
    pt = torch.sqrt(px * px + py * py)
    eta = torch.asinh(pz / pt.clamp(min=_TINY))
    y = 0.5 * (torch.log((e + pz).clamp(min=_TINY)) - torch.log((e - pz).clamp(min=_TINY)))
    phi = torch.atan2(py, px)
    mass = torch.sqrt((e * e - px * px - py * py - pz * pz).clamp(min=0.0))
    return {"pt": pt, "eta": eta, "y": y, "phi": phi, "e": e, "mass": mass}


def delta_phi(phi_a: Tensor, phi_b: Tensor) -> Tensor:
    """φ_a − φ_b wrapped into [−π, π) (broadcasting)."""
    return torch.remainder(phi_a - phi_b + math.pi, 2 * math.pi) - math.pi


def object_features(momenta: Tensor, types: Tensor) -> Tensor:
    """Per-object input channels :data:`OBJECT_FEATURES`, unstandardised.

    Parameters
    ----------
    momenta : Tensor, shape (B, P, 4)
        GeV.
    types : Tensor, shape (B, P), long

    Returns
    -------
    Tensor, shape (B, P, 13)
        ln p_T, ln E (GeV), η, η − η_lead, φ − φ_lead (wrapped), ln(1 + m/GeV), one-hot of types 1..7, where
        "lead" is the real object of highest p_T (independent of the slot order); all zero for padded slots.
    """
    k = kinematics(momenta)
    mask = (types != 0).unsqueeze(-1)
    lead = k["pt"].masked_fill(types == 0, -1.0).argmax(dim=1, keepdim=True)  # (B, 1)
    eta_lead, phi_lead = torch.gather(k["eta"], 1, lead), torch.gather(k["phi"], 1, lead)
    continuous = torch.stack(
        [torch.log(k["pt"].clamp(min=EPS)), torch.log(k["e"].clamp(min=EPS)), k["eta"], k["eta"] - eta_lead,
         delta_phi(k["phi"], phi_lead), torch.log1p(k["mass"])], dim=-1)
    one_hot = nn.functional.one_hot(types.long().clamp(min=0), N_TYPES)[..., 1:].to(momenta.dtype)
    return torch.cat([continuous, one_hot], dim=-1).masked_fill(~mask, 0.0)


def global_features(momenta: Tensor, types: Tensor, globals_: Tensor) -> Tensor:
    """Event-level inputs: the given globals followed by :data:`DERIVED_GLOBALS`.

    Parameters
    ----------
    momenta : Tensor, shape (B, P, 4)
    types : Tensor, shape (B, P), long
    globals_ : Tensor, shape (B, G)
        E.g. (MET in GeV, MET φ); G may be 0.

    Returns
    -------
    Tensor, shape (B, G + 2)
        ``globals_``, ln(1 + H_T/GeV) with H_T = Σ p_T of the real objects, and their number.
    """
    mask = types != 0
    pt = kinematics(momenta)["pt"].masked_fill(~mask, 0.0)
    derived = torch.stack([torch.log1p(pt.sum(-1)), mask.sum(-1).to(momenta.dtype)], dim=-1)
    return torch.cat([globals_.to(momenta.dtype), derived], dim=-1)


def pair_features(momenta: Tensor, types: Tensor, names: Sequence[str] = PAIR_FEATURES) -> Tensor:
    """Pairwise kinematic features of every ordered pair of slots (symmetric in i ↔ j).

    Parameters
    ----------
    momenta : Tensor, shape (B, P, 4)
        GeV.
    types : Tensor, shape (B, P), long
    names : sequence of str
        Any of :data:`PAIR_FEATURES`, in the order wanted:

        - ``mass``: m_ij = √max(m², 0) in GeV; ``delta_r``: √(Δη² + Δφ²);
        - ``ln_kt``: ln max(k_T/GeV, ε); ``ln_z``: ln max(z, ε); ``ln_delta``: ln max(Δ, ε) with rapidity y;
          ``ln_m2``: ln max(m²/GeV², ε); ε = :data:`EPS`.

    Returns
    -------
    Tensor, shape (B, P, P, len(names))
        0 wherever slot i or j is padding. The diagonal holds the features of an object with itself.
    """
    names = parse_pair(names)
    k = kinematics(momenta)
    ki = {key: v.unsqueeze(2) for key, v in k.items()}  # (B, P, 1)
    kj = {key: v.unsqueeze(1) for key, v in k.items()}  # (B, 1, P)
    dphi = delta_phi(ki["phi"], kj["phi"])
    out = []
    m2 = None
    for name in names:
        if name in ("mass", "ln_m2") and m2 is None:
            s = momenta.unsqueeze(2) + momenta.unsqueeze(1)  # (B, P, P, 4)
            m2 = s[..., 0] ** 2 - s[..., 1] ** 2 - s[..., 2] ** 2 - s[..., 3] ** 2
        if name == "mass":
            out.append(torch.sqrt(m2.clamp(min=0.0)))
        elif name == "delta_r":
            out.append(torch.sqrt((ki["eta"] - kj["eta"]) ** 2 + dphi**2))
        elif name == "ln_m2":
            out.append(torch.log(m2.clamp(min=EPS)))
        else:
            delta = torch.sqrt((ki["y"] - kj["y"]) ** 2 + dphi**2)
            pt_min = torch.minimum(ki["pt"], kj["pt"])
            if name == "ln_delta":
                out.append(torch.log(delta.clamp(min=EPS)))
            elif name == "ln_kt":
                out.append(torch.log((pt_min * delta).clamp(min=EPS)))
            else:  # ln_z
                out.append(torch.log((pt_min / (ki["pt"] + kj["pt"]).clamp(min=EPS)).clamp(min=EPS)))
    shape = (*momenta.shape[:2], momenta.shape[1])
    feats = torch.stack([f.expand(shape) for f in out], dim=-1) if out else momenta.new_zeros((*shape, 0))
    valid = (types != 0).unsqueeze(2) & (types != 0).unsqueeze(1)
    return feats.masked_fill(~valid.unsqueeze(-1), 0.0)


# --------------------------------------------------------------------------------------------------
# Standard-Model interaction matrices (docs/method.md §7)
# --------------------------------------------------------------------------------------------------
def alpha_em(q: Tensor) -> Tensor:
    """Running QED coupling α(Q²) = α(μ0²)/[1 − n·α(μ0²)/(3π)·ln(Q²/μ0²)], n = 3, α(μ0²) = 1/127.5.

    ``q`` is Q in GeV (any shape), clamped below at :data:`Q_MIN`; μ0 = 91.1876 GeV.
    """
    log = torch.log((q.clamp(min=Q_MIN) / MU0) ** 2)
    return ALPHA_EM_MU0 / (1.0 - N_EM * ALPHA_EM_MU0 / (3.0 * math.pi) * log)


def alpha_s(q: Tensor) -> Tensor:
    """Running strong coupling α_s(Q²) = α_s(μ0²)/[1 + α_s(μ0²)(33 − 2n_f)/(12π)·ln(Q²/μ0²)], n_f = 6.

    ``q`` is Q in GeV (any shape), clamped below at :data:`Q_MIN`; α_s(μ0²) = 0.118.
    """
    log = torch.log((q.clamp(min=Q_MIN) / MU0) ** 2)
    return ALPHA_S_MU0 / (1.0 + ALPHA_S_MU0 * (33 - 2 * N_F) / (12.0 * math.pi) * log)


def g_e(q: Tensor) -> Tensor:
    """Electromagnetic coupling √(4π α(Q²)); g_e(μ0) = 0.3139."""
    return torch.sqrt(4 * math.pi * alpha_em(q))


def g_s(q: Tensor) -> Tensor:
    """Strong coupling √(4π α_s(Q²)); g_s(μ0) = 1.2177."""
    return torch.sqrt(4 * math.pi * alpha_s(q))


def _coupling_patterns() -> tuple[Tensor, Tensor, Tensor]:
    """(C_s, C_Z, C_e), each (8, 8) float64: the matrix is g_s·C_s + g_Z·C_Z + g_e·C_e."""
    jet, bjet, em, ep, mm, mp, gam = JET, BJET, ELECTRON, POSITRON, MUON, ANTIMUON, PHOTON
    c_s, c_z, c_e = (torch.zeros(N_TYPES, N_TYPES, dtype=torch.float64) for _ in range(3))

    def put(c: Tensor, a: int, b: int, v: float) -> None:
        c[a, b] = c[b, a] = v

    for a, b in ((jet, jet), (jet, bjet), (bjet, bjet)):
        put(c_s, a, b, 1.0)
    for a, b in ((em, ep), (mm, mp)):
        put(c_z, a, b, 1.0)
    for lep in (em, ep, mm, mp):
        put(c_e, lep, gam, 1.0)
    put(c_e, jet, gam, 1.0 / 2.0)
    put(c_e, bjet, gam, 1.0 / 3.0)
    return c_s, c_z, c_e


def sm_matrix(kind: str) -> Tensor:
    """The constant 8 × 8 SM interaction matrix ``sm_ids`` or ``sm_const`` (float64, symmetric).

    ``sm_const``: g_s = 1.22 (j–j, j–b, b–b), g_Z = 0.758 (e−e+, μ−μ+), g_e = 0.31 (charged lepton–γ),
    g_e/2 (j–γ), g_e/3 (b–γ), 0 otherwise; ``sm_ids`` is 1 where ``sm_const`` is non-zero.
    Rows and columns follow :data:`TYPE_NAMES`.
    """
    c_s, c_z, c_e = _coupling_patterns()
    const = G_S_CONST * c_s + G_Z * c_z + G_E_CONST * c_e
    if kind == "sm_const":
        return const
    if kind == "sm_ids":
        return (const != 0).to(torch.float64)
    raise OptionError(f"no constant SM matrix {kind!r}; valid: 'sm_ids', 'sm_const'")


def interaction_matrix(momenta: Tensor, types: Tensor, kind: str) -> Tensor:
    """SM interaction term U_ij of every pair of slots (docs/method.md §7).

    Parameters
    ----------
    momenta : Tensor, shape (B, P, 4)
        GeV (only p_T is used, by ``sm_running``).
    types : Tensor, shape (B, P), long
    kind : {"sm_ids", "sm_const", "sm_running"}
        ``sm_running`` is ``sm_const`` with g_s and g_e running at Q = (p_T,i + p_T,j)/2 (g_Z fixed).

    Returns
    -------
    Tensor, shape (B, P, P), dtype of ``momenta``
        Symmetric; 0 for pairs with padding.
    """
    kind = parse_interaction(kind)
    if kind == "none":
        raise ValueError("interaction 'none' has no matrix")
    t = types.long()
    ti, tj = t.unsqueeze(2), t.unsqueeze(1)
    if kind != "sm_running":
        return sm_matrix(kind).to(momenta)[ti, tj]
    c_s, c_z, c_e = (c.to(momenta)[ti, tj] for c in _coupling_patterns())
    pt = kinematics(momenta)["pt"]
    q = 0.5 * (pt.unsqueeze(2) + pt.unsqueeze(1))
    return g_s(q) * c_s + G_Z * c_z + g_e(q) * c_e


# --------------------------------------------------------------------------------------------------
# options
# --------------------------------------------------------------------------------------------------
def parse_pair(pair: str | Sequence[str] | None) -> tuple[str, ...]:
    """Normalise a ``pair`` option: ``None``/``"none"``/``""`` → (), ``"mass,delta_r"`` → ("mass", "delta_r").

    Raises
    ------
    ValueError
        For an unknown feature name; the message lists :data:`PAIR_FEATURES`.
    """
    if pair is None:
        return ()
    items = pair.split(",") if isinstance(pair, str) else list(pair)
    names = tuple(s.strip() for s in items if s.strip() and s.strip().lower() != "none")
    bad = [n for n in names if n not in PAIR_FEATURES]
    if bad:
        raise OptionError(f"unknown pair feature(s) {bad}; valid: 'none' or a comma-separated subset of "
                         f"{', '.join(PAIR_FEATURES)} (e.g. 'mass,delta_r' or 'ln_kt,ln_z,ln_delta,ln_m2')")
    if len(set(names)) != len(names):
        raise OptionError(f"pair features repeated in {pair!r}")
    return names


def parse_interaction(interaction: str | None) -> str:
    """Normalise an ``interaction`` option (``None`` → "none"); unknown values raise a ValueError listing
    :data:`INTERACTIONS`."""
    value = "none" if interaction is None else str(interaction).strip().lower()
    if value not in INTERACTIONS:
        raise OptionError(f"unknown interaction {interaction!r}; valid: {', '.join(INTERACTIONS)}")
    return value


# --------------------------------------------------------------------------------------------------
# input standardisation
# --------------------------------------------------------------------------------------------------
class InputScaler(nn.Module):
    """Standardised encoder inputs, with means and widths held in buffers (saved in the state_dict).

    Continuous object channels, all event-level features and the selected pair features are shifted and
    scaled by means and standard deviations fitted on training data (:meth:`fit_input_scaling`; real objects
    and real off-diagonal pairs only). One-hot channels are left as they are and padding stays 0.

    Parameters
    ----------
    n_globals : int
        G, the number of given event-level globals.
    pair : tuple of str
        Pair features to standardise (:data:`PAIR_FEATURES`), may be empty.
    """

    def __init__(self, *, n_globals: int, pair: Sequence[str] = ()) -> None:
        super().__init__()
        self.n_globals = int(n_globals)
        self.pair = parse_pair(pair)
        n_glob = self.n_globals + len(DERIVED_GLOBALS)
        for name, n in (("object", N_CONTINUOUS_OBJECT_FEATURES), ("global", n_glob), ("pair", len(self.pair))):
            self.register_buffer(f"{name}_mean", torch.zeros(n))
            self.register_buffer(f"{name}_std", torch.ones(n))
        self.register_buffer("fitted", torch.tensor(False))

    @property
    def n_object_features(self) -> int:
        return len(OBJECT_FEATURES)

    @property
    def n_global_features(self) -> int:
        return self.n_globals + len(DERIVED_GLOBALS)

    def objects(self, momenta: Tensor, types: Tensor) -> Tensor:
        """Standardised :func:`object_features`, shape (B, P, 13); padded slots are 0."""
        x = object_features(momenta, types)
        n = N_CONTINUOUS_OBJECT_FEATURES
        cont = (x[..., :n] - self.object_mean.to(x)) / self.object_std.to(x)
        return torch.cat([cont.masked_fill((types == 0).unsqueeze(-1), 0.0), x[..., n:]], dim=-1)

    def globals(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> Tensor:
        """Standardised :func:`global_features`, shape (B, G + 2)."""
        g = global_features(momenta, types, globals_)
        return (g - self.global_mean.to(g)) / self.global_std.to(g)

    def pairs(self, momenta: Tensor, types: Tensor) -> Tensor:
        """Standardised :func:`pair_features` of ``self.pair``, shape (B, P, P, n_pair); 0 for padded pairs."""
        f = pair_features(momenta, types, self.pair)
        valid = ((types != 0).unsqueeze(2) & (types != 0).unsqueeze(1)).unsqueeze(-1)
        return ((f - self.pair_mean.to(f)) / self.pair_std.to(f)).masked_fill(~valid, 0.0)

    @torch.no_grad()
    def fit_input_scaling(self, momenta: Tensor, types: Tensor, globals_: Tensor, *,
                          chunk_size: int = 4096) -> None:
        """Fit all means and widths on training events (float64 accumulation, in chunks of events).

        Parameters
        ----------
        momenta : Tensor, shape (N, P, 4)
            GeV.
        types : Tensor, shape (N, P), long
        globals_ : Tensor, shape (N, G)
        chunk_size : int
            Events per chunk (bounds the memory of the (chunk, P, P) pair features).
        """
        momenta, types, globals_ = (torch.as_tensor(a) for a in (momenta, types, globals_))
        if momenta.shape[0] == 0:
            raise ValueError("fit_input_scaling needs at least one event")
        # features in the dtype the model will see (float32 masses of light objects carry rounding noise),
        # sums in float64
        dtype = momenta.dtype if momenta.is_floating_point() else torch.float32
        sums = {name: None for name in ("object", "global", "pair")}
        for start in range(0, momenta.shape[0], chunk_size):
            m = momenta[start:start + chunk_size].to(self.object_mean.device, dtype)
            t = types[start:start + chunk_size].to(self.object_mean.device).long()
            g = globals_[start:start + chunk_size].to(self.object_mean.device, dtype)
            mask = t != 0
            obj = object_features(m, t)[..., :N_CONTINUOUS_OBJECT_FEATURES][mask]
            pairs = pair_features(m, t, self.pair)
            eye = torch.eye(t.shape[1], dtype=torch.bool, device=t.device)
            pair_mask = mask.unsqueeze(2) & mask.unsqueeze(1) & ~eye
            for name, rows in (("object", obj), ("global", global_features(m, t, g)), ("pair", pairs[pair_mask])):
                rows = rows.double()
                count = rows.new_full((rows.shape[1],), float(rows.shape[0]))
                acc = torch.stack([count, rows.sum(0), (rows**2).sum(0)])
                sums[name] = acc if sums[name] is None else sums[name] + acc
        for name, (count, s1, s2) in sums.items():
            mean = s1 / count.clamp(min=1.0)
            var = (s2 / count.clamp(min=1.0) - mean**2).clamp(min=0.0)
            std = torch.where(var > 1e-12, var.sqrt(), torch.ones_like(var))
            getattr(self, f"{name}_mean").copy_(mean)
            getattr(self, f"{name}_std").copy_(std)
        self.fitted.fill_(True)
