"""`lfi limits` refuses what a user can fix in one line (exit 1), warns about biased limits, and reports how long
each model trained; the statistics, morphing, augmentation and metrics modules raise LfiErrors for settings."""

import json
import shutil

import numpy as np
import pytest

from lfi.cli import main
from lfi.errors import EventFileError, LfiError, OptionError, UnknownNameError


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A training file, an independent test file and an alices model trained for one epoch on the first."""
    root = tmp_path_factory.mktemp("limits_errors")
    train, test = root / "train.h5", root / "test.h5"
    assert main(["simulate", "toy", "--events", "3000", "--out", str(train), "--seed", "1"]) == 0
    assert main(["simulate", "toy", "--events", "3000", "--out", str(test), "--seed", "2"]) == 0
    model = root / "model"
    assert main(["train", "--data", str(train), "--estimator", "mlp", "--method", "alices", "--out", str(model),
                 "--epochs", "1", "--option", "events_per_epoch=512", "--option", "head_hidden=16",
                 "--option", "hidden=16", "--quiet"]) == 0
    return {"train": train, "test": test, "model": model, "root": root}


def limits_args(data, out, *extra, grid="-1:1:11,-1:1:11"):
    return ["limits", "--data", str(data), "--lumi", "10", f"--grid={grid}", "--out", str(out), *extra]


def one_line_error(capsys, *needles):
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("lfi limits: error:"), err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


# ---------------------------------------------------------------------------------------------------- a: --true

def test_true_point_outside_the_grid_is_refused(files, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(limits_args(files["test"], out, "--truth", "--true", "5,5")) == 1
    one_line_error(capsys, "--true 5,5", "outside the grid", "theta_0 ∈ [-1, 1]", "theta_1 ∈ [-1, 1]")
    assert not out.exists()
    # The default θ* (the SM) off the grid is refused too, naming --true.
    assert main(limits_args(files["test"], out, "--truth", grid="0.5:2:11,0.5:2:11")) == 1
    one_line_error(capsys, "--true", "outside the grid", "[0.5, 2]")
    # On the edge is allowed (the contours are open, the table says so).
    assert main(limits_args(files["test"], out, "--truth", "--true", "1,-1")) == 0


@pytest.mark.parametrize("value, needle", [("a,b", "not a comma-separated list"), ("0.1,0.2,0.3", "needs 2 finite values"),
                                           ("nan,0", "needs 2 finite values")])
def test_bad_true_values_are_one_line(files, tmp_path, capsys, value, needle):
    assert main(limits_args(files["test"], tmp_path / "out", "--truth", "--true", value)) == 1
    one_line_error(capsys, "--true", needle)


# ------------------------------------------------------------------------------------------ b: grid and memory

def test_grid_too_large_for_memory_is_one_line(files, tmp_path, capsys):
    assert main(limits_args(files["test"], tmp_path / "out", "--truth", grid="-1:1:1000000,-1:1:1000000")) == 1
    one_line_error(capsys, "--grid -1:1:1000000,-1:1:1000000", "1,000,000,000,000 grid points", "3,000 test events", "of memory",
                   "fewer points per axis")


def test_grid_is_refused_when_memory_is_short(files, tmp_path, capsys, monkeypatch):
    from lfi.workflows import limits_checks

    monkeypatch.setattr(limits_checks, "available_memory", lambda: 20 * 2**20)
    assert main(limits_args(files["test"], tmp_path / "out", "--truth", grid="-1:1:401,-1:1:401")) == 1
    one_line_error(capsys, "160,801 grid points", "20.0 MiB are available", "fewer points per axis")
    monkeypatch.setattr(limits_checks, "available_memory", lambda: None)  # unknown: nothing is refused
    assert main(limits_args(files["test"], tmp_path / "out", "--truth", grid="-1:1:5,-1:1:5")) == 0


def test_small_chunks_give_the_same_maps(files, monkeypatch):
    import lfi.workflows.limits as workflow
    from lfi.workflows import limits_checks

    kwargs = dict(models=[files["model"]], histograms=[["pt_j1"]], truth=True, lumi=10.0, grid="-1:1:9,-1:1:9")
    default = workflow.expected_limits(files["test"], **kwargs)
    monkeypatch.setattr(limits_checks, "CHUNK_BUDGET", 1)  # one grid point per chunk
    small = workflow.expected_limits(files["test"], **kwargs)
    assert set(default.maps) == set(small.maps) == {"truth", "histogram_pt_j1", "alices_model"}
    for name in default.maps:
        np.testing.assert_allclose(small.maps[name], default.maps[name], rtol=1e-6, atol=1e-6)
    assert workflow.memory_estimate(10**4, 10**5, 2, 3, 128) < 2**30


@pytest.mark.parametrize("grid, needle", [("foo", "grid spec part 'foo'"), ("1:0:5,-1:1:5", "low < high"),
                                          ("-1:1:inf,-1:1:5", "integer number of points"), ("-1:1:5", "2 parameters")])
def test_unusable_grid_is_one_line(files, tmp_path, capsys, grid, needle):
    assert main(limits_args(files["test"], tmp_path / "out", "--truth", grid=grid)) == 1
    one_line_error(capsys, needle)


# --------------------------------------------------------------------------------------- c: the training file

def test_limits_on_the_training_file_warn(files, tmp_path, caplog):
    with caplog.at_level("WARNING"):
        assert main(limits_args(files["train"], tmp_path / "out", "--model", str(files["model"]))) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert "was trained on --data" in warnings[0] and "biased" in warnings[0] and str(files["model"]) in warnings[0]
    caplog.clear()
    copy = tmp_path / "copy.h5"
    shutil.copy2(files["train"], copy)  # same size and modification time
    with caplog.at_level("WARNING"):
        assert main(limits_args(copy, tmp_path / "out", "--model", str(files["model"]))) == 0
    assert any("a copy of" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING"):
        assert main(limits_args(files["test"], tmp_path / "out", "--model", str(files["model"]))) == 0
    assert not [r for r in caplog.records if "trained on" in r.getMessage()]


# ---------------------------------------------------------------------------------------------- d: --out a file

def test_out_that_is_a_file_is_one_line(files, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    assert main(limits_args(files["test"], afile, "--truth")) == 1
    one_line_error(capsys, f"--out {afile}", "not a directory")
    assert main(limits_args(files["test"], afile / "sub", "--truth")) == 1
    one_line_error(capsys, "--out", "is a file")
    assert afile.read_text() == "keep me"


# ---------------------------------------------------------------------------------------------- e: --device

@pytest.mark.parametrize("device", ["gpu7", "cuda:99"])
def test_unusable_device_is_one_line(files, tmp_path, capsys, device):
    assert main(limits_args(files["test"], tmp_path / "out", "--model", str(files["model"]), "--device", device)) == 1
    one_line_error(capsys, f"--device {device}")
    assert not (tmp_path / "out" / "limits.json").exists()


# ------------------------------------------------------------------------------------- f: how long models trained

def test_training_epochs_are_printed_and_recorded(files, tmp_path, capsys):
    stopped = tmp_path / "stopped"
    shutil.copytree(files["model"], stopped)
    options = json.loads((stopped / "train_options.json").read_text())
    options["config"]["epochs"] = 5
    (stopped / "train_options.json").write_text(json.dumps(options))
    history = json.loads((stopped / "history.json").read_text())
    (stopped / "history.json").write_text(json.dumps(history * 3))  # three epochs of five
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(limits_args(files["test"], out, "--model", str(files["model"]), str(stopped))) == 0
    text = capsys.readouterr().out
    assert "alices_model: trained 1 of 1 epochs" in text and "not ended by early stopping" in text
    assert "alices_stopped: trained 3 of 5 epochs, ended by early stopping" in text
    maps = json.loads((out / "limits.json").read_text())["maps"]
    assert maps["alices_model"]["training"] == {"epochs": 1, "max_epochs": 1, "early_stopped": False}
    assert maps["alices_stopped"]["training"] == {"epochs": 3, "max_epochs": 5, "early_stopped": True}


def test_training_record_without_the_maximum(files, tmp_path):
    from lfi.workflows.limits import training_record

    bare = tmp_path / "bare"
    bare.mkdir()
    assert training_record(bare) is None
    shutil.copy(files["model"] / "history.json", bare / "history.json")
    assert training_record(bare) == {"epochs": 1, "max_epochs": None, "early_stopped": None}


# ------------------------------------------------------------------------------- other requests a user can fix

def test_other_bad_requests_are_one_line(files, tmp_path, capsys, small_sample):
    test, out = files["test"], tmp_path / "out"
    assert main(limits_args(test, out, "--histogram", "m_4l")) == 1
    one_line_error(capsys, "no observable 'm_4l'", "pt_j1")
    assert main(limits_args(test, out, "--histogram", "m_jj", "--binning", "reference")) == 1
    one_line_error(capsys, "no reference binning for observable 'm_jj'")
    assert main(limits_args(test, out, "--histogram", ",")) == 1
    one_line_error(capsys, "--histogram")
    assert main(["limits", "--data", str(test), "--truth", "--lumi", "-1", "--grid=-1:1:5,-1:1:5", "--out", str(out)]) == 1
    one_line_error(capsys, "--lumi: the luminosity must be positive and finite")
    assert main(limits_args(test, out, "--model", str(tmp_path / "nowhere"))) == 1
    one_line_error(capsys, "--model", "nowhere")
    assert main(limits_args(test, out, "--model", str(files["model"]), str(files["model"]))) == 1
    one_line_error(capsys, "same map name 'alices_model'")
    unmorphed = tmp_path / "unmorphed.h5"
    small_sample.save(unmorphed)
    assert main(limits_args(unmorphed, out, "--histogram", "pt_j1")) == 1
    one_line_error(capsys, str(unmorphed), "no /morphing group")
    assert not out.exists()


def test_core_modules_raise_lfi_errors(toy_sample, small_sample):
    from lfi import limits, metrics
    from lfi.augment import JointQuantities, UniformPrior, parse_prior
    from lfi.augment.dataset import AugmentedBatches
    from lfi.evaluate import histogram_map, truth_map
    from lfi.limits.checks import check_lumi
    from lfi.morphing import Morpher, monomial_components
    from lfi.truth import exact_log_likelihood

    for call in (lambda: limits.parse_grid("foo"), lambda: check_lumi(-1), lambda: check_lumi("x"),
                 lambda: limits.q_threshold(1.5), lambda: limits.reference_edges("m_jj"),
                 lambda: limits.quantile_edges(np.arange(5.0), np.ones(5), 0),
                 lambda: parse_prior("cauchy:0:1", 2), lambda: parse_prior("grid:-1:1:0", 2),
                 lambda: parse_prior("uniform:1:-1", 2), lambda: UniformPrior((1,), (0,)),
                 lambda: Morpher(monomial_components(1, 2), [[0.0], [0.0], [1.0]]),
                 lambda: metrics.auc([0.1, 0.9], [0, 1], negative_weights="drop"),
                 lambda: metrics.significance(1.0, 1.0, rel_syst=-1),
                 lambda: AugmentedBatches(toy_sample, UniformPrior((0, 0), (1, 1)), UniformPrior((0, 0), (1, 1)),
                                          batch_size=1)):
        with pytest.raises(OptionError):
            call()
    with pytest.raises(OptionError, match="cannot read prior"):  # still a ValueError with its old message
        parse_prior("uniform:1:-1", 2)
    with pytest.raises(EventFileError, match="no /morphing group"):
        JointQuantities(small_sample)
    with pytest.raises(EventFileError, match="no exact likelihood"):
        exact_log_likelihood(small_sample, np.zeros((1, 2)))
    points = np.zeros((1, 2))
    with pytest.raises(UnknownNameError, match="no observable 'm_4l'") as info:
        histogram_map(toy_sample, ["m_4l"], points, np.zeros(2), 10.0)
    assert isinstance(info.value, KeyError) and str(info.value).startswith("no observable")
    with pytest.raises(EventFileError):
        truth_map(small_sample, points, np.zeros(2), 10.0)
    assert issubclass(OptionError, ValueError) and issubclass(OptionError, LfiError)


def test_without_grid_the_benchmarks_range_is_used_and_said(files, tmp_path, caplog):
    from lfi.events import EventSample
    from lfi.workflows.limits import DEFAULT_GRID_POINTS, default_grid

    sample = EventSample.load(files["test"])
    expected = default_grid(sample)
    axes = [spec.split(":") for spec in expected.split(",")]
    for j, (low, high, n) in enumerate(axes):  # covers every benchmark and the SM point
        assert float(low) <= min(sample.benchmark_theta[:, j].min(), 0) and float(high) >= sample.benchmark_theta[:, j].max()
        assert int(n) == DEFAULT_GRID_POINTS
    with caplog.at_level("INFO", logger="lfi.limits"):
        assert main(["limits", "--data", str(files["test"]), "--truth", "--lumi", "20", "--out", str(tmp_path)]) == 0
    assert f"grid: {expected}" in caplog.text
    assert json.loads((tmp_path / "limits.json").read_text())["grid"] == expected
