"""The shared Pythia runner: silenced fd-1 output, settings errors, seeds, worker pool failures."""

from __future__ import annotations

import os

import pytest

from simulators.pythia.runner import PythiaSettingsError, WorkerError, make_pythia, run_workers, silenced


def test_silenced_swallows_c_level_output(capfd):
    with silenced():
        os.write(1, b"banner from C++\n")
    os.write(1, b"visible\n")
    out, _ = capfd.readouterr()
    assert out == "visible\n"


def test_rejected_setting_and_bad_seed_raise():
    with pytest.raises(PythiaSettingsError, match="Nonsense:flag"):
        make_pythia(["Nonsense:flag = on"], seed=1)
    with pytest.raises(PythiaSettingsError, match="seed"):
        make_pythia([], seed=-3)


def _square(x: int) -> int:
    return x * x


def _crash(x: int) -> int:
    if x == 2:
        os._exit(3)  # a worker process dying (e.g. a segfault in C++)
    return x


def _raise(x: int) -> int:
    if x == 1:
        raise ValueError("bad chunk")
    return x


def test_worker_pool_keeps_order_and_reports_failures():
    done = []
    assert run_workers(_square, [1, 2, 3], workers=2, progress=done.append) == [1, 4, 9]
    assert sorted(done) == [0, 1, 2]
    with pytest.raises(WorkerError, match="bad chunk"):
        run_workers(_raise, [0, 1, 2], workers=2)
    with pytest.raises(WorkerError):
        run_workers(_crash, [0, 1, 2, 3], workers=2)
    with pytest.raises(ValueError, match="workers"):
        run_workers(_square, [1], workers=0)
