"""One Pythia 8 runner for every process: settings, seeds, silenced output and an optional worker pool.

Pythia (``pythia8mc``) and fastjet write their banners and messages from C++ to file descriptor 1, which
Python's ``redirect_stdout`` does not catch (docs/generator.md §2); :func:`silenced` redirects the descriptor itself.
``pythia8mc`` is imported lazily so that importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, Iterator, Sequence

from lfi.errors import OptionError

__all__ = [
    "silenced", "make_pythia", "run_workers", "chunk_seeds", "chunk_sizes", "progress_bar", "PythiaSettingsError",
    "WorkerError", "MAX_SEED",
]

MAX_SEED = 900_000_000
"""Pythia accepts ``Random:seed`` in 0..900 000 000."""


class PythiaSettingsError(OptionError):
    """A Pythia setting was rejected or Pythia failed to initialise (an :class:`lfi.errors.OptionError`, so
    also a ``ValueError``)."""


class WorkerError(RuntimeError):
    """A generation worker process failed; the message names the worker and its error."""


@contextlib.contextmanager
def silenced(enabled: bool = True) -> Iterator[None]:
    """Redirect the process-level standard output (file descriptor 1) to /dev/null while active.

    Parameters
    ----------
    enabled : bool
        If False, do nothing (for ``--verbose`` runs).
    """
    if not enabled:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        try:
            sys.stdout.flush()
        except (OSError, ValueError):  # pragma: no cover
            pass
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def make_pythia(settings: Sequence[str], seed: int, verbose: bool = False):
    """Construct and initialise a Pythia instance.

    Parameters
    ----------
    settings : sequence of str
        Pythia ``readString`` lines, e.g. ``"HiggsSM:ff2Hff(t:WW) = on"``.
    seed : int
        ``Random:seed`` (0 ≤ seed ≤ 900 000 000); the same seed reproduces the same events.
    verbose : bool
        Keep Pythia's own output (banner, init listing, statistics).

    Returns
    -------
    pythia8mc.Pythia
        Initialised instance.

    Raises
    ------
    PythiaSettingsError
        A setting is not understood or ``init()`` fails.
    """
    if not 0 <= int(seed) <= MAX_SEED:
        raise PythiaSettingsError(f"Pythia seed must lie in 0..{MAX_SEED}, got {seed}")
    data = os.environ.get("PYTHIA8DATA")
    if data is not None and not os.path.isdir(data):
        del os.environ["PYTHIA8DATA"]  # a wrong value aborts construction (docs/generator.md §1)
    with silenced(not verbose):
        import pythia8mc

        pythia = pythia8mc.Pythia("", verbose)
        lines = list(settings) + ["Random:setSeed = on", f"Random:seed = {int(seed)}"]
        if not verbose:
            lines += ["Print:quiet = on", "Next:numberCount = 0"]
        for line in lines:
            if not pythia.readString(line):
                raise PythiaSettingsError(f"Pythia rejected the setting {line!r}")
        if not pythia.init():
            raise PythiaSettingsError("Pythia failed to initialise (run with verbose=True to see its messages)")
    return pythia


def chunk_seeds(seed: int, n_chunks: int) -> list[int]:
    """Independent Pythia seeds (1..MAX_SEED) for ``n_chunks`` chunks, derived from one master ``seed``: the same
    seed gives the same chunks whatever the number of workers."""
    import numpy as np

    states = np.random.SeedSequence(int(seed)).generate_state(n_chunks, dtype=np.uint64)
    return [int(s % MAX_SEED) + 1 for s in states]


def chunk_sizes(n_events: int, chunk: int) -> list[int]:
    """``n_events`` split into chunks of ``chunk`` events (the last one smaller)."""
    n_events = int(n_events)
    return [chunk] * (n_events // chunk) + ([n_events % chunk] if n_events % chunk else [])


def progress_bar(enabled: bool | None, total: int, sizes: Sequence[int], label: str):
    """A tqdm bar over ``total`` events (on stderr; ``enabled=None``: when stderr is a terminal) and the callback
    that :func:`run_workers` calls with the index of each finished chunk; ``(None, None)`` when disabled."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None, None
    from tqdm.auto import tqdm

    bar = tqdm(total=int(total), unit="ev", desc=label, leave=False)
    return bar, (lambda i: bar.update(sizes[i]))


