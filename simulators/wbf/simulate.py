"""``simulate``: WBF H → ZZ* → 4ℓ events from Pythia 8, reweighted to (f_W, f_WW) benchmarks, as an EventSample.

Pipeline: Pythia's SM events (chunks, optionally in spawned worker processes) → exact θ-polynomial of every
event's weight (:mod:`simulators.wbf.reweight`) → weights at the benchmarks of an optimised 15-component
morphing basis (plus the SM) → objects, observables and, at parton level, the exact-likelihood truth.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from lfi.errors import OptionError
from lfi.events.cutflow import CUTFLOW_KEY, apply_cuts
from lfi.objects import JET, lepton_types, pt
from simulators.pythia.variations import SHOWER_VARIATIONS, shower_settings

from .generate import LEVELS, generate_chunk, pythia_settings
from .matrix_element import EWInputs
from .observables import OBSERVABLES, wbf_observables
from .reweight import massless_event, reweighting_polynomials

__all__ = ["simulate", "DEFAULT_RANGE", "CHUNK_EVENTS"]

DEFAULT_RANGE = ((-16.5, 16.5), (-16.5, 16.5))
"""f_W, f_WW ranges in TeV⁻² (θ ∈ [−1, 1]² of arXiv:1805.00020 in units of v²/Λ²)."""
CHUNK_EVENTS = {"parton": 25_000, "detector": 2_000}
"""Events per Pythia run; fixed (not tied to the worker count) so that a seed gives the same sample for any K."""
PARAMETERS = ["f_W", "f_WW"]


def _benchmarks(theta_range, n_trials: int = 400):
    from lfi.morphing import Morpher, monomial_components

    bounds = np.asarray(theta_range, dtype=float)
    if bounds.shape != (2, 2) or not np.all(np.isfinite(bounds)) or np.any(bounds[:, 1] <= bounds[:, 0]):
        raise OptionError(
            f"theta_range must be ((f_W low, high), (f_WW low, high)) with low < high in TeV^-2, got {theta_range}: "
            "the morphing benchmarks would not be invertible"
        )
    components = monomial_components(2, 4)
    morpher = Morpher.optimized(components, bounds[:, 0], bounds[:, 1], n_trials=n_trials, seed=0)
    return components, morpher


def _merge(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    merged = {k: np.concatenate([c[k] for c in chunks]) for k, v in chunks[0].items() if isinstance(v, np.ndarray)}
    if "objects" in chunks[0]:
        merged["objects"] = {k: np.concatenate([c["objects"][k] for c in chunks]) for k in chunks[0]["objects"]}
    n = np.array([c["n_accepted"] for c in chunks], dtype=float)
    merged["sigma_pb"] = float(np.sum(n * [c["sigma_pb"] for c in chunks]) / n.sum())
    merged["sigma_err_pb"] = float(np.sqrt(np.sum((n * [c["sigma_err_pb"] for c in chunks]) ** 2)) / n.sum())
    merged["sigma_code_pb"] = {
        code: float(np.sum(n * [c["sigma_code_pb"][code] for c in chunks]) / n.sum()) for code in (906, 907)
    }
    merged["n_accepted"] = int(n.sum())
    merged["params"] = chunks[0]["params"]
    return merged


def _parton_objects(kin: dict[str, np.ndarray], lepton_ids: np.ndarray):
    """Jets = outgoing quarks (type 1), leptons exact (massless); pT-ordered (N, 6, 4) and types."""
    n = len(lepton_ids)
    momenta = np.concatenate([kin["p3"][:, None], kin["p4"][:, None], kin["k"]], axis=1)
    types = np.zeros((n, 6), np.int8)
    types[:, :2] = JET
    for slot, (pair, sign) in enumerate(((0, 1), (0, -1), (1, 1), (1, -1))):
        types[:, 2 + slot] = lepton_types(sign * np.abs(lepton_ids[:, pair]))
    order = np.argsort(-pt(momenta), axis=1, kind="stable")
    return np.take_along_axis(momenta, order[..., None], axis=1), np.take_along_axis(types, order, axis=1)


def simulate(
    n_events: int,
    seed: int = 0,
    *,
    level: str = "parton",
    workers: int = 1,
    photons: bool = True,
    theta_range=DEFAULT_RANGE,
    m_ll_min: float = 12.0,
    min_parton_pt: float = 20.0,
    truth: bool = True,
    progress: bool | None = None,
    verbose: bool = False,
    pythia_extra: tuple[str, ...] = (),
    detector: dict | None = None,
    nuisances: bool = False,
):
    """Generate WBF H → ZZ* → 4ℓ events at 13 TeV with weights at every (f_W, f_WW) benchmark.

    Parameters
    ----------
    n_events : int
        Events requested from Pythia (at detector level the selection keeps fewer; the weights keep
        the selected cross section).
    seed : int
        Master seed; chunk seeds derive from it, independent of ``workers``.
    level : {"parton", "detector"}
        "parton": jets are the outgoing quarks and leptons exact, with the exact-likelihood truth;
        "detector": shower, hadronisation, anti-kt 0.4 jets, b-tags and Gaussian smearing
        (:mod:`simulators.pythia.detector`), events with 4 leptons and ≥ 2 jets kept. Every step's events and
        SM σ are recorded in ``metadata["cutflow"]`` (:mod:`lfi.events.cutflow`).
    workers : int
        Pythia processes run in parallel (spawned); results are merged into one sample.
    photons : bool
        Include the photon channels (γZ, Zγ, γγ fusion; H → Zγ*, γ*γ*).
    theta_range : ((float, float), (float, float))
        Box of (f_W, f_WW) in TeV⁻² in which the morphing basis is optimised.
    m_ll_min : float
        Cut on both lepton-pair masses at generation (GeV).
    min_parton_pt : float
        Generator cut on the p_T of both outgoing quarks (GeV; MadGraph's default ``ptj``). The photon channels
        make the f_WW² terms collinear-enhanced (γγ fusion, ∝ dt/t; in a 300k-event sample the largest
        f_WW²/SM coefficient is 128 TeV⁻⁴ below p_T = 1 GeV, ≤ 1.7 above 20 GeV), so that without a cut single
        events can dominate σ at |f_WW| ~ 16 TeV⁻². Events below the cut are dropped; weights keep
        σ × acceptance. The remaining heavy tail at large θ is the EFT's growth with momentum transfer.
    truth : bool
        Store the parton-level truth (likelihood polynomials need ~0.2 ms per event).
    progress : bool, optional
        Show a progress bar (tqdm, on stderr); default: when stderr is a terminal.
    verbose : bool
        Let Pythia print its banner and statistics.
    pythia_extra : tuple of str
        Further Pythia settings.
    detector : dict, optional
        Options of :func:`simulators.pythia.detector.reconstruct`.
    nuisances : bool
        Store the hard-process variations as nuisance benchmarks at the SM (format version 2): ``mu_f`` (μ_F × 2
        up, × ½ down) and ``pdf`` (CTEQ6L1 instead of NNPDF2.3 LO, up only), see :mod:`simulators.pythia.variations`;
        and what they were computed from as per-event truth: ``pdf_x`` (x1, x2), ``pdf_q2_fac`` (GeV²), ``pdf_xf``
        (Pythia's x·f of both incoming partons). At detector level also the shower nuisances ``isr`` and ``fsr``
        (Pythia's uncertainty bands, μ_R of the shower × ½ up, × 2 down; a seed then gives other events than
        without nuisances).

    Returns
    -------
    lfi.events.EventSample
        Parameters ["f_W", "f_WW"] in "TeV^-2"; benchmark 0 is the SM, 1..15 the morphing basis; weights in pb
        (summing to σ at each benchmark), 15 quartic morphing components.
    """
    from lfi.events import EventSample

    if int(n_events) < 1:
        raise OptionError(f"n_events must be ≥ 1, got {n_events}")
    if level not in LEVELS:
        raise OptionError(f"level must be one of {LEVELS}, got {level!r}")
    if int(workers) < 1:
        raise OptionError(f"workers must be ≥ 1, got {workers}")
    components, morpher = _benchmarks(theta_range)
    ew = EWInputs.madminer()
    shower = bool(nuisances) and level == "detector"
    extra = tuple(shower_settings()) if shower else ()
    settings = pythia_settings(level, m_ll_min, ew, extra + tuple(pythia_extra))
    from simulators.pythia.runner import chunk_seeds, chunk_sizes, progress_bar, run_workers

    sizes = chunk_sizes(n_events, CHUNK_EVENTS[level])
    tasks = [
        {"n": k, "seed": s, "level": level, "settings": settings, "verbose": verbose, "detector": detector or {},
         "shower_variations": shower}
        for k, s in zip(sizes, chunk_seeds(seed, len(sizes)))
    ]
    bar, advance = progress_bar(progress, int(n_events), sizes, "wbf")
    try:
        chunks = run_workers(generate_chunk, tasks, int(workers), advance)
    finally:
        if bar is not None:
            bar.close()
    data = _merge(chunks)
    ew = replace(ew, width_z=float(data["params"]["width_Z"]))
    poly = reweighting_polynomials(data, ew, photons)
    n_generated = len(data["ids"])
    w_gen = data["sigma_pb"] / n_generated
    theta = np.vstack([np.zeros((1, 2)), morpher.basis])
    weights = w_gen * poly["full"] @ morpher.monomials(theta).T  # (N, 16)
    kin = massless_event(data)
    generator_cut = np.minimum(pt(kin["p3"]), pt(kin["p4"])) >= min_parton_pt
    truth_events: dict[str, np.ndarray] = {
        "weight_coefficients": w_gen * poly["full"],
        "parton_ids": data["ids"].astype(np.int32),
    }
    cuts = [(f"quarks pT ≥ {min_parton_pt:g} GeV", generator_cut)]
    if level == "parton":
        momenta, types = _parton_objects(kin, data["lepton_ids"])
        observables = wbf_observables(np.stack([kin["p3"], kin["p4"]], 1), kin["k"], data["lepton_ids"])
        globals_ = np.zeros((n_generated, 2), np.float32)
    else:
        from .detector_level import detector_objects

        momenta, types, globals_, observables, detector_cuts = detector_objects(data["objects"])
        cuts += detector_cuts
    keep, steps = apply_cuts(cuts, weights[:, 0])
    if level == "parton" and truth:
        likelihood = np.zeros((n_generated, 15))
        likelihood[keep] = _likelihood({k: v[keep] for k, v in kin.items()}, _rows(data, keep), ew, photons, m_ll_min)
        truth_events["density_coefficients"] = likelihood
    if not keep.any():
        raise OptionError(f"--events {int(n_events)}: no event of {n_generated} passed the {level}-level selection; "
                          "generate more events")
    names = ["sm"] + [f"morphing_{i + 1}" for i in range(len(components))]
    weights = weights[keep]
    nuisance_names, nuisance_benchmarks = [], None
    if nuisances:
        variation_names, factors, nuisance_names, nuisance_benchmarks = _hard_variations(_rows(data, keep), len(names))
        truth_events |= {"pdf_x": np.stack([data["x1"], data["x2"]], 1), "pdf_q2_fac": data["q2_fac"],
                         "pdf_xf": np.stack([data["xf1"], data["xf2"]], 1)}
        if shower:
            first = len(names) + len(variation_names)
            variation_names += [f"{n}_{side}" for n in SHOWER_VARIATIONS for side in ("up", "down")]
            factors = np.hstack([factors, data["shower_factors"][keep]])
            nuisance_names += list(SHOWER_VARIATIONS)
            nuisance_benchmarks = np.vstack([nuisance_benchmarks, first + 2 * np.arange(len(SHOWER_VARIATIONS))[:, None]
                                             + np.array([[0, 1]])])
        names += variation_names
        theta = np.vstack([theta, np.zeros((len(variation_names), 2))])
        weights = np.hstack([weights, weights[:, :1] * factors])
    sample = EventSample(
        parameters=PARAMETERS,
        benchmark_names=names,
        benchmark_theta=theta,
        momenta=momenta[keep],
        types=types[keep],
        weights=weights,
        globals_=globals_[keep],
        global_names=["met", "met_phi"],
        observables={k: observables[k][keep] for k in OBSERVABLES},
        process=np.zeros(int(keep.sum()), np.int16),
        process_names=["wbf"],
        sampled_from=np.zeros(int(keep.sum()), np.int16),
        morphing_components=components,
        morphing_basis=np.arange(1, len(components) + 1),
        truth_events={k: v[keep] for k, v in truth_events.items()},
        truth={"sigma_coefficients": w_gen * poly["full"][keep].sum(axis=0)},
        units="TeV^-2",
        metadata=_metadata(data, level, seed, n_events, workers, photons, theta_range, m_ll_min, ew, morpher, poly)
        | {"min_parton_pt_GeV": float(min_parton_pt), CUTFLOW_KEY: {"wbf": steps}},
        nuisance_names=nuisance_names,
        nuisance_benchmarks=nuisance_benchmarks,
    )
    return sample


def _hard_variations(data: dict[str, Any], first_index: int):
    """Benchmark names, weight factors (N, 3) and the nuisance table of the μ_F and PDF variations."""
    from simulators.pythia.variations import ALTERNATIVE_PDF_SET, pdf_factors

    arguments = (data["ids"][:, :2], np.stack([data["x1"], data["x2"]], 1), data["q2_fac"],
                 np.stack([data["xf1"], data["xf2"]], 1))
    factors = np.stack([pdf_factors(*arguments, scale=2.0), pdf_factors(*arguments, scale=0.5),
                        pdf_factors(*arguments, pdf_set=ALTERNATIVE_PDF_SET)], axis=1)
    pairs = np.array([[first_index, first_index + 1], [first_index + 2, -1]])
    return ["mu_f_up", "mu_f_down", "pdf_cteq6l1"], factors, ["mu_f", "pdf"], pairs


def _rows(data: dict[str, Any], keep: np.ndarray) -> dict[str, Any]:
    return {k: (v[keep] if isinstance(v, np.ndarray) else v) for k, v in data.items()}


def _likelihood(kin, data, ew, photons, m_ll_min):
    from simulators.pythia.runner import silenced

    from .truth import likelihood_polynomials

    with silenced():
        import pythia8mc

        pdf = pythia8mc.Pythia("", False).getPDFPtr(2212)
    jets = np.stack([kin["p3"], kin["p4"]], axis=1)
    return likelihood_polynomials(jets, kin["k"], data["lepton_ids"], pdf, data["params"], ew, photons, m_ll_min)


def _metadata(data, level, seed, n_events, workers, photons, theta_range, m_ll_min, ew, morpher, poly):
    params = {k: v for k, v in data["params"].items() if not k.startswith("v2ckm")}
    r0 = poly["production"][:, 0]
    return {
        "simulator": "wbf",
        "level": level,
        "seed": int(seed),
        "n_requested": int(n_events),
        "workers": int(workers),
        "photon_channels": bool(photons),
        "theta_range_TeV-2": [list(map(float, r)) for r in theta_range],
        "m_ll_min_GeV": float(m_ll_min),
        "ew_inputs": ew.as_dict(),
        "pythia_parameters": params,
        "pythia_sigma_gen_pb": data["sigma_pb"],
        "pythia_sigma_err_pb": data["sigma_err_pb"],
        "pythia_sigma_gen_by_code_pb": {str(k): v for k, v in data["sigma_code_pb"].items()},
        "sm_reweighting_factor": float(r0.mean()),
        "morphing_condition_number": morpher.condition_number,
        "cross_section_note": (
            "before the generator cut and selection, sigma_SM = pythia_sigma_gen_pb * sm_reweighting_factor: the SM "
            "weights correct Pythia's quark-antiquark lines; the decay density is Pythia's (exact SM)"
        ),
    }
