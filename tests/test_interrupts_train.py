"""`lfi train` interrupted for real: Ctrl-C is one line and exit 130, kill -9 leaves a resumable checkpoint and
never a loadable half-trained model."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import estimators
from lfi.errors import ModelNotFoundError


@pytest.fixture(scope="module")
def toy_file(toy_file_of):
    return toy_file_of(4000, 5)


def _start(toy_file: Path, out: Path, epochs: int, resume: bool = False) -> subprocess.Popen:
    argv = [sys.executable, "-m", "lfi.cli", "train", "--data", str(toy_file), "--estimator", "mlp", "--method", "alices",
            "--out", str(out), "--epochs", str(epochs), "--patience", "500", "--quiet",
            "--option", "events_per_epoch=1024", "--option", "head_hidden=16"]
    return subprocess.Popen(argv + (["--resume"] if resume else []), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=_sigint_as_in_a_shell)


def _sigint_as_in_a_shell() -> None:
    """The child gets SIGINT unblocked and at its default, as from a terminal: a pytest-xdist worker can hand its
    children a blocked or ignored SIGINT (mask and ignored dispositions survive exec), and then Ctrl-C never arrives."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def test_ctrl_c_during_training_is_one_line_and_resumable(toy_file, tmp_path):
    out = tmp_path / "run"
    process = _start(toy_file, out, epochs=500)
    _wait_for(out / "progress.json", process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)  # a wait, not a speed limit: a loaded 2-core CI runs 4+ processes
    assert process.returncode == 130
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("lfi train: interrupted in epoch") and "rerun the same command with --resume" in last
    assert not (out / "weights.pt").exists()
    with pytest.raises(ModelNotFoundError, match="--resume"):
        estimators.load(out)


def test_kill_9_leaves_a_checkpoint_that_resumes_to_a_model(toy_file, tmp_path):
    out = tmp_path / "run"
    process = _start(toy_file, out, epochs=500)
    _wait_for(out / "progress.json", process)
    process.kill()
    process.communicate(timeout=30)
    assert (out / "checkpoint.pt").is_file()
    assert not (out / "weights.pt").exists() and not (out / "config.json").exists()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temporary under a real name
    resumed = _start(toy_file, out, epochs=2, resume=True)  # a smaller --epochs ends the run at once
    _, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    assert estimators.load(out).kind == "ratio"
