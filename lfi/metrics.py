"""Classification metrics: weighted ROC, AUC, ε_B at fixed ε_S, rejection, significance, luminosity equivalents.

Pure functions of arrays (no I/O, no global state). Conventions:

- ``scores`` (N,): larger = more signal-like; an event passes a cut at threshold c if score ≥ c.
- ``labels`` (N,): 1/True for signal, 0/False for background.
- ``weights`` (N,): event weights, e.g. in pb. Negative weights (NLO generators) are handled explicitly by
  ``negative_weights``: ``"keep"`` (default) uses signed sums, so an efficiency is Σ_pass w / Σ w, an
  unbiased estimate whose ROC may be locally non-monotonic; ``"clip"`` sets negative weights to 0;
  ``"error"`` raises. Each class must have a positive total weight.
- Errors: a setting or input a user can fix (``negative_weights``, a working point, ``rel_syst``, ``lumi``, an
  empty class) raises :class:`lfi.errors.OptionError`, a ValueError; malformed arrays raise ValueError.
- Yields: s = L·σ_S·ε_S, b = L·σ_B·ε_B with cross sections in pb and L in pb⁻¹ (1 fb⁻¹ = 1000 pb⁻¹).

Significances: s/√b and, with a relative background systematic δ, s/√(b + (δ·b)²) (docs/statistics.md §9;
arXiv:2211.05143); the Asimov discovery significance of Cowan, Cranmer, Gross, Vitells,
arXiv:1007.1727, Eq. (97), and its extension with a background uncertainty σ_b = δ·b (G. Cowan,
"Discovery sensitivity for a counting experiment with background uncertainty", 2012).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from lfi.errors import OptionError

__all__ = [
    "DEFAULT_SIGNAL_EFFICIENCIES",
    "roc_curve",
    "auc",
    "background_efficiency",
    "rejection",
    "significance",
    "asimov_significance",
    "luminosity_for_significance",
    "equivalent_luminosity_factor",
    "classification_summary",
]

#: Working points ε_S of the classification tables (docs/statistics.md §9).
DEFAULT_SIGNAL_EFFICIENCIES: tuple[float, ...] = (0.3, 0.5, 0.7)

NegativeWeights = Literal["keep", "clip", "error"]


def _prepare(
    scores: np.ndarray, labels: np.ndarray, weights: np.ndarray | None, negative_weights: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1:
        raise ValueError(f"scores must have shape (N,), got {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contain non-finite values")
    y_raw = np.asarray(labels)
    if y_raw.shape != s.shape:
        raise ValueError(f"labels must have the shape of scores {s.shape}, got {y_raw.shape}")
    if not np.all((y_raw == 0) | (y_raw == 1)):
        raise ValueError("labels must be 0/1 or False/True (1 = signal)")
    y = y_raw.astype(bool)
    w = np.ones_like(s) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != s.shape:
        raise ValueError(f"weights must have the shape of scores {s.shape}, got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights contain non-finite values")
    if negative_weights == "clip":
        w = np.maximum(w, 0.0)
    elif negative_weights == "error":
        if np.any(w < 0):
            raise OptionError(f"{int(np.sum(w < 0))} negative weights with negative_weights='error'")
    elif negative_weights != "keep":
        raise OptionError(f"negative_weights must be 'keep', 'clip' or 'error', got {negative_weights!r}")
    for name, mask in (("signal", y), ("background", ~y)):
        total = w[mask].sum()
        if not total > 0:
            raise OptionError(f"the {name} class needs a positive total weight, got {total:g}")
    return s, y, w


def roc_curve(
    scores: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    negative_weights: NegativeWeights = "keep",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted ROC curve: background and signal efficiency for every distinct threshold.

    Events with equal scores share one threshold (so a weighted event equals duplicated events exactly).

    Parameters
    ----------
    scores : array_like, shape (N,)
        Classifier output, larger = more signal-like.
    labels : array_like, shape (N,)
        1/True = signal, 0/False = background.
    weights : array_like, shape (N,), optional
        Event weights (any unit); default 1.
    negative_weights : {"keep", "clip", "error"}, default "keep"
        See the module docstring.

    Returns
    -------
    eps_b : ndarray, shape (M + 1,)
        Background efficiency ε_B(c) = Σ_{B, score ≥ c} w / Σ_B w, starting at 0.
    eps_s : ndarray, shape (M + 1,)
        Signal efficiency, starting at 0 and ending at 1.
    thresholds : ndarray, shape (M + 1,)
        Decreasing; the first is +inf (nothing passes). M = number of distinct scores.

    Raises
    ------
    ValueError
        On shape mismatch, non-finite input, labels other than 0/1, an unknown ``negative_weights`` or a
        class with non-positive total weight.

    Examples
    --------
    >>> eps_b, eps_s, _ = roc_curve([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0])
    >>> eps_b.tolist(), eps_s.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    s, y, w = _prepare(scores, labels, weights, negative_weights)
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted, w_sorted = s[order], y[order], w[order]
    cum_s = np.cumsum(np.where(y_sorted, w_sorted, 0.0))
    cum_b = np.cumsum(np.where(y_sorted, 0.0, w_sorted))
    last = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    eps_s = np.r_[0.0, cum_s[last] / cum_s[-1]]
    eps_b = np.r_[0.0, cum_b[last] / cum_b[-1]]
    return eps_b, eps_s, np.r_[np.inf, s_sorted[last]]


def auc(
    scores: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    negative_weights: NegativeWeights = "keep",
) -> float:
    """Area under the weighted ROC curve, ∫ ε_S dε_B (trapezoidal; exact for step ROCs).

    Equals the weighted Mann–Whitney statistic P(score_S > score_B) + ½ P(score_S = score_B);
    0.5 for identical distributions, 1 for perfectly separated ones. Arguments as :func:`roc_curve`.

    Returns
    -------
    float

    Examples
    --------
    >>> auc([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0])
    0.75
    """
    eps_b, eps_s, _ = roc_curve(scores, labels, weights, negative_weights=negative_weights)
    return float(np.sum(np.diff(eps_b) * (eps_s[1:] + eps_s[:-1]) / 2.0))


def background_efficiency(
    eps_b: np.ndarray, eps_s: np.ndarray, signal_efficiency: float | Sequence[float] = DEFAULT_SIGNAL_EFFICIENCIES
) -> np.ndarray | float:
    """ε_B at given ε_S, interpolated linearly on the ROC curve.

    Takes the first ROC point with ε_S ≥ target and interpolates from its predecessor (a tie group's
    step is traversed linearly, i.e. a random choice among tied events).

    Parameters
    ----------
    eps_b, eps_s : array_like, shape (M,)
        ROC curve from :func:`roc_curve` (starting at (0, 0)).
    signal_efficiency : float or sequence of float in (0, 1]
        Working points ε_S; default (0.3, 0.5, 0.7).

    Returns
    -------
    float or ndarray
        ε_B for each working point (NaN if the curve never reaches it).

    Examples
    --------
    >>> background_efficiency([0.0, 0.5, 1.0], [0.0, 1.0, 1.0], 0.5)
    0.25
    """
    fb, fs = np.asarray(eps_b, dtype=np.float64), np.asarray(eps_s, dtype=np.float64)
    if fb.ndim != 1 or fb.shape != fs.shape or len(fb) < 2:
        raise ValueError(f"eps_b and eps_s must be ROC arrays of equal shape (M,), got {fb.shape} and {fs.shape}")
    targets = np.asarray(signal_efficiency, dtype=np.float64)
    if not np.all((targets > 0) & (targets <= 1)):
        raise OptionError(f"signal_efficiency must lie in (0, 1], got {signal_efficiency!r}")
    out = []
    for target in np.atleast_1d(targets):
        hits = np.flatnonzero(fs >= target)
        hits = hits[hits > 0]
        if len(hits) == 0:
            out.append(np.nan)
            continue
        i = hits[0]
        step = fs[i] - fs[i - 1]
        frac = (target - fs[i - 1]) / step if step > 0 else 1.0
        out.append(fb[i - 1] + frac * (fb[i] - fb[i - 1]))
    result = np.array(out)
    return float(result[0]) if targets.ndim == 0 else result


def rejection(eps_b: np.ndarray | float) -> np.ndarray | float:
    """Background rejection 1/ε_B (+inf where ε_B = 0).

    Examples
    --------
    >>> rejection(0.02)
    50.0
    """
    fb = np.asarray(eps_b, dtype=np.float64)
    with np.errstate(divide="ignore"):
        r = np.where(fb == 0, np.inf, 1.0 / np.where(fb == 0, 1.0, fb))
    return float(r) if r.ndim == 0 else r


def _yields(s: np.ndarray | float, b: np.ndarray | float, rel_syst: float) -> tuple[np.ndarray, np.ndarray, float]:
    s_arr, b_arr = np.asarray(s, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if np.any(b_arr < 0) or np.any(~np.isfinite(b_arr)) or np.any(~np.isfinite(s_arr)):
        raise ValueError("s and b must be finite and b ≥ 0 (expected event counts)")
    if not (np.isfinite(rel_syst) and rel_syst >= 0):
        raise OptionError(f"rel_syst must be a non-negative relative uncertainty, got {rel_syst!r}")
    return s_arr, b_arr, float(rel_syst)


def significance(s: np.ndarray | float, b: np.ndarray | float, rel_syst: float = 0.0) -> np.ndarray | float:
    """Simple significance s/√b, or s/√(b + (δ·b)²) with a relative background systematic δ.

    Implements b_sys = b + (δ·b)² of docs/statistics.md §9 (arXiv:2211.05143, which uses δ = 0.2).

    Parameters
    ----------
    s, b : float or array_like (broadcast)
        Expected signal and background events (b ≥ 0; b = 0 gives +inf).
    rel_syst : float, default 0
        δ, relative uncertainty on b.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> significance(10.0, 100.0), round(significance(10.0, 100.0, rel_syst=0.1), 4)
    (1.0, 0.7071)
    """
    s_arr, b_arr, delta = _yields(s, b, rel_syst)
    var = b_arr + (delta * b_arr) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, s_arr / np.sqrt(np.where(var > 0, var, 1.0)), np.inf)
    return float(z) if z.ndim == 0 else z


def asimov_significance(s: np.ndarray | float, b: np.ndarray | float, rel_syst: float = 0.0) -> np.ndarray | float:
    """Median discovery significance of a counting experiment (Asimov), optionally with σ_b = δ·b.

    Without systematics (arXiv:1007.1727, Eq. (97)): Z = √(2[(s + b)·ln(1 + s/b) − s]).
    With σ_b = δ·b (Cowan 2012, see module docstring):
    Z = √(2[(s + b)·ln((s + b)(b + σ_b²)/(b² + (s + b)σ_b²)) − (b²/σ_b²)·ln(1 + σ_b² s/(b(b + σ_b²)))]).
    Reduces to s/√(b + σ_b²) for s ≪ b.

    Parameters
    ----------
    s, b : float or array_like (broadcast)
        Expected signal (≥ 0) and background (> 0) events.
    rel_syst : float, default 0
        δ = σ_b / b.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(asimov_significance(5.0, 1.0), 4)
    3.3913
    """
    s_arr, b_arr, delta = _yields(s, b, rel_syst)
    if np.any(b_arr <= 0) or np.any(s_arr < 0):
        raise ValueError("asimov_significance needs s ≥ 0 and b > 0")
    if delta == 0.0:
        z2 = 2.0 * ((s_arr + b_arr) * np.log1p(s_arr / b_arr) - s_arr)
    else:
        v = (delta * b_arr) ** 2
        n = s_arr + b_arr
        z2 = 2.0 * (
            n * np.log(n * (b_arr + v) / (b_arr**2 + n * v)) - b_arr**2 / v * np.log1p(v * s_arr / (b_arr * (b_arr + v)))
        )
    z = np.sqrt(np.maximum(z2, 0.0))
    return float(z) if z.ndim == 0 else z


def luminosity_for_significance(
    sigma_signal: np.ndarray | float,
    sigma_background: np.ndarray | float,
    z: float = 5.0,
    *,
    rel_syst: float = 0.0,
) -> np.ndarray | float:
    """Luminosity at which s/√(b + (δ·b)²) reaches ``z``, with s = L·σ_S and b = L·σ_B.

    Solves L·σ_S = z·√(L·σ_B + δ²L²σ_B²):  L = z²·σ_B / (σ_S² − z²δ²σ_B²). With δ > 0 the significance
    saturates at σ_S/(δ·σ_B); beyond that no luminosity suffices and +inf is returned.

    Parameters
    ----------
    sigma_signal, sigma_background : float or array_like
        Cross sections after selection, in pb (σ_B > 0).
    z : float, default 5
    rel_syst : float, default 0

    Returns
    -------
    float or ndarray
        L in pb⁻¹.

    Examples
    --------
    >>> luminosity_for_significance(0.01, 1.0, 5.0)  # pb⁻¹
    250000.0
    """
    s_arr, b_arr, delta = _yields(sigma_signal, sigma_background, rel_syst)
    if np.any(b_arr <= 0) or np.any(s_arr <= 0) or not z > 0:
        raise ValueError("luminosity_for_significance needs sigma_signal > 0, sigma_background > 0 and z > 0")
    denom = s_arr**2 - (z * delta * b_arr) ** 2
    lumi = np.where(denom > 0, z**2 * b_arr / np.where(denom > 0, denom, 1.0), np.inf)
    return float(lumi) if lumi.ndim == 0 else lumi


def equivalent_luminosity_factor(z: np.ndarray | float, z_ref: np.ndarray | float) -> np.ndarray | float:
    """Luminosity factor the reference needs to match a significance: (z/z_ref)².

    Exact when Z ∝ √L (s/√b, Asimov Z without systematics). This is the convention of arXiv:2211.05143
    ("PN requires 82 % more luminosity" for Z = 2.98 vs 2.21); with a background systematic Z is not ∝ √L
    and :func:`luminosity_for_significance` gives the actual luminosity.

    Examples
    --------
    >>> round(equivalent_luminosity_factor(2.98, 2.21), 2)
    1.82
    """
    z_arr, ref = np.asarray(z, dtype=np.float64), np.asarray(z_ref, dtype=np.float64)
    if np.any(ref <= 0):
        raise ValueError("z_ref must be positive")
    f = (z_arr / ref) ** 2
    return float(f) if f.ndim == 0 else f


def _json_float(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def classification_summary(
    scores: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    signal_efficiencies: Sequence[float] = DEFAULT_SIGNAL_EFFICIENCIES,
    negative_weights: NegativeWeights = "keep",
    lumi: float | None = None,
    rel_syst: float = 0.0,
) -> dict:
    """JSON-able classification table row: AUC and, per working point, ε_B, rejection and significances.

    If ``lumi`` (pb⁻¹) is given, ``weights`` must be in pb and sum per class to the selected cross sections
    (rescale a test split), and each working point gets s = L·ε_S·Σ_S w, b = L·ε_B·Σ_B w, s/√b and
    s/√(b + (δ·b)²) with δ = ``rel_syst``.

    Returns
    -------
    dict
        ``{"auc": float, "working_points": [{"eps_s", "eps_b", "rejection", ["s", "b", "significance",
        "significance_syst"]}, ...], ["lumi", "rel_syst"]}``; non-finite numbers (rejection at ε_B = 0)
        become ``None``.
    """
    s, y, w = _prepare(scores, labels, weights, negative_weights)
    eps_b, eps_s, _ = roc_curve(s, y, w, negative_weights="keep")  # weights already prepared
    area = float(np.sum(np.diff(eps_b) * (eps_s[1:] + eps_s[:-1]) / 2.0))
    targets = np.atleast_1d(np.asarray(signal_efficiencies, dtype=np.float64))
    eff_b = np.atleast_1d(background_efficiency(eps_b, eps_s, targets))
    out: dict = {"auc": area, "working_points": []}
    if lumi is not None:
        lumi = float(lumi)
        if not (np.isfinite(lumi) and lumi > 0):
            raise OptionError(f"lumi must be a positive luminosity in pb⁻¹, got {lumi!r}")
        out["lumi"], out["rel_syst"] = lumi, float(rel_syst)
        total_s, total_b = w[y].sum(), w[~y].sum()
    for es, eb in zip(targets, eff_b):
        row = {"eps_s": float(es), "eps_b": _json_float(eb), "rejection": _json_float(rejection(eb))}
        if lumi is not None:
            n_s, n_b = lumi * es * total_s, lumi * eb * total_b
            valid = bool(np.isfinite(n_b) and n_b >= 0)  # ε_B can be NaN (not reached) or < 0 (negative weights)
            row.update(
                s=float(n_s),
                b=_json_float(n_b),
                significance=_json_float(significance(n_s, n_b)) if valid else None,
                significance_syst=_json_float(significance(n_s, n_b, rel_syst)) if valid else None,
            )
        out["working_points"].append(row)
    return out
