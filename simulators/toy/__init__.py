"""Toy simulator with latent variables and an exact likelihood (calibrates every estimator and limit).

Two parameters θ = (theta_0, theta_1); the parton-level latent z and its detector response are
described in :mod:`simulators.toy.model` and :mod:`simulators.toy.detector`. The sample stores
weights at the SM point and at six optimised morphing benchmarks (they morph exactly), and under
``/truth``:

- ``truth_events["z"]`` (N, 3): latent (z_pt GeV, z_dphi rad, z_deta);
- ``truth_events["x"]`` (N, 3): the observed point;
- ``truth_events["joint_coefficients"]`` (N, 6): g_c(z), dσ(z|θ) ∝ Σ_c α_c(θ) g_c(z);
- ``truth_events["density_coefficients"]`` (N, 6): dσ(x|θ)/dx = Σ_c α_c(θ)·coefficient_c (pb per unit x);
- ``truth["sigma_coefficients"]`` (6,): σ(θ) = Σ_c α_c(θ)·coefficient_c in pb.

The components α_c are ``lfi.morphing.monomial_components(2, 2)``; :mod:`lfi.truth` turns these into
exact log r(x|θ0, θ1).
"""

from __future__ import annotations

import numpy as np

from lfi.errors import OptionError
from lfi.events import EventSample
from lfi.events.cutflow import CUTFLOW_KEY, apply_cuts
from lfi.morphing import Morpher, monomial_components
from simulators.toy.detector import OBSERVABLES, Detector
from simulators.toy.likelihood import ExactLikelihood
from simulators.toy.model import ToyModel

__all__ = ["simulate", "ToyModel", "Detector", "ExactLikelihood", "PARAMETER_RANGE", "OBSERVABLES"]

PARAMETERS = ["theta_0", "theta_1"]
PARAMETER_RANGE = ((-1.0, -1.0), (1.0, 1.0))
_BASIS_SEED = 1


def morphing_basis() -> Morpher:
    """The toy's fixed, optimised 6-point quadratic morphing basis over θ ∈ [−1, 1]²."""
    return Morpher.optimized(monomial_components(2, 2), *PARAMETER_RANGE, n_trials=300, seed=_BASIS_SEED)


def simulate(
    n_events: int,
    seed: int = 0,
    *,
    generate_at: str = "basis",
    model: ToyModel | None = None,
    detector: Detector | None = None,
    truth: bool = True,
) -> EventSample:
    """Simulate weighted toy events.

    Parameters
    ----------
    n_events : int
        Any number ≥ 1; with fewer events than basis points some benchmarks draw none (the weights stay unbiased).
    seed : int
        Same seed, same sample.
    generate_at : {"basis", "sm"}
        Draw events unweighted at the SM only, or in equal shares at the six basis benchmarks
        (better coverage of the whole parameter range; weights combine the shares exactly).
    model, detector : optional
        Override the default physics or resolutions.
    truth : bool
        Compute the exact per-event likelihood coefficients (``density_coefficients``).

    Returns
    -------
    EventSample
        Weights in pb at the benchmarks ``sm, morph_1 … morph_6``; each column sums to σ(θ_b). The toy has no
        selection: its cut flow (``metadata["cutflow"]``) is the one step ``generated``.
    """
    if n_events < 1:
        raise OptionError(f"--events must be a positive number, got {n_events}")
    model, detector = model or ToyModel(), detector or Detector()
    rng = np.random.default_rng(seed)
    morpher = morphing_basis()
    theta_bench = np.vstack([[0.0, 0.0], morpher.basis])
    names = ["sm"] + [f"morph_{i + 1}" for i in range(len(morpher.basis))]
    exact = ExactLikelihood(model, detector)
    sigma_coefficients = exact.sigma_coefficients()

    if generate_at == "basis":
        gen_theta, gen_index = morpher.basis, np.arange(1, len(theta_bench))
    elif generate_at == "sm":
        gen_theta, gen_index = theta_bench[:1], np.array([0])
    else:
        raise OptionError(f"generate_at must be 'basis' or 'sm', got {generate_at!r}")
    shares = np.diff(np.round(np.linspace(0, n_events, len(gen_theta) + 1)).astype(int))
    z = np.concatenate([model.sample(t, k, rng) for t, k in zip(gen_theta, shares)])
    sampled_from = np.repeat(gen_index, shares)

    g = model.joint_coefficients(z)  # (N, 6)
    alpha_bench = morpher.monomials(theta_bench)  # (B, 6)
    alpha_gen = morpher.monomials(gen_theta)
    sigma_gen = alpha_gen @ sigma_coefficients
    mixture = (g @ alpha_gen.T) * (shares / sigma_gen)[None, :]  # Σ_k N_k p(z|θ_k)·(σ-independent factor)
    weights = (g @ alpha_bench.T) / mixture.sum(axis=1, keepdims=True)

    x = detector.smear(z, rng)
    objects = detector.objects(x, rng)
    truth_events = {"z": z, "x": x, "joint_coefficients": g}
    if truth:
        truth_events["density_coefficients"] = exact.density_coefficients(x)
    return EventSample(
        parameters=PARAMETERS,
        benchmark_names=names,
        benchmark_theta=theta_bench,
        morphing_components=morpher.components,
        morphing_basis=np.arange(1, len(theta_bench)),
        momenta=objects["momenta"],
        types=objects["types"],
        weights=weights,
        globals_=objects["globals"],
        global_names=["met", "met_phi"],
        observables=objects["observables"],
        process_names=["toy"],
        sampled_from=sampled_from,
        truth_events=truth_events,
        truth={"sigma_coefficients": sigma_coefficients},
        units="",
        metadata={"simulator": "toy", "seed": seed, "generate_at": generate_at, "events": n_events,
                  CUTFLOW_KEY: {"toy": apply_cuts([], weights[:, 0])[1]}},
    )
