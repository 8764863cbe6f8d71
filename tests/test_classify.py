"""``lfi classify``: combining files into labelled events, splits and weights, every estimator through one short
training with finite metrics, reruns, and one-line errors that leave no output."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lfi.errors import EventFileError, OptionError, ResumeMismatchError, UnknownNameError
from lfi.events import EventSample
from lfi.events.labelled import balanced_weights, combine_for_classification, split_events, yield_weights
from lfi.objects import BJET, JET, MUON, ANTIMUON, four_momenta
from lfi.train import TrainConfig
from lfi.workflows.classification import classify

ESTIMATORS = ["mlp", "cnn1d", "mixer", "particlenet", "part", "sett", "iaformer", "bdt"]


def _sample(name: str, n: int, seed: int, hard: float, sigma_pb: float, globals_=("met", "met_phi"),
            parameters=None) -> EventSample:
    """n events of 5 objects (3 jets, μ⁻, μ⁺); ``hard`` scales the jet p_T so that the processes differ."""
    rng = np.random.default_rng(seed)
    pt = rng.exponential(40.0 * hard, size=(n, 5)) + 20.0
    momenta = four_momenta(pt, rng.uniform(-2.4, 2.4, (n, 5)), rng.uniform(-np.pi, np.pi, (n, 5)), np.zeros((n, 5)))
    types = np.tile(np.array([JET, JET, BJET, MUON, ANTIMUON], np.int8), (n, 1))
    weights = np.full((n, 1), sigma_pb / n)
    theta = np.zeros((1, len(parameters or [])))
    return EventSample(parameters=list(parameters or []), benchmark_names=["sm"], benchmark_theta=theta,
                       momenta=momenta, types=types, weights=weights,
                       globals_=rng.normal(size=(n, len(globals_))).astype(np.float32), global_names=list(globals_),
                       process_names=[name])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classify")
    paths = {}
    for name, n, seed, hard, sigma in (("sig", 240, 1, 2.0, 0.5), ("bkg_a", 200, 2, 1.0, 3.0), ("bkg_b", 160, 3, 1.2, 1.0)):
        paths[name] = str(_sample(name, n, seed, hard, sigma).save(folder / f"{name}.h5"))
    return paths


def test_combine_labels_weights_and_padding(files, tmp_path):
    wide = _sample("wide", 50, 4, 1.0, 2.0)
    wide.momenta = np.concatenate([wide.momenta, np.zeros((50, 2, 4), np.float32)], axis=1)
    wide.types = np.concatenate([wide.types, np.zeros((50, 2), np.int8)], axis=1)
    events = combine_for_classification([files["sig"], files["bkg_a"], wide.save(tmp_path / "wide.h5")])
    assert events.signal == "sig" and events.process_names == ["sig", "bkg_a", "wide"]
    assert events.momenta.shape == (490, 7, 4) and np.all(events.types[:440, 5:] == 0)
    assert events.labels.sum() == 240 and np.all(events.labels[events.process == 0] == 1)
    assert events.cross_sections() == pytest.approx({"sig": 0.5, "bkg_a": 3.0, "wide": 2.0})
    other = combine_for_classification([files["sig"], files["bkg_a"]], signal="bkg_a")
    assert other.labels.sum() == 200


def test_split_keeps_process_fractions_and_is_disjoint():
    process = np.repeat([0, 1, 2], [100, 50, 30])
    train, val, test = split_events(process, (0.6, 0.2, 0.2), seed=0)
    assert len(np.intersect1d(train, test)) == 0 and len(np.intersect1d(val, test)) == 0
    assert len(train) + len(val) + len(test) == 180
    assert [int(np.sum(process[test] == k)) for k in range(3)] == [20, 10, 6]
    with pytest.raises(OptionError, match="summing to 1"):
        split_events(process, (0.5, 0.2, 0.2))


def test_balanced_and_yield_weights(files):
    events = combine_for_classification([files["sig"], files["bkg_a"], files["bkg_b"]])
    _, _, test = split_events(events.process)
    w = yield_weights(events, test)
    for k, sigma in enumerate(events.cross_sections().values()):
        assert w[events.process[test] == k].sum() == pytest.approx(sigma)
    balanced = balanced_weights(events.labels[test], w)
    labels = events.labels[test]
    assert balanced[labels == 1].sum() == pytest.approx(len(test) / 2)
    assert balanced[labels == 0].sum() == pytest.approx(len(test) / 2)
    # within the background, the processes keep their cross-section ratio 3 : 1
    proc = events.process[test]
    assert balanced[proc == 1].sum() / balanced[proc == 2].sum() == pytest.approx(3.0)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_every_estimator_trains_one_epoch_with_finite_metrics(files, tmp_path, estimator):
    config = TrainConfig(epochs=1, batch_size=64, device="cpu")
    options = {"num_boost_round": "20"} if estimator == "bdt" else {}
    metrics = classify([files["sig"], files["bkg_a"], files["bkg_b"]], estimator, tmp_path / "out", options=options,
                       seeds=1, config=config, progress=False, figure=estimator == "mlp")
    row = metrics["seeds"][0]
    assert 0.0 <= row["auc"] <= 1.0 and np.isfinite(row["auc"])
    for point in row["working_points"]:
        assert 0.0 <= point["eps_b"] <= 1.0 and point["s"] > 0
        # s/√b is finite, or None exactly where no test background event passes (b = 0)
        assert (point["significance"] is None) == (point["b"] == 0)
    assert np.isfinite(row["inference_ms_per_event"]) and (row.get("parameters", 0) > 0 or row.get("trees", 0) > 0)
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert saved["summary"]["auc"]["mean"] == pytest.approx(row["auc"])
    assert (tmp_path / "out" / "scores.npz").is_file()
    if estimator == "mlp":
        assert (tmp_path / "out" / "roc.png").is_file() and (tmp_path / "out" / "roc.pdf").is_file()


def test_learned_classifier_separates_the_harder_process(files, tmp_path):
    """The signal's jets are twice as hard: a BDT must find it (AUC well above 0.5) and s/√b must equal
    its definition from the stored yields."""
    metrics = classify([files["sig"], files["bkg_a"]], "bdt", tmp_path / "bdt", seeds=1, progress=False, figure=False)
    row = metrics["seeds"][0]
    assert row["auc"] > 0.75
    point = row["working_points"][1]
    assert point["s"] == pytest.approx(100e3 * 0.5 * 0.5)  # L · ε_S · σ_S with L = 100 fb⁻¹
    assert point["significance"] == pytest.approx(point["s"] / np.sqrt(point["b"]))
    assert point["significance_syst"] == pytest.approx(point["s"] / np.sqrt(point["b"] + (0.2 * point["b"]) ** 2))


def test_rerun_skips_finished_seeds_and_refuses_other_settings(files, tmp_path):
    config = TrainConfig(epochs=1, batch_size=64, device="cpu")
    data = [files["sig"], files["bkg_a"]]
    first = classify(data, "mlp", tmp_path / "o", seeds=2, config=config, progress=False, figure=False)
    stamp = (tmp_path / "o" / "seed_0" / "weights.pt").stat().st_mtime_ns
    again = classify(data, "mlp", tmp_path / "o", seeds=2, config=config, progress=False, figure=False)
    assert (tmp_path / "o" / "seed_0" / "weights.pt").stat().st_mtime_ns == stamp
    assert again["summary"] == first["summary"] and first["summary"]["auc"]["std"] > 0
    # an interrupted seed (a checkpoint, no result) trains again instead of blocking the directory
    (tmp_path / "o" / "seed_2").mkdir()
    (tmp_path / "o" / "seed_2" / "checkpoint.pt").write_bytes(b"partial")
    third = classify(data, "mlp", tmp_path / "o", seeds=3, config=config, progress=False, figure=False)
    assert len(third["seeds"]) == 3 and (tmp_path / "o" / "seed_2" / "weights.pt").is_file()
    assert not (tmp_path / "o" / "seed_2" / "checkpoint.pt").exists()
    with pytest.raises(ResumeMismatchError, match="loss"):
        classify(data, "mlp", tmp_path / "o", loss="focal", config=config, progress=False, figure=False)


def test_bad_inputs_name_the_problem(files, tmp_path):
    other_globals = str(_sample("x", 30, 5, 1.0, 1.0, globals_=("met",)).save(tmp_path / "x.h5"))
    with pytest.raises(EventFileError, match="x.h5: globals"):
        combine_for_classification([files["sig"], other_globals])
    with_params_a = str(_sample("pa", 30, 6, 1.0, 1.0, parameters=["f_W"]).save(tmp_path / "pa.h5"))
    with_params_b = str(_sample("pb", 30, 7, 1.0, 1.0, parameters=["c_HW"]).save(tmp_path / "pb.h5"))
    with pytest.raises(EventFileError, match="pb.h5: parameters"):
        combine_for_classification([with_params_a, with_params_b])
    with pytest.raises(UnknownNameError, match="processes: sig, bkg_a"):
        combine_for_classification([files["sig"], files["bkg_a"]], signal="ttbar")
    with pytest.raises(OptionError, match="every event is signal"):
        combine_for_classification([files["sig"]])
    empty = _sample("empty", 30, 8, 1.0, 1.0)
    empty.weights[:] = 0.0
    with pytest.raises(EventFileError, match="process 'empty' has total weight 0"):
        combine_for_classification([files["sig"], str(empty.save(tmp_path / "empty.h5"))])


def test_cli_error_is_one_line_and_writes_nothing(files, tmp_path, capsys):
    from lfi.cli import main

    out = tmp_path / "never"
    code = main(["classify", "--data", files["sig"], files["bkg_a"], "--estimator", "mlp", "--signal", "nope",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "--signal 'nope'" in err and not out.exists()
    code = main(["classify", "--data", files["sig"], "--estimator", "mlp", "--out", str(out)])
    assert code == 1 and "every event is signal" in capsys.readouterr().err and not out.exists()


def test_auc_and_roc_agree_with_scikit_learn():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    from lfi.metrics import classification_summary, roc_curve

    rng = np.random.default_rng(3)
    labels = rng.uniform(size=3000) < 0.4
    scores = rng.normal(size=3000) + 1.1 * labels
    weights = rng.uniform(0.2, 2.0, size=3000)
    summary = classification_summary(scores, labels, weights)
    assert summary["auc"] == pytest.approx(sklearn_metrics.roc_auc_score(labels, scores, sample_weight=weights), abs=1e-12)
    fpr, tpr, _ = sklearn_metrics.roc_curve(labels, scores, sample_weight=weights, drop_intermediate=False)
    eps_b, eps_s, _ = roc_curve(scores, labels, weights)
    assert np.interp(0.5, tpr, fpr) == pytest.approx(np.interp(0.5, eps_s, eps_b), abs=1e-9)


def test_trained_classifiers_implement_the_protocol(files, tmp_path):
    from estimators.registry import load
    from lfi.protocols import EventClassifier

    config = TrainConfig(epochs=1, batch_size=64, device="cpu")
    for name in ("mlp", "bdt"):
        classify([files["sig"], files["bkg_a"]], name, tmp_path / name, config=config, progress=False, figure=False)
        model = load(tmp_path / name / "seed_0")
        assert isinstance(model, EventClassifier) and model.kind == "classifier"
        events = combine_for_classification([files["sig"], files["bkg_a"]])
        stored = np.load(tmp_path / name / "seed_0" / "scores.npy")
        test = np.load(tmp_path / name / "scores.npz")["index"]
        again = model.signal_score(events.momenta[test], events.types[test], events.globals_[test])
        assert np.allclose(again, stored, rtol=1e-5, atol=1e-6)  # the saved model reproduces its test scores


def test_public_name_is_the_function():
    """``lfi.workflows.classify`` is the function, not a module of the same name (which a lazy table would shadow)."""
    import lfi.workflows

    assert lfi.workflows.classify is classify and callable(lfi.workflows.classify)
