"""Cut flows (docs/event-format.md §2): every generator records the events and the SM cross section after each
selection step; the counts add up to the file, σ after the last step is the sum of the file's SM weights, and σ
before any cut is the generator's own (Pythia's σ, the toy's exact σ); ``lfi simulate`` and ``lfi info`` print it."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

import simulators
from lfi.cli import main
from lfi.events import EventSample
from lfi.events.cutflow import check_cutflows, format_table, shortfall_warning, summary_line

N_DETECTOR = 500


def _adds_up(steps: list[dict], sample: EventSample) -> None:
    """generated × Π relative efficiencies = kept = events in the file; σ after the last step = Σ SM weights."""
    counts = np.array([s["events"] for s in steps], float)
    assert counts[0] * np.prod(counts[1:] / counts[:-1]) == pytest.approx(len(sample), rel=1e-12)
    assert steps[-1]["events"] == len(sample)
    assert np.all(np.diff(counts) <= 0)
    assert steps[-1]["sigma_pb"] == pytest.approx(sample.weights[:, 0].sum(), rel=1e-12)


def _passes_four_leptons_and_two_jets(sample: EventSample) -> None:
    """Every kept event passes all the cuts the steps name, not only the last: its four leptons inside the
    acceptance (recomputed from the stored momenta) and at least two jets."""
    from simulators.pythia.detector import lepton_acceptance

    leptons = np.isin(sample.types, (3, 4, 5, 6))
    assert np.all(leptons.sum(axis=1) == 4)
    accepted = lepton_acceptance(sample.momenta[leptons], np.where(sample.types[leptons] <= 4, 11, 13))
    assert accepted.all()
    assert np.all(np.isin(sample.types, (1, 2)).sum(axis=1) >= 2)


@pytest.fixture(scope="module")
def detector_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("cutflow") / "wbf.h5"
    done = subprocess.run([sys.executable, "-m", "lfi.cli", "simulate", "wbf", "--level", "detector", "--events",
                           str(N_DETECTOR), "--workers", "1", "--seed", "4", "--out", str(path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return path, EventSample.load(path), done.stdout, done.stderr


def test_detector_wbf_cutflow_adds_up(detector_run):
    _, sample, _, _ = detector_run
    meta = sample.metadata
    steps = meta["cutflow"]["wbf"]
    assert [s["step"] for s in steps] == ["generated", "quarks pT ≥ 20 GeV", "4 leptons", "≥ 2 jets"]
    assert steps[0]["events"] == N_DETECTOR and 0 < len(sample) < N_DETECTOR
    _adds_up(steps, sample)
    # σ before any cut: Pythia's σ times the mean SM reweighting factor (the metadata's cross-section note)
    assert steps[0]["sigma_pb"] == pytest.approx(meta["pythia_sigma_gen_pb"] * meta["sm_reweighting_factor"],
                                                 rel=1e-12)
    _passes_four_leptons_and_two_jets(sample)


def test_lfi_simulate_prints_the_cutflow_line_and_warns_of_the_shortfall(detector_run):
    _, sample, stdout, stderr = detector_run
    counts = [s["events"] for s in sample.metadata["cutflow"]["wbf"]]
    kept = len(sample)
    relative = ", ".join(f"{name} {round(100 * b / a)} %" for name, a, b in
                         zip(("quarks pT ≥ 20 GeV", "4 leptons", "≥ 2 jets"), counts[:-1], counts[1:]))
    assert f"{N_DETECTOR} generated, {kept} kept ({round(100 * kept / N_DETECTOR)} %): {relative}" in stdout
    warning = [line for line in stderr.splitlines() if line.startswith(f"requested {N_DETECTOR} events")]
    assert len(warning) == 1
    assert f": {N_DETECTOR} generated, the selection kept {kept} (" in warning[0]
    asked = int(re.search(r"ask for about (\d+) to keep", warning[0]).group(1))
    assert asked == pytest.approx(N_DETECTOR ** 2 / kept, rel=0.005)


def test_lfi_info_prints_the_cutflow_table(detector_run, capsys):
    path, sample, _, _ = detector_run
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    start = lines.index("cut flow (wbf)")
    assert lines[start + 1].split() == ["step", "events", "relative", "cumulative", "σ", "[pb]"]
    steps = sample.metadata["cutflow"]["wbf"]
    for line, step in zip(lines[start + 2:], steps):
        assert line.strip().startswith(step["step"])
        numbers = line[len(step["step"]) + 2:].split()
        assert int(numbers[0].replace(",", "")) == step["events"]
        assert numbers[-1] != "-" and float(numbers[-1]) == pytest.approx(step["sigma_pb"], rel=1e-5)
    last = lines[start + 1 + len(steps)].split()
    assert last[-3:-1] == [f"{round(100 * len(sample) / N_DETECTOR)}", "%"]  # cumulative efficiency


@pytest.fixture(scope="module")
def zz(request):
    """300 zz events in chunks of 120: the counts of three Pythia runs add up."""
    pipeline = __import__("simulators.processes.pipeline", fromlist=["CHUNK_EVENTS"])
    saved, pipeline.CHUNK_EVENTS = pipeline.CHUNK_EVENTS, 120
    try:
        return simulators.get("zz").simulate(300, seed=2, progress=False)
    finally:
        pipeline.CHUNK_EVENTS = saved


def test_process_cutflow_adds_up_over_chunks(zz):
    steps = zz.metadata["cutflow"]["zz"]
    assert [s["step"] for s in steps] == ["generated", "4 leptons", "≥ 2 jets"]
    assert steps[0]["events"] == 300
    _adds_up(steps, zz)
    assert steps[0]["sigma_pb"] == pytest.approx(zz.metadata["sigma_pb"], rel=1e-12)  # Pythia's sigmaGen
    _passes_four_leptons_and_two_jets(zz)


def test_parton_wbf_cutflow_is_the_generator_cut(monkeypatch):
    wbf = __import__("simulators.wbf.simulate", fromlist=["CHUNK_EVENTS"])
    monkeypatch.setitem(wbf.CHUNK_EVENTS, "parton", 700)  # three chunks
    sample = wbf.simulate(2000, seed=1, level="parton", truth=False, progress=False)
    meta = sample.metadata
    steps = meta["cutflow"]["wbf"]
    assert [(s["step"]) for s in steps] == ["generated", "quarks pT ≥ 20 GeV"] and steps[0]["events"] == 2000
    _adds_up(steps, sample)
    assert steps[0]["sigma_pb"] == pytest.approx(meta["pythia_sigma_gen_pb"] * meta["sm_reweighting_factor"],
                                                 rel=1e-12)
    assert sample.observables["pt_j2"].min() >= 20.0


def test_toy_has_no_cuts():
    sample = simulators.get("toy").simulate(1000, seed=3)
    (step,) = sample.metadata["cutflow"]["toy"]
    assert step["step"] == "generated" and step["events"] == len(sample) == 1000
    _adds_up([step], sample)
    exact = sample.truth["sigma_coefficients"] @ sample.morpher().monomials(np.zeros((1, 2)))[0]
    assert step["sigma_pb"] == pytest.approx(exact, rel=0.1)  # a 1000-event estimate of the exact σ(SM)


FLOWS = {"sig": [{"step": "generated", "events": 5000, "sigma_pb": 2.0},
                 {"step": "4 leptons", "events": 3050, "sigma_pb": 1.3},
                 {"step": "≥ 2 jets", "events": 1952, "sigma_pb": 0.8}]}


def test_formatter_text_of_a_hand_built_cutflow():
    assert summary_line(FLOWS) == "5000 generated, 1952 kept (39 %): 4 leptons 61 %, ≥ 2 jets 64 %"
    assert shortfall_warning(5000, FLOWS) == ("requested 5000 events: 5000 generated, the selection kept 1952 (39 %); "
                                              "ask for about 12800 to keep 5000")
    assert shortfall_warning(1952, FLOWS) is None
    two = {**FLOWS, "bkg": [{"step": "read", "events": 10}]}
    assert summary_line(two).splitlines() == ["sig: " + summary_line(FLOWS), "bkg: 10 read, 10 kept (100 %)"]
    table = format_table(two).splitlines()
    assert table[0] == "cut flow (sig)" and table[5] == "cut flow (bkg)"
    assert table[3].split() == ["4", "leptons", "3,050", "61", "%", "61", "%", "1.3"]
    assert table[4].split() == ["≥", "2", "jets", "1,952", "64", "%", "39", "%", "0.8"]
    assert table[7].split()[-1] == "-"  # no σ recorded


@pytest.mark.parametrize("flows, problem", [
    ({"sig": [{"step": "generated", "events": 5}, {"step": "cut", "events": 6}]}, "6 events after 5"),
    ({"sig": [{"step": "generated", "events": 5.0}]}, "integer event count"),
    ({"sig": []}, "non-empty list"),
    ([], "non-empty mapping"),
])
def test_malformed_cutflows_are_named_and_not_shown(flows, problem, tmp_path, capsys):
    assert check_cutflows(FLOWS) is None
    assert problem in check_cutflows(flows)
    sample = simulators.get("toy").simulate(20, seed=1)
    sample.metadata["cutflow"] = flows
    sample.save(tmp_path / "bad.h5")
    assert main(["info", str(tmp_path / "bad.h5")]) == 0
    assert "cut flow     not shown: metadata 'cutflow' is malformed" in capsys.readouterr().out


def test_selecting_or_concatenating_does_not_keep_a_cutflow_that_no_longer_applies(tmp_path):
    sample = simulators.get("toy").simulate(200, seed=5)
    sample.save(tmp_path / "toy.h5")
    assert EventSample.load(tmp_path / "toy.h5").metadata["cutflow"] == sample.metadata["cutflow"]
    part = sample.select(slice(0, 50))
    assert "cutflow" not in part.metadata and "cutflow" in sample.metadata
    assert all("cutflow" not in p.metadata for p in sample.split((0.5, 0.5)))
    # two samples of one process: no single selection describes the joined events
    assert "cutflow" not in EventSample.concatenate([sample, sample]).metadata
    other = simulators.get("toy").simulate(100, seed=6)
    other.process_names = ["toy2"]
    other.metadata["cutflow"] = {"toy2": other.metadata["cutflow"]["toy"]}
    joined = EventSample.concatenate([sample, other])
    assert joined.metadata["cutflow"] == {"toy": sample.metadata["cutflow"]["toy"],
                                          "toy2": other.metadata["cutflow"]["toy2"]}


def test_a_selection_appends_its_cuts_to_the_cut_flow():
    """lfi select / select_events: one step per cut, counted independently from the toy's own observables; a sliced
    sample (whose cut flow was dropped) gets none. Before: the input's cut flow was copied unchanged, so its last step
    no longer matched the file."""
    from lfi.events import select_events

    sample = simulators.get("toy").simulate(3000, seed=41)
    (process,) = sample.metadata["cutflow"]
    selected = select_events(sample, ["pt(j1) > 40", "m(j1, j2) > 100"])
    steps = selected.metadata["cutflow"][process]
    assert [s["step"] for s in steps][-2:] == ["pt(j1) > 40", "m(j1, j2) > 100"]
    assert steps[:-2] == sample.metadata["cutflow"][process]
    first_cut = sample.observables["pt_j1"] > 40
    assert steps[-2]["events"] == int(first_cut.sum())
    assert steps[-1]["events"] == len(selected) == int((first_cut & (sample.observables["m_jj"] > 100)).sum())
    assert steps[-1]["sigma_pb"] == pytest.approx(float(selected.weights[:, selected.benchmark_index("sm")].sum()),
                                                  rel=1e-12)
    assert "cutflow" not in select_events(sample[:100], "pt(j1) > 40").metadata
