"""Trainer and pipeline: checkpoint-and-resume, saved estimator directory, every method runs, SALLY's score."""

import json

import numpy as np
import pytest
import torch

import estimators
from lfi.augment import JointQuantities
from lfi.train import TrainConfig
from lfi.workflows import train_estimator
from lfi.train.trainer import CHECKPOINT_FILE


@pytest.fixture(scope="module")
def toy_file(tmp_path_factory):
    import simulators.toy as toy

    path = tmp_path_factory.mktemp("data") / "toy.h5"
    toy.simulate(4000, seed=5).save(path)
    return path


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
    with pytest.raises(KeyboardInterrupt):
        train_estimator(toy_file, "mlp", "alices", tmp_path / "killed", config=_config(4), options=options,
                        progress=False)
    monkeypatch.setattr(dataset.AugmentedBatches, "__iter__", original_iter)
    assert (tmp_path / "killed" / CHECKPOINT_FILE).exists()
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
        train_estimator(toy_file, "mlp", "nde", tmp_path / "x", config=_config(1))
    with pytest.raises(KeyError, match="unknown estimator .*bdt, cnn1d"):
        train_estimator(toy_file, "transformerzzz", "alice", tmp_path / "y", config=_config(1))
    with pytest.raises(ValueError, match="CUDA is not available"):
        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
        train_estimator(toy_file, "mlp", "alice", tmp_path / "z", config=TrainConfig(epochs=1, device="cuda"))
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
