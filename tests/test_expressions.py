"""The expression language of cuts and observables (docs/selections.md): kinematics against hand-computed values,
precedence, counts, missing objects, refusals with their column, selections, new observables and the commands."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lfi import objects
from lfi.cli import main
from lfi.errors import LfiError, OptionError
from lfi.events import (EventSample, ExpressionError, add_observables, event_mask, parse_expression,
                        select_events)


def _p(pt: float, eta: float, phi: float, m: float = 0.0) -> list[float]:
    """(E, px, py, pz) in GeV written out by hand."""
    px, py, pz = pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)
    return [math.sqrt(px**2 + py**2 + pz**2 + m**2), px, py, pz]


@pytest.fixture()
def hand_sample() -> EventSample:
    """Three events. Event 0: a b-jet (pT 40, m 5) stored first, then jets of pT 100 (η 0, φ 0) and 50 (η 1, φ π/2),
    an electron (pT 30, η 2), a μ+ (pT 20, η −3, φ 1) and a photon (pT 10). Event 1: one jet of pT 60. Event 2: empty."""
    zero = [0.0] * 4
    momenta = [
        [_p(40, 0.5, 2.0, 5.0), _p(100, 0, 0), _p(50, 1, math.pi / 2), _p(30, 2, 0), _p(20, -3, 1), _p(10, 0, 3)],
        [_p(60, 0, 0), zero, zero, zero, zero, zero],
        [zero] * 6,
    ]
    types = [[objects.BJET, objects.JET, objects.JET, objects.ELECTRON, objects.ANTIMUON, objects.PHOTON],
             [objects.JET, 0, 0, 0, 0, 0], [0] * 6]
    return EventSample(
        parameters=["a"], benchmark_names=["sm", "bsm"], benchmark_theta=[[0.0], [1.0]],
        momenta=momenta, types=types, weights=[[1.0, 2.0], [0.5, 0.25], [4.0, 8.0]],
        globals_=[[10.0], [20.0], [30.0]], global_names=["met"],
        observables={"m_jj": [600.0, 100.0, 0.0]}, metadata={"simulator": "hand"},
    )


def values(sample: EventSample, text: str) -> np.ndarray:
    return parse_expression(text, [*sample.observables, *sample.global_names]).evaluate(sample)


# ---------------------------------------------------------------------------------------------------- kinematics
def test_single_object_kinematics_follow_pt_order_not_storage_order(hand_sample):
    assert values(hand_sample, "pt(j1)")[:2] == pytest.approx([100, 60], rel=1e-6)
    assert values(hand_sample, "pt(j2)")[0] == pytest.approx(50, rel=1e-6)
    assert values(hand_sample, "pt(j3)")[0] == pytest.approx(40, rel=1e-6)  # the b-jet counts as a jet
    assert values(hand_sample, "pt(b1)")[0] == pytest.approx(40, rel=1e-6)
    assert values(hand_sample, "eta(j2)")[0] == pytest.approx(1.0, abs=1e-6)
    assert values(hand_sample, "phi(j2)")[0] == pytest.approx(math.pi / 2, abs=1e-6)
    assert values(hand_sample, "e(j2)")[0] == pytest.approx(50 * math.cosh(1), rel=1e-6)
    assert values(hand_sample, "m(b1)")[0] == pytest.approx(5.0, rel=1e-3)
    assert values(hand_sample, "m(j1)")[0] == pytest.approx(0.0, abs=0.05)


def test_lepton_and_photon_names(hand_sample):
    assert values(hand_sample, "pt(l1)")[0] == pytest.approx(30, rel=1e-6)
    assert values(hand_sample, "eta(l2)")[0] == pytest.approx(-3, abs=1e-5)
    assert values(hand_sample, "pt(e1)")[0] == pytest.approx(30, rel=1e-6)
    assert values(hand_sample, "phi(mu1)")[0] == pytest.approx(1.0, abs=1e-6)
    assert values(hand_sample, "pt(a1)")[0] == values(hand_sample, "pt(photon1)")[0] == pytest.approx(10, rel=1e-6)
    assert np.isnan(values(hand_sample, "pt(e2)")[0]) and np.isnan(values(hand_sample, "pt(mu2)")[0])


def test_pair_kinematics_of_two_massless_jets(hand_sample):
    # j1 (100, η 0, φ 0) and j2 (50, η 1, φ π/2): m² = 2 pT1 pT2 (cosh Δη − cos Δφ)
    assert values(hand_sample, "m(j1, j2)")[0] == pytest.approx(math.sqrt(2 * 100 * 50 * math.cosh(1)), rel=1e-5)
    assert values(hand_sample, "delta_phi(j1, j2)")[0] == pytest.approx(-math.pi / 2, abs=1e-6)
    assert values(hand_sample, "delta_eta(j1, j2)")[0] == pytest.approx(-1.0, abs=1e-6)
    assert values(hand_sample, "delta_r(j1, j2)")[0] == pytest.approx(math.hypot(1, math.pi / 2), abs=1e-6)
    # pT of the sum: (100, 0) + (0, 50) in the transverse plane
    assert values(hand_sample, "pt(j1, j2)")[0] == pytest.approx(math.hypot(100, 50), rel=1e-6)


def test_mass_of_three_objects_is_that_of_their_sum(hand_sample):
    p = np.array([_p(100, 0, 0), _p(50, 1, math.pi / 2), _p(30, 2, 0)]).sum(axis=0)
    expected = math.sqrt(p[0] ** 2 - p[1] ** 2 - p[2] ** 2 - p[3] ** 2)
    assert values(hand_sample, "m(j1, j2, l1)")[0] == pytest.approx(expected, rel=1e-5)


def test_objects_agree_with_the_toys_own_observables():
    import simulators.toy as toy

    sample = toy.simulate(300, seed=1)  # the toy's jet 1 has the larger pT: j1 is jet 1
    np.testing.assert_allclose(values(sample, "pt(j1)"), sample.observables["pt_j1"], rtol=1e-5)
    np.testing.assert_allclose(values(sample, "m(j1, j2)"), sample.observables["m_jj"], rtol=1e-4)
    np.testing.assert_allclose(values(sample, "delta_phi(j1, j2)"), sample.observables["delta_phi_jj"], atol=1e-4)
    np.testing.assert_allclose(values(sample, "delta_eta(j1, j2)"), sample.observables["delta_eta_jj"], atol=1e-4)
    assert (values(sample, "n(leptons)") == 2).all() and (values(sample, "n(jets)") == 2).all()


def test_counts_with_and_without_a_condition(hand_sample):
    assert list(values(hand_sample, "n(jets)")) == [3, 1, 0]
    assert list(values(hand_sample, "n(jets, pt > 45)")) == [2, 1, 0]
    assert list(values(hand_sample, "n(leptons, abs(eta) < 2.5)")) == [1, 0, 0]
    assert list(values(hand_sample, "n(bjets)")) == [1, 0, 0]
    assert list(values(hand_sample, "n(objects)")) == [6, 1, 0]
    assert list(values(hand_sample, "n(photons, e > 5)")) == [1, 0, 0]
    assert list(values(hand_sample, "n(jets, m > 1)")) == [1, 0, 0]  # only the b-jet has a mass
    assert list(values(hand_sample, "n(jets, pt > 0.6 * pt(j1))")) == [1, 1, 0]  # event-level values broadcast
    assert list(values(hand_sample, "n(objects, pt > met + 5)")) == [5, 1, 0]  # thresholds 15, 25, 35 GeV


# ---------------------------------------------------------------------------------------------------- operators
@pytest.mark.parametrize("text, expected", [
    ("2 + 3 * 4 ** 2 / 8 - -1", 9.0),
    ("-2 ** 2", -4.0),
    ("(2 + 3) * 4", 20.0),
    ("2 ** 3 ** 2", 512.0),
    ("abs(-3) + sqrt(16) + min(5, 2, 7) + max(1, 6)", 15.0),
    ("10 / 4", 2.5),
])
def test_arithmetic_follows_python_precedence(hand_sample, text, expected):
    assert values(hand_sample, text).tolist() == [expected] * 3


def test_chained_comparisons_and_boolean_precedence(hand_sample):
    assert values(hand_sample, "1 < pt(j1) / 50 <= 2").tolist() == [True, True, False]  # 2, 1.2, NaN
    assert values(hand_sample, "50 < pt(j1) < 80").tolist() == [False, True, False]
    assert values(hand_sample, "not 1 > 2 and 3 > 2 or 1 > 2").tolist() == [True] * 3
    assert values(hand_sample, "m_jj > 500 or met > 25 and met < 35").tolist() == [True, False, True]
    assert values(hand_sample, "(m_jj > 500 or met > 25) and met < 25").tolist() == [True, False, False]
    assert values(hand_sample, "m_jj == 100 or met != 10").tolist() == [False, True, True]


def test_missing_objects_give_nan_and_fail_cuts(hand_sample):
    assert np.isnan(values(hand_sample, "pt(j2)")[1:]).all()
    assert np.isnan(values(hand_sample, "m(j1, j2)")[1])
    assert np.isnan(values(hand_sample, "max(pt(j1), 1)")[2])
    assert values(hand_sample, "pt(j2) > 0").tolist() == [True, False, False]
    assert values(hand_sample, "pt(j2) <= 1000").tolist() == [True, False, False]
    assert values(hand_sample, "not pt(j2) > 0").tolist() == [False, True, True]  # 'not' turns the False around
    assert values(hand_sample, "pt(j3) > 30 or pt(j1) > 50").tolist() == [True, True, False]
    assert np.isnan(values(hand_sample, "pt(j7)")).all()  # beyond the object slots


def test_names_lists_the_stored_values_read():
    expression = parse_expression("m_jj > 500 and pt(j1) > met and n(jets, pt > m_jj / 10) > 1")
    assert expression.names == ("m_jj", "met") and expression.is_condition
    assert not parse_expression("pt(j1)").is_condition and parse_expression("pt(j1)").names == ()


# ---------------------------------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("text, message, column", [
    ("pt(j1) > 30 andd m_jj > 500", "unknown name 'andd'", 13),
    ("__import__('os')", "unknown function '__import__'", 1),
    ("().__class__", "attributes", 4),
    ("pt(j1).real", "attributes", 8),
    ("lambda: 1", "lambdas are not allowed", 1),
    ("[x for x in y]", "comprehensions are not allowed", 1),
    ("2**10**10", "exponent beyond ±16", 4),
    ("m_jj ** 17", "exponent beyond ±16", 9),
    ("open('x')", "unknown function 'open'", 1),
    ("m_jj > 500 and exec('1')", "unknown function 'exec'", 16),
    ("pt(j1, x=1)", "keyword arguments", 8),
    ("pt(*jets)", "starred arguments", 4),
    ("m_jj[0]", "subscripts", 1),
    ("f'{m_jj}'", "f-strings", 1),
    ("(y := 1)", "assignments", 2),
    ("'abc'", "strings are not allowed", 1),
    ("m_jj > 500 and mjj < 900", "unknown name 'mjj' (did you mean 'm_jj'?)", 16),
    ("max(m_jj)", "max() takes at least 2 arguments, got 1", 1),
    ("delta_r(j1)", "delta_r() takes 2 arguments, got 1", 1),
    ("sqrt(1, 2)", "sqrt() takes 1 argument, got 2", 1),
    ("pt(jets)", "takes objects such as j1", 4),
    ("pt(j0)", "numbered from 1", 4),
    ("n(j1)", "n() counts a collection", 3),
    ("n(jets, n(leptons) > 1)", "inside the condition of another n()", 9),
    ("n(jets, pt)", "needs conditions, got a number", 9),
    ("pt > 30", "'pt' is a function", 1),
    ("j1 > 30", "'j1' is an object", 1),
    ("m_jj and met > 1", "'and' needs conditions, got a number", 1),
    ("(m_jj > 1) + 1", "'+' needs numbers, got a condition", 2),
    ("m_jj % 2", "operator '%' is not supported", 6),
    ("(m_jj)//2", "operator '//' is not supported", 7),
    ("  met < 1 is m_jj", "operator 'is' is not supported", 11),
    ("m_jj > 500 and", "incomplete expression", 15),
    ("True", "the constant True is not allowed", 1),
    ("m_jj > 1 if met else 2", "conditional expressions", 1),
])
def test_refusals_are_one_line_naming_the_expression_and_the_column(hand_sample, text, message, column):
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text, ["m_jj", "met"], what="cut")
    line = str(caught.value)
    assert line.startswith(f'cut "{text}": ') and message in line and line.endswith(f"at column {column}")
    assert "\n" not in line and caught.value.column == column
    assert isinstance(caught.value, OptionError) and isinstance(caught.value, LfiError)


def test_the_language_never_hands_text_to_python():
    import ast
    import inspect

    import lfi.events.expressions as module

    tree = ast.parse(inspect.getsource(module))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
    assert not {call.func.id for call in calls} & {"eval", "exec", "compile", "__import__", "setattr"}
    # attributes are read by fixed names only, never by a name taken from the text
    assert all(isinstance(call.args[1], ast.Constant) for call in calls if call.func.id == "getattr")


def test_a_long_or_deep_expression_is_refused_before_it_is_walked():
    with pytest.raises(ExpressionError, match="5000 characters, more than the 1000") as caught:
        parse_expression("m_jj + " * 714 + "10")  # 7 · 714 + 2 characters
    assert len(str(caught.value)) < 200  # the message shows the start of the text only
    with pytest.raises(ExpressionError, match="nested deeper than 64 levels"):
        parse_expression("-" * 100 + "1")
    with pytest.raises(ExpressionError, match="one line"):
        parse_expression("m_jj >\n 1")


def test_a_non_constant_exponent_is_checked_on_the_events(hand_sample):
    expression = parse_expression("2 ** (m_jj / 10)")  # 60, 10 and 0: the first event is beyond 16; column 7 is m_jj
    with pytest.raises(ExpressionError, match=r"exponent beyond ±16 at column 7"):
        expression.evaluate(hand_sample)
    assert values(hand_sample.select([1, 2]), "2 ** (m_jj / 10)").tolist() == [1024.0, 1.0]


def test_a_name_unknown_to_the_sample_is_refused_when_evaluated(hand_sample):
    expression = parse_expression("pt(j1) > 30 and m_ll > 80")
    with pytest.raises(ExpressionError, match="no observable or global 'm_ll' at column 17"):
        expression.evaluate(hand_sample)


# ---------------------------------------------------------------------------------------------------- selections
def test_select_keeps_weights_records_the_cuts_and_leaves_the_input_alone(hand_sample):
    before = {name: np.copy(getattr(hand_sample, name)) for name in ("momenta", "types", "weights", "globals_")}
    selected = select_events(hand_sample, ["n(jets) >= 1", "pt(j1) > 70 or met > 15"])
    assert len(selected) == 2  # events 0 and 1; event 2 has no jet
    np.testing.assert_array_equal(selected.cross_sections, [1.0 + 0.5, 2.0 + 0.25])
    assert selected.metadata["cuts"] == ["n(jets) >= 1", "pt(j1) > 70 or met > 15"]
    assert selected.metadata["simulator"] == "hand"
    assert "cuts" not in hand_sample.metadata and len(hand_sample) == 3
    for name, array in before.items():
        np.testing.assert_array_equal(getattr(hand_sample, name), array)
    again = select_events(selected, "pt(j2) > 0")  # a cut on a missing object drops event 1
    assert len(again) == 1 and again.metadata["cuts"][-1] == "pt(j2) > 0"


def test_a_cut_that_keeps_nothing_gives_an_empty_sample(hand_sample):
    empty = select_events(hand_sample, "met > 1000")
    assert len(empty) == 0 and empty.cross_sections.tolist() == [0.0, 0.0]


def test_callables_work_as_cuts_and_observables(hand_sample):
    def heavy(sample):
        return sample.weights[:, 0] > 0.75

    assert event_mask(hand_sample, [heavy, "met < 25"]).tolist() == [True, False, False]
    selected = select_events(hand_sample, heavy)
    assert len(selected) == 2 and "heavy" in selected.metadata["cuts"][0]
    with pytest.raises(OptionError, match="expected bool of shape"):
        select_events(hand_sample, lambda sample: sample.weights[:, 0])
    added = add_observables(hand_sample, {"w_sm": lambda sample: sample.weights[:, 0] * 2})
    assert added.observables["w_sm"].tolist() == [2.0, 1.0, 8.0]


def test_a_number_is_not_a_cut(hand_sample):
    with pytest.raises(OptionError, match='cut "m_jj": a number, not a condition'):
        select_events(hand_sample, "m_jj")


def test_add_observables_in_order_with_nan_for_missing_objects(hand_sample):
    added = add_observables(hand_sample, {"pt_sum": "pt(j1) + pt(j2)", "half": "pt_sum / 2", "two_jets": "n(jets) >= 2"})
    assert added.observables["pt_sum"][0] == pytest.approx(150, rel=1e-6) and np.isnan(added.observables["pt_sum"][1])
    assert added.observables["half"][0] == pytest.approx(75, rel=1e-6)
    assert added.observables["two_jets"].tolist() == [1.0, 0.0, 0.0]
    assert added.observables["pt_sum"].dtype == np.float32
    assert added.metadata["observable_definitions"]["half"] == "pt_sum / 2"
    assert set(hand_sample.observables) == {"m_jj"} and "observable_definitions" not in hand_sample.metadata


@pytest.mark.parametrize("name, message", [
    ("m_jj", "exists already"), ("2x", "must be an identifier"), ("for", "must be an identifier"),
    ("pt", "a name of the expression language"), ("j3", "a name of the expression language"),
    ("jets", "a name of the expression language"), ("met", "a global of that name"),
])
def test_observable_names_are_checked(hand_sample, name, message):
    with pytest.raises(OptionError, match=message):
        add_observables(hand_sample, {name: "1"})


def test_replace_allows_an_existing_name(hand_sample):
    replaced = add_observables(hand_sample, {"m_jj": "m(j1, j2)"}, replace=True)
    assert replaced.observables["m_jj"][0] == pytest.approx(math.sqrt(2 * 100 * 50 * math.cosh(1)), rel=1e-5)


# ---------------------------------------------------------------------------------------------------- commands
@pytest.fixture()
def toy_file(tmp_path):
    import simulators.toy as toy

    path = tmp_path / "toy.h5"
    toy.simulate(500, seed=1).save(path)
    return path


def test_cli_select_round_trip(toy_file, tmp_path, capsys):
    out = tmp_path / "selected.h5"
    code = main(["select", str(toy_file), "--cut", "m_jj > 100", "--cut", "pt(l1) > 30", "--out", str(out)])
    assert code == 0
    sample, selected = EventSample.load(toy_file), EventSample.load(out)
    keep = (sample.observables["m_jj"] > 100) & (sample.observables["pt_l1"] > 30)
    assert 0 < keep.sum() < len(sample) and len(selected) == keep.sum()
    np.testing.assert_array_equal(selected.weights, sample.weights[keep])
    assert selected.metadata["cuts"] == ["m_jj > 100", "pt(l1) > 30"]
    efficiency = sample.weights[keep, 0].sum() / sample.weights[:, 0].sum()
    printed = capsys.readouterr().out
    assert f"kept {keep.sum()} / 500 events" in printed and f"{efficiency:.4g} at sm" in printed
    assert main(["info", str(out)]) == 0
    assert "cuts         m_jj > 100; pt(l1) > 30\n" in capsys.readouterr().out


def test_cli_observables_round_trip(toy_file, tmp_path, capsys):
    out = tmp_path / "more.h5"
    assert main(["observables", str(toy_file), "--add", "m_j12=m(j1, j2)", "--add", "far=abs(delta_eta(j1, j2)) > 2",
                 "--add", "pt_j3=pt(j3)", "--out", str(out)]) == 0
    sample = EventSample.load(out)
    np.testing.assert_allclose(sample.observables["m_j12"], sample.observables["m_jj"], rtol=1e-4)
    assert sample.observables["far"].tolist() == (np.abs(sample.observables["delta_eta_jj"]) > 2).astype(float).tolist()
    assert np.isnan(sample.observables["pt_j3"]).all()  # the toy has two jets
    assert "pt_j3: no value; NaN in 500 events" in capsys.readouterr().out
    assert main(["info", str(out)]) == 0
    assert "defined      m_j12 = m(j1, j2); far = abs(delta_eta(j1, j2)) > 2; pt_j3 = pt(j3)\n" in capsys.readouterr().out
    assert main(["observables", str(out), "--add", "m_jj=1", "--out", str(out)]) == 1
    assert main(["observables", str(out), "--add", "m_jj=1", "--replace", "--out", str(out)]) == 0
    assert (EventSample.load(out).observables["m_jj"] == 1).all()


@pytest.mark.parametrize("argv, message", [
    (["select", "IN", "--cut", "pt(j1) > 30 andd m_jj > 500"],
     'lfi select: error: cut "pt(j1) > 30 andd m_jj > 500": unknown name \'andd\' (did you mean \'and\'?) at column 13'),
    (["select", "IN", "--cut", "__import__('os').system('true')"], "attributes (x.y) are not allowed at column 18"),
    (["observables", "IN", "--add", "m_ll=m(l1, l2"], 'observable m_ll "m(l1, l2": \'(\' was never closed'),
    (["observables", "IN", "--add", "m(l1, l2)"], "--add 'm(l1, l2)': expected NAME=EXPR"),
])
def test_cli_bad_expression_is_one_line_and_writes_nothing(toy_file, tmp_path, capsys, argv, message):
    out = tmp_path / "out.h5"
    argv = [str(toy_file) if a == "IN" else a for a in argv] + ["--out", str(out)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["toy.h5"]


def test_importers_take_observables_and_cuts(toy_file, tmp_path):
    madminer, out = tmp_path / "mm.h5", tmp_path / "back.h5"
    assert main(["export", "madminer", str(toy_file), "--out", str(madminer)]) == 0
    assert main(["import", "madminer", str(madminer), "--out", str(out), "--quiet",
                 "--observable", "m_j12=m(j1, j2)", "--cut", "m_j12 > 100"]) == 0
    original, imported = EventSample.load(toy_file), EventSample.load(out)
    keep = original.observables["m_jj"] > 100
    assert 0 < len(imported) == keep.sum() < len(original)
    np.testing.assert_allclose(imported.weights.sum(axis=0), original.weights[keep].sum(axis=0), rtol=1e-10)
    assert imported.metadata["cuts"] == ["m_j12 > 100"]
    assert main(["import", "madminer", str(madminer), "--out", str(tmp_path / "bad.h5"), "--cut", "m_j12 > 1"]) == 1
    assert not (tmp_path / "bad.h5").exists()
