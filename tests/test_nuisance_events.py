"""Nuisance variations in event files (format version 2) and from the embedded WBF generator."""

from __future__ import annotations

from dataclasses import replace

import h5py
import numpy as np
import pytest

import simulators
from lfi.errors import EventFileError
from lfi.events import EventSample, merge_samples


@pytest.fixture(scope="module")
def wbf():
    return simulators.get("wbf").simulate(1200, seed=8, level="parton", nuisances=True)


def test_scale_factor_at_unit_scale_is_exactly_one_and_the_stored_variations_are_the_factors(wbf):
    from simulators.pythia.variations import ALTERNATIVE_PDF_SET, pdf_factors

    t = wbf.truth_events
    arguments = (t["parton_ids"][:, :2], t["pdf_x"], t["pdf_q2_fac"], t["pdf_xf"])
    np.testing.assert_array_equal(pdf_factors(*arguments, scale=1.0), 1.0)
    sm = wbf.weights[:, wbf.benchmark_index("sm")]
    for name, kwargs in (("mu_f_up", {"scale": 2.0}), ("mu_f_down", {"scale": 0.5}),
                         ("pdf_cteq6l1", {"pdf_set": ALTERNATIVE_PDF_SET})):
        factor = wbf.weights[:, wbf.benchmark_index(name)] / sm
        np.testing.assert_allclose(factor, pdf_factors(*arguments, **kwargs), rtol=1e-12)
        assert np.all(factor > 0) and np.std(factor) > 1e-3  # a shape effect, not a constant
    # μ_F × 2 and × ½ move the rate in opposite directions
    up, down = (wbf.cross_sections[wbf.benchmark_index(n)] / wbf.cross_sections[0] - 1 for n in ("mu_f_up", "mu_f_down"))
    assert up * down < 0


def test_version_2_round_trip_and_info(wbf, tmp_path):
    path = wbf.save(tmp_path / "n.h5")
    with h5py.File(path) as f:
        assert f.attrs["version"] == 2
    loaded = EventSample.load(path)
    assert loaded.nuisance_names == ["mu_f", "pdf"]
    np.testing.assert_array_equal(loaded.nuisance_benchmarks, wbf.nuisance_benchmarks)
    assert list(np.flatnonzero(loaded.is_nuisance_benchmark)) == [16, 17, 18]
    info = EventSample.read_info(path)
    assert info["nuisances"] == {"mu_f": ["mu_f_up", "mu_f_down"], "pdf": ["pdf_cteq6l1", None]}
    model = loaded.nuisance_model()
    sm = loaded.weights[:, 0]
    np.testing.assert_allclose(sm * np.exp(model.log_factors(np.array([1.0, 0.0]))[:, 0]),
                               loaded.weights[:, loaded.benchmark_index("mu_f_up")], rtol=1e-12)
    np.testing.assert_allclose(sm * np.exp(model.log_factors(np.array([0.0, 1.0]))[:, 0]),
                               loaded.weights[:, loaded.benchmark_index("pdf_cteq6l1")], rtol=1e-12)


def test_a_file_without_nuisances_stays_version_1_and_opens(small_sample, tmp_path):
    path = small_sample.save(tmp_path / "v1.h5")
    with h5py.File(path) as f:
        assert f.attrs["version"] == 1 and "nuisances" not in f
    loaded = EventSample.load(path)
    assert loaded.nuisance_names == [] and loaded.nuisance_benchmarks.shape == (0, 2)
    with pytest.raises(EventFileError, match="stores no nuisance variations"):
        loaded.nuisance_model()


def test_a_variation_without_a_nominal_is_refused_in_one_line(small_sample):
    # no morphing, and the variation sits at θ = (1, -1) where no physics benchmark is
    varied = replace(small_sample, benchmark_names=["sm", "bsm", "jes_up"],
                     benchmark_theta=[[0.0, 0.0], [1.0, -1.0], [0.5, 0.5]],
                     weights=np.hstack([small_sample.weights, small_sample.weights[:, :1] * 1.1]),
                     nuisance_names=["jes"], nuisance_benchmarks=[[2, -1]])
    with pytest.raises(EventFileError, match="'jes_up' has no nominal") as err:
        varied.nuisance_model()
    assert "\n" not in str(err.value)
    at_sm = replace(varied, benchmark_theta=[[0.0, 0.0], [1.0, -1.0], [0.0, 0.0]])
    np.testing.assert_allclose(at_sm.nuisance_model().linear[:, 0], np.log(1.1), rtol=1e-12)


def test_inconsistent_variations_are_refused_when_merging_or_concatenating(wbf):
    other = replace(wbf, nuisance_names=["mu_f"], nuisance_benchmarks=wbf.nuisance_benchmarks[:1],
                    process_names=["wbf2"])
    with pytest.raises(EventFileError, match="nuisance variations \\['mu_f'\\] differ from \\['mu_f', 'pdf'\\]"):
        merge_samples([wbf, other], names=["a.h5", "b.h5"])
    with pytest.raises(EventFileError, match="different nuisances"):
        EventSample.concatenate([wbf, other])


def test_bad_nuisance_tables_name_the_dataset(wbf):
    with pytest.raises(EventFileError, match="/nuisances/benchmarks: a nuisance variation cannot be a morphing basis"):
        replace(wbf, nuisance_benchmarks=[[1, -1], [18, -1]])
    with pytest.raises(EventFileError, match="/nuisances/names: names must be distinct"):
        replace(wbf, nuisance_names=["pdf", "pdf"])
