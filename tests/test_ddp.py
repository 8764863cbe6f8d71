"""Data-parallel training under torchrun (gloo on this CPU): two processes with batch B take the steps of one process
with batch 2B, so their loss curves agree to float rounding; rank 0 alone writes; a checkpoint of a killed 2-process
run resumes in one process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import estimators
from lfi.train.class_batches import ClassBatches

EPOCH = ["--option", "events_per_epoch=4096", "--option", "head_hidden=16", "--patience", "50", "--quiet"]


@pytest.fixture(scope="module")
def toy_file(toy_file_of):
    return toy_file_of(6000, 3)


def _train(toy_file: Path, out: Path, processes: int, batch: int, epochs: int, *extra: str) -> subprocess.Popen:
    lfi = ["train", "--data", str(toy_file), "--estimator", "mlp", "--method", "alices", "--out", str(out),
           "--epochs", str(epochs), "--batch-size", str(batch), *EPOCH, *extra]
    launcher = ([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(processes), "--master-port",
                 str(_free_port()), "-m", "lfi"] if processes > 1 else [sys.executable, "-m", "lfi"])
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(launcher + lfi, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (read from /proc), children first."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return [d for c in children for d in _descendants(c)] + children


def _finish(process: subprocess.Popen) -> str:
    _, stderr = process.communicate(timeout=300)  # a wait, not a speed limit
    assert process.returncode == 0, stderr
    return stderr


def _losses(out: Path) -> np.ndarray:
    return np.array([(e["train_loss"], e["val_loss"]) for e in json.loads((out / "history.json").read_text())])


def test_two_processes_follow_the_loss_curve_of_one_with_twice_the_batch(toy_file, tmp_path):
    ddp = _train(toy_file, tmp_path / "ddp", processes=2, batch=128, epochs=2)
    stderr = _finish(ddp)
    _finish(_train(toy_file, tmp_path / "single", processes=1, batch=256, epochs=2))
    # the same events in the same steps: equal up to the order of float32 sums (measured: 1e-8)
    np.testing.assert_allclose(_losses(tmp_path / "ddp"), _losses(tmp_path / "single"), rtol=1e-5)
    assert stderr.count("saved mlp estimator") == 1  # rank 0 reports and writes, rank 1 does not
    a, b = estimators.load(tmp_path / "ddp"), estimators.load(tmp_path / "single")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-3, atol=1e-5, err_msg=name)


def test_a_killed_two_process_run_resumes_in_one_process(toy_file, tmp_path):
    out = tmp_path / "run"
    process = _train(toy_file, out, processes=2, batch=128, epochs=500)
    deadline = time.monotonic() + 240
    while not (out / "progress.json").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no epoch finished"
        time.sleep(0.1)
    for pid in _descendants(process.pid) + [process.pid]:  # both workers (own sessions) and the launcher
        os.kill(pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert (out / "checkpoint.pt").is_file() and not (out / "weights.pt").exists()
    done = json.loads((out / "progress.json").read_text())["epoch"]
    _finish(_train(toy_file, out, 1, 128, done + 1, "--resume"))
    history = json.loads((out / "history.json").read_text())
    assert [e["epoch"] for e in history] == list(range(1, done + 2))
    assert estimators.load(out).kind == "ratio"


def test_class_batches_share_out_every_validation_event_once():
    """Validation batches are split over the processes without dropping any; training batches are cut to the same
    number in each process (each step waits for all)."""
    from types import SimpleNamespace

    n = 10
    events = SimpleNamespace(momenta=np.zeros((n, 1, 4), np.float32), types=np.zeros((n, 1), np.int32),
                             globals_=np.zeros((n, 0), np.float32), labels=np.arange(n))
    seen, lengths = [], []
    for rank in range(3):
        batches = ClassBatches(events, np.arange(n), np.ones(n), batch_size=3, shuffle=False)
        batches.set_rank(rank, 3)
        seen += [int(v) for b in batches for v in b["label"]]
        train = ClassBatches(events, np.arange(n), np.ones(n), batch_size=3, shuffle=True)
        train.set_rank(rank, 3)
        lengths.append(len(list(train)))
    assert sorted(seen) == list(range(n))
    assert lengths == [1, 1, 1]
