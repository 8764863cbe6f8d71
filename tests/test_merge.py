"""``lfi merge`` / :func:`lfi.events.merge_samples` (docs/event-format.md §3): a signal joined with θ-independent
backgrounds keeps every input's cross section at every benchmark, still morphs, labels each event with its input's
process and keeps the inputs' cut flows; mismatched inputs are refused in one line naming the file, with no output."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import simulators
from lfi.cli import main
from lfi.errors import EventFileError
from lfi.events import EventSample, merge_samples


@pytest.fixture(scope="module")
def signal():
    return simulators.get("toy").simulate(300, seed=11)


def _background(n: int = 40, name: str = "bkg", slots: int = 9, seed: int = 0) -> EventSample:
    """A θ-independent background: no parameters, one benchmark, no ``pt_l1`` observable, wider object lists."""
    rng = np.random.default_rng(seed)
    momenta = np.zeros((n, slots, 4), np.float32)
    momenta[:, :2] = rng.uniform(10, 100, (n, 2, 4))
    types = np.zeros((n, slots), np.int8)
    types[:, :2] = 1
    observables = {k: rng.normal(size=n) for k in ("pt_j1", "pt_j2", "delta_phi_jj", "delta_eta_jj", "m_jj")}
    weights = rng.uniform(0.5, 1.5, (n, 1)) * 1e-3
    return EventSample(parameters=[], benchmark_names=["sm"], benchmark_theta=np.zeros((1, 0)), momenta=momenta,
                       types=types, weights=weights, globals_=rng.normal(size=(n, 2)), global_names=["met", "met_phi"],
                       observables=observables, process_names=[name], sampled_from=np.zeros(n, np.int16),
                       metadata={"cutflow": {name: [{"step": "generated", "events": 2 * n, "sigma_pb": 1.0},
                                                    {"step": "cut", "events": n, "sigma_pb": float(weights.sum())}]}})


def test_weights_add_up_at_every_benchmark_and_events_keep_their_process(signal):
    one, two = _background(), _background(25, "other", slots=4, seed=1)
    merged = merge_samples([signal, one, two], names=["toy.h5", "bkg.h5", "other.h5"])
    n = len(signal)
    assert len(merged) == n + 65 and merged.momenta.shape[1] == max(signal.momenta.shape[1], 9)
    expected = signal.weights.sum(axis=0) + one.weights.sum() + two.weights.sum()
    np.testing.assert_allclose(merged.weights.sum(axis=0), expected, rtol=1e-12)
    assert merged.process_names == ["toy", "bkg", "other"]
    np.testing.assert_array_equal(merged.process, np.repeat([0, 1, 2], [n, 40, 25]))
    np.testing.assert_array_equal(merged.sampled_from[n:], -1)
    np.testing.assert_array_equal(merged.sampled_from[:n], signal.sampled_from)
    assert merged.parameters == signal.parameters and merged.benchmark_names == signal.benchmark_names
    # cut flows per process, inputs listed
    assert merged.metadata["cutflow"] == {"toy": signal.metadata["cutflow"]["toy"], **one.metadata["cutflow"],
                                          **two.metadata["cutflow"]}
    assert [m["file"] for m in merged.metadata["merged_from"]] == ["toy.h5", "bkg.h5", "other.h5"]
    # what not every input has is left out, and said
    assert "pt_l1" in signal.observables and "pt_l1" not in merged.observables
    assert merged.metadata["dropped_observables"] == ["pt_l1"]
    assert "density_coefficients" not in merged.truth_events and "sigma_coefficients" not in merged.truth
    assert "density_coefficients" in merged.metadata["dropped_truth"]


def test_merged_file_still_morphs(signal, tmp_path):
    background = _background()
    merge_samples([signal, background]).save(tmp_path / "merged.h5")
    merged = EventSample.load(tmp_path / "merged.h5")
    thetas = np.random.default_rng(2).uniform(-1, 1, (5, 2))
    n = len(signal)
    np.testing.assert_allclose(merged.weights_at(thetas)[:n], signal.weights_at(thetas), rtol=1e-10, atol=1e-15)
    # a θ-independent weight morphs to itself everywhere
    np.testing.assert_allclose(merged.weights_at(thetas)[n:], np.repeat(background.weights, 5, axis=1), rtol=1e-8)


def test_background_order_does_not_matter(signal):
    background = _background()
    first = merge_samples([background, signal])
    assert first.process_names == ["bkg", "toy"] and first.parameters == signal.parameters
    np.testing.assert_allclose(first.weights.sum(axis=0), signal.weights.sum(axis=0) + background.weights.sum())


@pytest.mark.parametrize("change, what", [
    (lambda s: replace(s, parameters=["a", "b"], process_names=["x"]), "parameters ['a', 'b'] differ"),
    (lambda s: replace(s, benchmark_names=[f"b{i}" for i in range(s.n_benchmarks)], process_names=["x"]),
     "benchmarks ['b0'"),
    (lambda s: replace(s, benchmark_theta=s.benchmark_theta * 1.5, process_names=["x"]), "benchmark values"),
    (lambda s: replace(s, global_names=["a", "b"], process_names=["x"]), "globals ['a', 'b'] differ"),
    (lambda s: s, "process 'toy' is also in toy.h5"),
    (lambda s: replace(_background(), benchmark_names=["sm", "up"], benchmark_theta=np.zeros((2, 0)),
                       weights=np.ones((40, 2))), "parameters [] differ"),
])
def test_mismatches_are_refused_naming_the_file(signal, change, what):
    with pytest.raises(EventFileError) as err:
        merge_samples([signal, change(signal)], names=["toy.h5", "odd.h5"])
    text = str(err.value)
    assert "\n" not in text and text.startswith("odd.h5: ") and what in text


def test_cli_merges_and_refuses_without_leaving_output(signal, tmp_path, capsys):
    signal.save(tmp_path / "toy.h5")
    _background().save(tmp_path / "bkg.h5")
    replace(signal, parameters=["a", "b"], process_names=["x"]).save(tmp_path / "odd.h5")
    out = tmp_path / "merged.h5"
    assert main(["merge", str(tmp_path / "toy.h5"), str(tmp_path / "bkg.h5"), "--out", str(out)]) == 0
    assert "cut flow (bkg)" in capsys.readouterr().out
    assert len(EventSample.load(out)) == len(signal) + 40
    before = sorted(p.name for p in tmp_path.iterdir())
    bad = tmp_path / "bad.h5"
    assert main(["merge", str(tmp_path / "toy.h5"), str(tmp_path / "odd.h5"), "--out", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"lfi merge: error: {tmp_path / 'odd.h5'}: parameters")
    assert main(["merge", str(tmp_path / "toy.h5"), "--out", str(bad)]) == 1
    assert "at least two" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no output, no temporary
