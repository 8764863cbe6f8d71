"""Trainer and pipeline: checkpoint-and-resume, saved estimator directory, every method runs, SALLY's score."""

import json

import numpy as np
import pytest
import torch

import estimators
from lfi.augment import JointQuantities
from lfi.train import TrainConfig
from lfi.workflows import train_estimator
from lfi.errors import Interrupted, ModelError, ModelNotFoundError, OptionError, ResumeMismatchError
from lfi.train.trainer import CHECKPOINT_FILE


@pytest.fixture(scope="module")
def toy_file(toy_file_of):
    return toy_file_of(4000, 5)


def _config(epochs):
    return TrainConfig(epochs=epochs, batch_size=128, patience=50, learning_rate=3e-3)


def test_killed_run_resumes_to_the_same_result(toy_file, tmp_path, monkeypatch):
    options = {"events_per_epoch": 1024, "head_hidden": "32"}
    straight = train_estimator(toy_file, "mlp", "alices", tmp_path / "straight", config=_config(4), options=options,
                               progress=False)
    straight_history = json.loads((tmp_path / "straight" / "history.json").read_text())

    # "kill" the second run during epoch 3: the checkpoint of epoch 2 is what survives
    from lfi.augment import dataset

    original_iter = dataset.AugmentedBatches.__iter__

    def dying_iter(self):
        if self.epoch == 2 and self.seed == 0:
            raise KeyboardInterrupt
        yield from original_iter(self)

    monkeypatch.setattr(dataset.AugmentedBatches, "__iter__", dying_iter)
    with pytest.raises(Interrupted, match="interrupted in epoch 3; epochs 1-2 are saved .*--resume"):
        train_estimator(toy_file, "mlp", "alices", tmp_path / "killed", config=_config(4), options=options,
                        progress=False)
    monkeypatch.setattr(dataset.AugmentedBatches, "__iter__", original_iter)
    assert (tmp_path / "killed" / CHECKPOINT_FILE).exists()
    # no loadable half-trained model: the estimator files appear only when training ends
    assert not (tmp_path / "killed" / "weights.pt").exists() and not (tmp_path / "killed" / "config.json").exists()
    with pytest.raises(ModelNotFoundError, match="stopped after epoch 2 of 4.*--resume"):
        estimators.load(tmp_path / "killed")
    with pytest.raises(ValueError, match="--resume"):
        train_estimator(toy_file, "mlp", "alices", tmp_path / "killed", config=_config(4), options=options, progress=False)
    resumed = train_estimator(toy_file, "mlp", "alices", tmp_path / "killed", config=_config(4), options=options,
                              resume=True, progress=False)
    history = json.loads((tmp_path / "killed" / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    for a, b in zip(history, straight_history):
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-4)
    for (name, p), (_, q) in zip(resumed.state_dict().items(), straight.state_dict().items()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5, msg=name)


def test_on_epoch_sees_every_epoch_and_training_goes_on_unchanged(toy_file, tmp_path):
    """The callback gets each history entry and the live model; evaluating the model inside it (eval mode, another
    device argument) changes neither the training nor its result."""
    options = {"events_per_epoch": 512, "head_hidden": "32"}
    plain = train_estimator(toy_file, "mlp", "alices", tmp_path / "plain", config=_config(3), options=options,
                            progress=False)
    from lfi.events import EventSample

    events = EventSample.load(toy_file)[:200]
    seen = []

    def on_epoch(entry, model):
        log_p = model.grid_log_density(model.grid_state(events), np.zeros((1, 2)))
        seen.append((entry["epoch"], log_p.shape))

    watched = train_estimator(toy_file, "mlp", "alices", tmp_path / "watched", config=_config(3), options=options,
                              progress=False, on_epoch=on_epoch)
    assert seen == [(1, (200, 1)), (2, (200, 1)), (3, (200, 1))]
    history = json.loads((tmp_path / "watched" / "history.json").read_text())
    assert [h["train_loss"] for h in history] == pytest.approx(
        [h["train_loss"] for h in json.loads((tmp_path / "plain" / "history.json").read_text())], rel=1e-6)
    for (name, p), (_, q) in zip(watched.state_dict().items(), plain.state_dict().items()):
        torch.testing.assert_close(p, q, msg=name)


def test_saved_directory_rebuilds_the_model(toy_file, tmp_path):
    model = train_estimator(toy_file, "mlp", "rascal", tmp_path / "m", config=_config(1),
                            options={"events_per_epoch": 512, "head": "ratio"}, progress=False)
    assert {"config.json", "weights.pt", "history.json"} <= {p.name for p in (tmp_path / "m").iterdir()}
    loaded = estimators.load(tmp_path / "m")
    assert loaded.metadata["method"] == "rascal" and loaded.head.kind == "ratio"
    from lfi.events import EventSample

    s = EventSample.load(toy_file)[:16]
    inputs = (torch.from_numpy(s.momenta), torch.from_numpy(s.types.astype(np.int64)), torch.from_numpy(s.globals_))
    theta0, theta1 = torch.full((16, 2), 0.4), torch.zeros(16, 2)
    model.eval()
    torch.testing.assert_close(loaded(*inputs, theta0, theta1), model(*inputs, theta0, theta1))
    # the fitted input scaling travels with the weights
    assert bool(loaded.encoder.scaler.fitted)


@pytest.mark.parametrize("estimator", ["mlp", "part"])
def test_compiled_training_of_a_score_loss_gives_a_loadable_model(toy_file, tmp_path, estimator):
    """ALICES back-propagates through ∂ log r/∂θ (a double backward, which compiled graphs refuse): torch.compile goes
    on the encoder alone, and ParT's hand-written CPU attention steps aside for the traceable one. Before: RuntimeError
    (MLP), an internal dynamo error (ParT). The saved weights carry no compile prefixes."""
    config = TrainConfig(epochs=1, batch_size=256, patience=5, compile=True, device="cpu")
    model = train_estimator(toy_file, estimator, "alices", tmp_path / "m", config=config,
                            options={"events_per_epoch": 512, "num_layers": "1"} if estimator == "part" else
                            {"events_per_epoch": 512}, progress=False)
    history = json.loads((tmp_path / "m" / "history.json").read_text())
    assert np.isfinite(history[0]["train_loss"])
    loaded = estimators.load(tmp_path / "m")
    assert set(loaded.state_dict()) == set(model.state_dict())
    assert not any("_orig_mod" in key for key in loaded.state_dict())


def test_load_refuses_broken_directories(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        estimators.load(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    (tmp_path / "weights.pt").write_bytes(b"")
    with pytest.raises(ValueError, match="not a valid estimator config"):
        estimators.load(tmp_path)


@pytest.mark.parametrize("method", ["carl", "rolr", "alice", "cascal", "sally"])
def test_every_method_trains_one_epoch(toy_file, tmp_path, method):
    train_estimator(toy_file, "mlp", method, tmp_path / method, config=_config(1), options={"events_per_epoch": 256},
                    progress=False)
    history = json.loads((tmp_path / method / "history.json").read_text())
    assert np.isfinite(history[0]["train_loss"]) and history[0]["events_per_s"] > 0


def test_sally_learns_the_expected_joint_score(toy_sample, tmp_path):
    """At θ_ref the mean learnt score over events equals the mean joint score (E[t(x,z)|x] = t(x)), both ≈ 0."""
    path = tmp_path / "toy.h5"
    toy_sample.save(path)
    model = train_estimator(path, "mlp", "sally", tmp_path / "sally", config=TrainConfig(epochs=3, batch_size=256),
                            options={"events_per_epoch": 8192}, progress=False)
    events = np.arange(len(toy_sample))
    joint = JointQuantities(toy_sample).score(events, np.zeros(2))
    with torch.no_grad():
        learnt = model(torch.from_numpy(toy_sample.momenta), torch.from_numpy(toy_sample.types.astype(np.int64)),
                       torch.from_numpy(toy_sample.globals_)).double().numpy()
    w = toy_sample.weights[:, 0]
    mean_joint, mean_learnt = (w @ joint) / w.sum(), (w @ learnt) / w.sum()
    spread = np.sqrt((w @ joint**2) / w.sum())
    np.testing.assert_allclose(mean_learnt, mean_joint, atol=0.1 * spread.max())
    # the learnt score carries information: it correlates with the joint score
    corr = [np.corrcoef(learnt[:, d], joint[:, d])[0, 1] for d in range(2)]
    assert min(corr) > 0.3, corr


def test_bad_requests_are_refused(toy_file, tmp_path):
    with pytest.raises(KeyError, match="valid"):
        train_estimator(toy_file, "mlp", "npe", tmp_path / "x", config=_config(1))
    with pytest.raises(KeyError, match="unknown estimator .*bdt, cnn1d"):
        train_estimator(toy_file, "transformerzzz", "alice", tmp_path / "y", config=_config(1))
    with pytest.raises(ValueError, match="CUDA is not available"):
        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
        train_estimator(toy_file, "mlp", "alice", tmp_path / "z", config=TrainConfig(epochs=1, device="cuda"))
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)


def _interrupted_run(toy_file, out, monkeypatch, options):
    """A run of 4 epochs killed in epoch 2 (epoch 1 is checkpointed)."""
    from lfi.augment import dataset

    original_iter = dataset.AugmentedBatches.__iter__

    def dying_iter(self):
        if self.epoch == 1 and self.seed == 0:
            raise KeyboardInterrupt
        yield from original_iter(self)

    with monkeypatch.context() as patch:
        patch.setattr(dataset.AugmentedBatches, "__iter__", dying_iter)
        with pytest.raises(Interrupted):
            train_estimator(toy_file, "mlp", "alices", out, config=_config(4), options=options, progress=False)


def test_resume_refuses_changed_settings_and_names_each(toy_file, tmp_path, monkeypatch):
    options = {"events_per_epoch": 512, "head_hidden": "16"}
    out = tmp_path / "run"
    _interrupted_run(toy_file, out, monkeypatch, options)
    changed = TrainConfig(epochs=4, batch_size=64, patience=50, learning_rate=1e-3)
    with pytest.raises(ResumeMismatchError) as info:
        train_estimator(toy_file, "part", "rascal", out, config=changed, options={**options, "prior": "uniform:-1:1"},
                        resume=True, progress=False)
    message = str(info.value)
    assert "\n" not in message
    for what in ("estimator was 'mlp', now 'part'", "method was 'alices', now 'rascal'", "config.batch_size was 128",
                 "config.learning_rate was 0.003", "options.data.prior was None"):
        assert what in message, what
    # another data file is refused by its content hash
    other = tmp_path / "other.h5"
    import simulators.toy as toy

    toy.simulate(4000, seed=6).save(other)
    with pytest.raises(ResumeMismatchError, match="data.sha256"):
        train_estimator(other, "mlp", "alices", out, config=_config(4), options=options, resume=True, progress=False)
    # epochs and patience may change; the run then finishes and loads
    longer = TrainConfig(epochs=5, batch_size=128, patience=40, learning_rate=3e-3)
    train_estimator(toy_file, "mlp", "alices", out, config=longer, options=options, resume=True, progress=False)
    assert len(json.loads((out / "history.json").read_text())) == 5 and estimators.load(out).kind == "ratio"


def test_an_interrupt_before_the_first_epoch_leaves_nothing(toy_file, tmp_path, monkeypatch):
    from lfi.augment import dataset

    def dying_iter(self):
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(dataset.AugmentedBatches, "__iter__", dying_iter)
    with pytest.raises(Interrupted, match="before any epoch finished; no model was written"):
        train_estimator(toy_file, "mlp", "alices", tmp_path / "new", config=_config(2),
                        options={"events_per_epoch": 256}, progress=False)
    assert not (tmp_path / "new").exists()


def test_damaged_estimator_files_are_one_line_errors(toy_file, tmp_path):
    out = tmp_path / "m"
    train_estimator(toy_file, "mlp", "sally", out, config=_config(1), options={"events_per_epoch": 256}, progress=False)
    weights = (out / "weights.pt").read_bytes()
    (out / "weights.pt").write_bytes(weights[: len(weights) // 2])
    with pytest.raises(ModelError, match="weights.pt: not a readable weights file") as info:
        estimators.load(out)
    assert "\n" not in str(info.value) and "weights_only" not in str(info.value)
    (out / "checkpoint.pt").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="checkpoint.pt: unreadable training checkpoint"):
        train_estimator(toy_file, "mlp", "sally", out, config=_config(2), options={"events_per_epoch": 256},
                        resume=True, progress=False)


def test_bad_device_and_out_fail_before_anything_is_written(toy_file, tmp_path):
    with pytest.raises(OptionError, match="--device gpu7: not a device"):
        train_estimator(toy_file, "mlp", "alices", tmp_path / "d", config=TrainConfig(epochs=1, device="gpu7"))
    assert not (tmp_path / "d").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(OptionError, match="is a file"):
        train_estimator(toy_file, "mlp", "alices", tmp_path / "file", config=_config(1))


@pytest.mark.parametrize("estimator, method, options, key", [
    ("bdt", "carl", {"head_hidden": "8"}, "head_hidden"),
    ("mlp", "sally", {"prior": "uniform:-1:1"}, "prior"),
    ("mlp", "carl", {"alpha": "5"}, "alpha"),
    ("mlp", "alices", {"focal_gamma": "2"}, "focal_gamma"),
])
def test_options_that_would_be_ignored_are_refused(toy_file, tmp_path, estimator, method, options, key):
    with pytest.raises(OptionError, match=f"option {key} does not apply to"):
        train_estimator(toy_file, estimator, method, tmp_path / "b", config=_config(1), options=options)
    assert not (tmp_path / "b").exists()
