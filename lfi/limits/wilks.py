"""Wilks' theorem: thresholds and p-values of the test statistic q = −2Δlog L.

Asymptotically q(θ) at the true θ follows a χ² distribution with D degrees of freedom (Wilks 1938;
Cowan, Cranmer, Gross, Vitells, arXiv:1007.1727, Sec. 3). With D = 2 the thresholds for 68.27, 95.45 and
99.73 % CL are q = 2.30, 6.18 and 11.83 (docs/statistics.md §5).

The χ² distribution is evaluated through the regularised incomplete gamma function,
P(χ²_D ≤ q) = γ(D/2, q/2) / Γ(D/2), so importing this module does not import ``scipy.stats``.
"""

from __future__ import annotations

import numpy as np

from lfi.errors import OptionError

__all__ = ["DEFAULT_CL", "q_threshold", "p_value"]

#: The Gaussian 1σ, 2σ and 3σ coverage probabilities used for contours (docs/statistics.md §5).
DEFAULT_CL: tuple[float, ...] = (0.6827, 0.9545, 0.9973)


def _check_dof(dof: int) -> int:
    if isinstance(dof, bool) or int(dof) != dof or dof < 1:
        raise ValueError(f"dof must be a positive integer, got {dof!r}")
    return int(dof)


def q_threshold(cl: float | np.ndarray, dof: int = 2) -> float | np.ndarray:
    """Threshold on q = −2Δlog L for a confidence level, by Wilks' theorem.

    Implements q_c = F⁻¹_{χ²_D}(CL) (arXiv:1007.1727, Sec. 3; docs/statistics.md §5).

    Parameters
    ----------
    cl : float or array_like, values in (0, 1)
        Confidence level(s), e.g. 0.6827.
    dof : int, default 2
        Degrees of freedom D (the number of parameters of interest).

    Returns
    -------
    float or ndarray
        Threshold(s) q_c; same shape as ``cl``.

    Raises
    ------
    lfi.errors.OptionError
        (a ValueError) If ``cl`` is not strictly between 0 and 1.
    ValueError
        If ``dof`` is not a positive integer.

    Examples
    --------
    >>> [round(float(q_threshold(c)), 2) for c in DEFAULT_CL]
    [2.3, 6.18, 11.83]
    """
    from scipy.special import gammaincinv

    dof = _check_dof(dof)
    cl_arr = np.asarray(cl, dtype=np.float64)
    if not np.all((cl_arr > 0.0) & (cl_arr < 1.0)):
        raise OptionError(f"cl must lie strictly between 0 and 1, got {cl!r}")
    q = 2.0 * gammaincinv(dof / 2.0, cl_arr)
    return float(q) if q.ndim == 0 else q


def p_value(q: float | np.ndarray, dof: int = 2) -> float | np.ndarray:
    """p-value of an observed q = −2Δlog L, by Wilks' theorem: p = P(χ²_D > q).

    Implements p = 1 − F_{χ²_D}(q) (arXiv:1007.1727, Sec. 3). Negative q (an imperfect estimator can
    return them) are treated as 0, i.e. p = 1; NaN stays NaN and q = +inf gives p = 0.

    Parameters
    ----------
    q : float or array_like
        Test statistic(s), any shape.
    dof : int, default 2
        Degrees of freedom D.

    Returns
    -------
    float or ndarray
        p-value(s), same shape as ``q``.

    Examples
    --------
    >>> round(float(p_value(2.0 * np.log(20.0))), 6)  # D = 2: p = exp(−q/2)
    0.05
    """
    from scipy.special import gammaincc

    dof = _check_dof(dof)
    q_arr = np.asarray(q, dtype=np.float64)
    p = gammaincc(dof / 2.0, np.maximum(q_arr, 0.0) / 2.0)
    p = np.where(np.isnan(q_arr), np.nan, p)
    return float(p) if p.ndim == 0 else p