def run_workers(
    function: Callable[[Any], Any],
    tasks: Sequence[Any],
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> list[Any]:
    """Run ``function(task)`` for every task, in this process or in a pool of spawned processes.

    Each worker process builds its own Pythia (one instance per process; ``spawn`` so that no C++ state is
    forked). Results come back in task order.

    Workers ignore SIGINT, so that Ctrl-C (which the terminal sends to the whole process group) reaches only
    this process: a ``KeyboardInterrupt`` here, or any other exception, terminates every worker at once
    (SIGTERM, then SIGKILL after :data:`STOP_GRACE` seconds) and is re-raised; the partial results are lost.
    With ``workers=1`` the tasks run here and Ctrl-C takes effect when Pythia returns from its current batch.

    Parameters
    ----------
    function : callable
        A module-level (picklable) function of one task.
    tasks : sequence
    workers : int
        Number of processes; 1 runs everything here.
    progress : callable, optional
        Called with the index of each finished task (e.g. to advance a progress bar).

    Raises
    ------
    WorkerError
        A task raised in a worker or a worker process died; the partial results are discarded.
    """
    if workers < 1:
        raise OptionError(f"workers must be ≥ 1, got {workers}")
    if workers == 1 or len(tasks) <= 1:
        results = []
        for i, task in enumerate(tasks):
            results.append(function(task))
            if progress is not None:
                progress(i)
        return results
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")
    results: list[Any] = [None] * len(tasks)
    pool = ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context,
                               initializer=_init_worker, initargs=(os.getpid(),))
    try:
        # The pool starts its processes while tasks are submitted. SIGINT stays blocked meanwhile so that the
        # workers inherit a blocked SIGINT until their initializer ignores it: a Ctrl-C while they import
        # would otherwise print a traceback from each one. A Ctrl-C in this window is delivered right after.
        with _sigint_blocked():
            futures = {pool.submit(function, task): i for i, task in enumerate(tasks)}
        for future in as_completed(futures):
            i = futures[future]
            try:
                results[i] = future.result()
            except Exception as err:  # noqa: BLE001 - re-raised with context
                raise WorkerError(f"generation task {i} failed: {type(err).__name__}: {err}") from err
            if progress is not None:
                progress(i)
        pool.shutdown(wait=True)
    except BaseException:
        _stop_pool(pool)
        raise
    return results


STOP_GRACE = 1.0
"""Seconds a worker gets to exit after SIGTERM before it is killed (SIGKILL)."""


def _init_worker(parent: int) -> None:
    """Worker initializer: ignore Ctrl-C (the parent stops the workers itself) and, on Linux, die with the
    parent: after ``kill -9`` of the parent a worker would otherwise finish its chunk and then wait forever."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no libc prctl
            pass
    if os.getppid() != parent:  # the parent died before prctl
        os._exit(1)


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _stop_pool(pool) -> None:
    """Cancel what has not started and end every worker process now (the pool's own shutdown would wait for
    the running tasks, minutes of Pythia)."""
    if threading.current_thread() is threading.main_thread():  # a second Ctrl-C must not leave workers running
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            _end_processes(pool)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
    else:
        _end_processes(pool)


def _end_processes(pool) -> None:
    from multiprocessing.connection import wait

    processes = list((getattr(pool, "_processes", None) or {}).values())  # private, but shutdown() forgets it
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE
    pending = {p.sentinel: p for p in processes if p.exitcode is None}
    while pending and time.monotonic() < deadline:
        for sentinel in wait(list(pending), timeout=max(deadline - time.monotonic(), 0.0)):
            pending.pop(sentinel, None)
    for process in pending.values():
        with contextlib.suppress(Exception):
            process.kill()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=STOP_GRACE)
