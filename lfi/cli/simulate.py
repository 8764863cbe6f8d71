"""``lfi simulate wbf|toy --events N --out FILE``: run an embedded simulator and write an event file.

FILE appears complete or not at all (``lfi.files.atomic_write``). Ctrl-C stops the simulation and its worker
processes and leaves nothing. ``kill -9`` can leave only temporaries next to FILE, ``.STEM.XXXXXXXX.tmp.h5`` and
``..STEM.XXXXXXXX.tmp.YYYYYYYY.tmp.h5``, never a file under its name; the next ``lfi simulate`` to the same FILE
removes them once they are a minute old (:func:`_remove_stale_temporaries`).
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import logging
import signal
import stat
import sys
import threading
import time
import types
from pathlib import Path
from typing import Iterator

__all__ = ["add_commands"]

log = logging.getLogger("lfi")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    import simulators

    p = subparsers.add_parser("simulate", help="simulate weighted events with an embedded simulator")
    p.add_argument("simulator", choices=simulators.available(), help="which simulator")
    p.add_argument("--events", type=int, required=True, metavar="N", help="number of events")
    p.add_argument("--out", required=True, metavar="FILE", help="output event file (.h5)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--level", choices=["parton", "detector"], default=None, help="wbf: simulation level")
    p.add_argument("--process", default=None, help="wbf: process name from the registry")
    p.add_argument("--workers", type=int, default=None, help="wbf: parallel generator processes")
    p.add_argument("--range", default=None, metavar="LOW:HIGH[,LOW:HIGH]",
                   help="wbf: parameter box for the morphing basis, e.g. -16.5:16.5 (TeV^-2, both parameters)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import simulators
    from lfi.cli.info import print_info
    from lfi.errors import Interrupted, OptionError

    started = time.time()
    module = simulators.get(args.simulator)
    accepted = inspect.signature(module.simulate).parameters
    options = {k: getattr(args, k) for k in ("level", "process", "workers") if getattr(args, k) is not None}
    if args.range is not None:
        options["theta_range"] = _parse_range(args.range)
    unknown = [k for k in options if k not in accepted]
    if unknown:
        flag = "range" if unknown[0] == "theta_range" else unknown[0]
        raise OptionError(f"--{flag} is not an option of the {args.simulator} simulator")
    start = time.perf_counter()
    with _ctrl_c_remembered() as ctrl_c:
        sample = module.simulate(args.events, seed=args.seed, **options)
        if ctrl_c.pressed:  # a Ctrl-C that Python dropped (see _ctrl_c_remembered): nothing written yet
            raise KeyboardInterrupt
        _remove_stale_temporaries(args.out, started)
        path = _save(sample, Path(args.out), ctrl_c)
        try:
            log.info("wrote %d events to %s in %.1f s", len(sample), path, time.perf_counter() - start)
            print_info(path)
        except KeyboardInterrupt:
            raise Interrupted(f"interrupted; {path} was written completely") from None
    return 0


def _save(sample, out: Path, ctrl_c: types.SimpleNamespace) -> Path:
    """``sample.save(out)``, but renamed onto ``out`` only if no Ctrl-C came while writing, dropped ones included
    (the sample is written atomically to a temporary, which is itself renamed onto ``out`` at the end)."""
    from lfi.errors import EventFileError
    from lfi.files import atomic_write

    tmp = None
    try:
        with atomic_write(out) as tmp:
            sample.save(tmp)
            if ctrl_c.pressed:
                raise KeyboardInterrupt
    except EventFileError as err:  # name the output, not the temporary
        raise EventFileError(str(err).replace(str(tmp), str(out))) from err
    except OSError as err:  # no permission, no space left, a folder in the way
        raise EventFileError(f"{out}: cannot write the event file ({err.strerror or err})") from err
    return out


@contextlib.contextmanager
def _ctrl_c_remembered() -> Iterator[types.SimpleNamespace]:
    """Ctrl-C raises ``KeyboardInterrupt`` as usual and is also remembered in ``.pressed``.

    Python drops a ``KeyboardInterrupt`` raised while a ``__del__`` or weakref callback runs (h5py runs many
    while it writes a file) and prints "Exception ignored in ..." with a traceback instead; the run would then
    go on and write its output. Here such a dropped interrupt prints nothing and is seen afterwards.
    """
    state = types.SimpleNamespace(pressed=False)
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield state  # Ctrl-C ignored (a background job) or handled by someone else: leave it alone
        return

    def on_ctrl_c(signum, frame):
        state.pressed = True
        raise KeyboardInterrupt

    previous_hook = sys.unraisablehook

    def unraisable(info):
        if not (isinstance(info.exc_type, type) and issubclass(info.exc_type, KeyboardInterrupt)):
            previous_hook(info)

    signal.signal(signal.SIGINT, on_ctrl_c)
    sys.unraisablehook = unraisable
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.unraisablehook = previous_hook


STALE_AFTER_S = 60.0
"""A temporary of the output older than this (and than the running command) is left by a killed run."""


def _remove_stale_temporaries(out: str, started: float) -> None:
    """Remove the temporaries that a killed ``lfi simulate`` left next to ``out``.

    ``lfi.files.atomic_write`` removes its temporary on any error and on Ctrl-C, but not after SIGKILL (or a
    crash of the machine). :func:`run` writes ``.NAME.XXXXXXXX.tmp.h5`` (empty until complete) through the
    sample's own ``..NAME.XXXXXXXX.tmp.YYYYYYYY.tmp.h5``. A temporary of the same output counts as stale when it
    was last written before this command started and more than :data:`STALE_AFTER_S` ago: a run still writing
    it would have touched it since.
    """
    import re

    target = Path(out)
    rand = "[a-z0-9_]{8}"  # the random part of a temporary name
    pattern = re.compile(rf"\.\.?{re.escape(target.stem)}\.{rand}\.tmp(\.{rand}\.tmp)?{re.escape(target.suffix)}")
    limit = min(started, time.time() - STALE_AFTER_S)
    try:
        entries = list(target.parent.iterdir()) if target.parent.is_dir() else []
    except OSError:
        return
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            info = entry.lstat()
            if stat.S_ISREG(info.st_mode) and info.st_mtime < limit:
                entry.unlink()
                log.info("removed %s, left by an interrupted run", entry)
        except OSError:
            pass


def _parse_range(text: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """"-16.5:16.5" (both parameters) or "-10:10,-20:20" → ((low_0, high_0), (low_1, high_1))."""
    from lfi.errors import OptionError

    try:
        pairs = [tuple(float(v) for v in part.split(":")) for part in text.split(",")]
        if len(pairs) == 1:
            pairs = pairs * 2
        if len(pairs) != 2 or any(len(p) != 2 or p[0] >= p[1] for p in pairs):
            raise ValueError
    except ValueError:
        raise OptionError(f"--range {text!r}: expected LOW:HIGH or LOW:HIGH,LOW:HIGH with LOW < HIGH") from None
    return pairs[0], pairs[1]
