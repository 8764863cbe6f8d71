"""`lfi simulate` when stopped: Ctrl-C prints one line and exits 130 leaving no file and no process; kill -9
leaves nothing under the requested name and no worker running; a later run removes a killed run's temporary.
Also samples smaller than the toy's morphing basis, and the one-line errors of the simulators."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lfi.cli import main
from lfi.errors import OptionError, UnknownNameError

ROOT = Path(__file__).resolve().parents[1]
linux_only = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc to find the processes")

# `python -m lfi.cli`, with Ctrl-C handled as in a terminal even when the tests run with SIGINT ignored
# (a background job in a non-interactive shell): SIG_IGN would be inherited and Python would keep it.
_LFI = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "runpy.run_module('lfi.cli', run_name='__main__', alter_sys=True)")


@contextlib.contextmanager
def _started(args: list[str], out: Path):
    """``lfi simulate ARGS --out OUT`` in its own session (its process group id is its pid); whatever happens,
    nothing of the group outlives the test."""
    process = subprocess.Popen(
        [sys.executable, "-c", _LFI, "simulate", *args, "--out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        for pid in _group(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.communicate(timeout=10)


def _stat(pid: int) -> tuple[str, int, int, float] | None:
    """(state, ppid, process group, user + system CPU seconds) from /proc, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rpartition(")")[2].split()
    return fields[0], int(fields[1]), int(fields[2]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _group(pgid: int) -> dict[int, str]:
    """pid → state of every process in the group (Z: exited, not yet reaped)."""
    members = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = _stat(int(entry))
            if info is not None and info[2] == pgid:
                members[int(entry)] = info[0]
    return members


def _children(pid: int) -> list[int]:
    return [p for p in _group(pid) if p != pid and (_stat(p) or ("", 0))[1] == pid]


def _wait_for(condition, timeout: float, what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"lfi simulate ended before {what}: {process.communicate()[1][-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _busy(process: subprocess.Popen, cpu_seconds: float) -> bool:
    """The command is past its imports (about 1 s of CPU) and simulating."""
    info = _stat(process.pid)
    return info is not None and info[3] >= cpu_seconds


def _workers_started(process: subprocess.Popen, n: int) -> bool:
    workers = []
    for pid in _children(process.pid):
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                workers.append(pid)
        except OSError:
            pass
    return len(workers) >= n


def _assert_group_ends(pgid: int, within: float) -> float:
    """Every process of the group (workers, resource tracker) has ended within ``within`` seconds; returns
    how long that took. A zombie reparented to init counts as ended (init reaps it)."""
    start = time.monotonic()
    while True:
        alive = {pid: state for pid, state in _group(pgid).items() if state != "Z"}
        if not alive:
            return time.monotonic() - start
        if time.monotonic() - start > within:
            pytest.fail(f"processes still running {within} s after lfi simulate ended: {alive}")
        time.sleep(0.02)


def _interrupt(process: subprocess.Popen) -> tuple[str, float]:
    """Ctrl-C as a terminal sends it (to the whole foreground process group); returns stderr and how long
    the command took to exit."""
    sent = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)
    try:
        _, err = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("lfi simulate did not stop within 10 s of Ctrl-C")
    return err, time.monotonic() - sent


def _assert_one_interrupted_line(process: subprocess.Popen, err: str) -> None:
    lines = err.strip().splitlines()
    assert process.returncode == 130, err[-3000:]
    assert len(lines) == 1 and "interrupted" in lines[0], err[-3000:]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


_TOY_CACHE = {}


@pytest.fixture()
def fast_toy(monkeypatch):
    """The toy with its exact likelihood (about 5 s to build) and morphing basis built once for all tests."""
    import functools

    import simulators.toy as toy

    if not _TOY_CACHE:
        _TOY_CACHE["default"] = toy.ExactLikelihood(toy.ToyModel(), toy.Detector())
        _TOY_CACHE["basis"] = functools.lru_cache(toy.morphing_basis)
    monkeypatch.setattr(toy, "ExactLikelihood", lambda model, detector: _TOY_CACHE["default"])
    monkeypatch.setattr(toy, "morphing_basis", _TOY_CACHE["basis"])
    return toy


# ---------------------------------------------------------------------------------------------- Ctrl-C


@linux_only
def test_ctrl_c_stops_the_toy_with_one_line_and_no_file(tmp_path):
    # a regression guard: the toy runs in one process and stopped cleanly before the worker-pool fix too
    out = tmp_path / "toy.h5"
    with _started(["toy", "--events", "3000000"], out) as process:  # about a minute
        _wait_for(lambda: _busy(process, 2.5), 12, "the toy to start simulating", process)
        err, took = _interrupt(process)
        _assert_one_interrupted_line(process, err)
        assert took < 3, took
        _assert_group_ends(process.pid, within=2)
    assert _leftovers(tmp_path) == []


@linux_only
def test_ctrl_c_stops_the_wbf_worker_pool_within_a_second(tmp_path):
    out = tmp_path / "wbf.h5"
    # four 1000-event detector-level chunks of 10 s or more each, on two workers
    with _started(["wbf", "--level", "detector", "--events", "4000", "--workers", "2"], out) as process:
        _wait_for(lambda: _workers_started(process, 2), 12, "two worker processes", process)
        time.sleep(1.0)  # the workers are importing or inside Pythia
        err, took = _interrupt(process)
        _assert_one_interrupted_line(process, err)  # no traceback from the workers
        assert took < 3, took  # the pool's own shutdown would wait for the running chunks
        _assert_group_ends(process.pid, within=1)  # workers and resource tracker
    assert _leftovers(tmp_path) == []


def test_ctrl_c_that_python_drops_while_saving_still_stops_the_save(tmp_path, capsys, monkeypatch, fast_toy):
    """h5py runs weakref callbacks while it writes; Python drops a KeyboardInterrupt raised in one ("Exception
    ignored in ...") and would go on to write the file."""
    from lfi.events import EventSample

    class Dropped:
        def __del__(self):
            signal.raise_signal(signal.SIGINT)  # the handler raises here, inside __del__

    save = EventSample.save

    def save_with_ctrl_c(self, path, compression=None):
        Dropped()
        return save(self, path, compression)

    monkeypatch.setattr(EventSample, "save", save_with_ctrl_c)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in `lfi` run from a terminal
    try:
        out = tmp_path / "toy.h5"
        assert main(["simulate", "toy", "--events", "20", "--out", str(out)]) == 130
    finally:
        signal.signal(signal.SIGINT, previous)
    err = capsys.readouterr().err.strip()
    assert err == "lfi simulate: interrupted; no output written", err
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------------------------- kill -9


@linux_only
def test_kill_9_leaves_no_output_and_no_worker_running(tmp_path):
    out = tmp_path / "wbf.h5"
    with _started(["wbf", "--level", "detector", "--events", "4000", "--workers", "2"], out) as process:
        _wait_for(lambda: _workers_started(process, 2), 12, "two worker processes", process)
        time.sleep(1.0)
        os.kill(process.pid, signal.SIGKILL)  # the parent only, as `kill -9 PID` does
        process.communicate(timeout=10)
        assert process.returncode == -signal.SIGKILL
        _assert_group_ends(process.pid, within=2)  # the workers die with their parent, not wait forever
    assert not out.exists()
    # the only residue a SIGKILL can leave is a temporary, never a file under the requested name
    assert all(name.startswith(".wbf.") and name.endswith(".tmp.h5") for name in _leftovers(tmp_path))


def test_a_killed_runs_temporary_is_removed_by_the_next_run(tmp_path, capsys, fast_toy):
    out = tmp_path / "toy.h5"
    # the names atomic_write gave the temporaries of a run killed while saving
    stale = [tmp_path / ".toy.k2x_9abc.tmp.h5", tmp_path / ".toy.0ab_cdef.tmp.h5"]
    fresh = tmp_path / ".toy.q1w2e3r4.tmp.h5"  # a run still writing the same name right now
    other = tmp_path / ".other.k2x_9abc.tmp.h5"  # another output's temporary
    for path in (*stale, fresh, other):
        path.write_bytes(b"partial")
    hour_ago = time.time() - 3600
    for path in (*stale, other):
        os.utime(path, (hour_ago, hour_ago))
    assert main(["simulate", "toy", "--events", "20", "--out", str(out)]) == 0
    capsys.readouterr()
    assert out.exists() and not any(path.exists() for path in stale)
    assert fresh.exists() and other.exists()


# ---------------------------------------------------------------------------------------- tiny samples


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_toy_samples_smaller_than_the_morphing_basis_work(tmp_path, capsys, fast_toy, n):
    from lfi.events import EventSample

    out = tmp_path / "toy.h5"
    assert main(["simulate", "toy", "--events", str(n), "--out", str(out), "--seed", "4"]) == 0
    assert "error" not in capsys.readouterr().err
    sample = EventSample.load(out)
    assert len(sample) == n
    assert np.all(np.isfinite(sample.weights)) and np.all(sample.weights > 0)
    assert set(sample.sampled_from.tolist()) <= set(range(1, 7))
    for b in range(sample.n_benchmarks):  # the weights still morph exactly
        np.testing.assert_allclose(sample.weights_at(sample.benchmark_theta[b]), sample.weights[:, b], rtol=1e-9)


@pytest.mark.parametrize("n", [1, 4])
def test_toy_small_samples_are_unbiased(fast_toy, n):
    """Fewer events than basis points: only some benchmarks draw events, the weights still estimate σ(θ)."""
    from lfi.morphing import monomial_components

    samples = [fast_toy.simulate(n, seed=s, truth=False) for s in range(200)]
    sums = np.array([sample.weights.sum(axis=0) for sample in samples])
    theta = samples[0].benchmark_theta
    alpha = np.prod(theta[:, None, :] ** monomial_components(2, 2)[None], axis=-1)
    exact = alpha @ samples[0].truth["sigma_coefficients"]
    error = sums.std(axis=0) / np.sqrt(len(sums)) + 1e-9 * exact  # one event drawn at θ_b weighs exactly σ(θ_b)
    assert np.all(np.abs(sums.mean(axis=0) - exact) < 4.5 * error), (sums.mean(axis=0) - exact) / error


def test_wbf_sample_with_no_selected_event_is_one_line(tmp_path, capsys):
    out = tmp_path / "wbf.h5"
    # seed 2: the single detector-level event fails the selection
    assert main(["simulate", "wbf", "--level", "detector", "--events", "1", "--seed", "2", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("lfi simulate: error: --events 1"), err
    assert "generate more events" in err and not out.exists()


# ------------------------------------------------------------------------------------------- the errors


def test_simulator_errors_are_lfi_errors():
    import simulators
    import simulators.toy as toy
    import simulators.wbf as wbf
    from lfi.cli.simulate import _parse_range
    from simulators.pythia.runner import PythiaSettingsError, run_workers

    with pytest.raises(UnknownNameError, match="available: ggf, toy, ttbar, tth, wbf, zz"):
        simulators.get("moon")
    with pytest.raises(OptionError, match="--events"):
        toy.simulate(0)
    with pytest.raises(OptionError, match="generate_at"):
        toy.simulate(10, generate_at="moon")
    for kwargs in ({"level": "hadron"}, {"workers": 0}, {"theta_range": ((1.0, 1.0), (-1.0, 1.0))}):
        with pytest.raises(OptionError):
            wbf.simulate(10, **kwargs)
    with pytest.raises(OptionError, match="LOW < HIGH"):
        _parse_range("3:1")
    with pytest.raises(OptionError, match="workers"):
        run_workers(abs, [1], workers=0)
    assert issubclass(PythiaSettingsError, OptionError)


def test_cli_option_errors_are_one_line(tmp_path, capsys):
    for argv in (["toy", "--events", "10", "--range", "-1:1"], ["toy", "--events", "10", "--workers", "2"],
                 ["wbf", "--events", "10", "--range", "3:1"]):
        assert main(["simulate", *argv, "--out", str(tmp_path / "x.h5")]) == 1
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and err.startswith("lfi simulate: error: --"), err
