"""The ``lfi`` command line: a thin layer over the public functions.

Each command lives in its own module under ``lfi.cli`` and provides ``add_commands(subparsers)``,
which registers its sub-parser(s) with ``set_defaults(func=run)``; ``run(args) -> int`` returns the
exit code. Modules are imported only when the parser is built, so ``import lfi`` stays light.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback

from lfi.errors import Interrupted, LfiError

__all__ = ["main", "build_parser"]

# Command modules, in the order of an analysis; each adds its sub-commands to the parser.
_COMMAND_MODULES = (
    "lfi.cli.simulate",
    "lfi.cli.info",
    "lfi.cli.transfer",
    "lfi.cli.merge",
    "lfi.cli.select",
    "lfi.cli.train",
    "lfi.cli.nuisance",
    "lfi.cli.sample",
    "lfi.cli.pseudodata",
    "lfi.cli.limits",
    "lfi.cli.fisher",
    "lfi.cli.coverage",
    "lfi.cli.classify",
    "lfi.cli.assign",
    "lfi.cli.report",
    "lfi.cli.run",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lfi",
        description="Likelihood-free inference at the LHC: simulate weighted events, train estimators, "
        "compute expected limits on EFT coefficients.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging information")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:  # a real missing dependency inside the module: do not hide it
                raise
            continue
        module.add_commands(subparsers)
    return parser


# Options whose values may start with a minus sign ("--grid -16.5:16.5:101,..."); argparse would take such a
# value for an option, so "--grid VALUE" is rewritten to "--grid=VALUE" before parsing.
_SIGNED_VALUE_OPTIONS = ("--grid", "--true", "--range", "--at")


def _join_signed_values(argv: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in _SIGNED_VALUE_OPTIONS and i + 1 < len(argv):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def _debug(args: argparse.Namespace | None) -> bool:
    return os.environ.get("LFI_DEBUG", "") not in ("", "0") or bool(getattr(args, "verbose", False))


def main(argv: list[str] | None = None) -> int:
    """Run one ``lfi`` command; returns the exit code.

    An :class:`lfi.errors.LfiError` (bad input a user can fix) prints one line and returns 1; Ctrl-C prints
    one line and returns 130; any other exception is a bug: its traceback is printed with a request to report
    it. ``-v`` or ``LFI_DEBUG=1`` prints tracebacks for every error.
    """
    try:
        parser = build_parser()  # imports every command module: Ctrl-C may come here too
    except KeyboardInterrupt:
        print("lfi: interrupted; no output written", file=sys.stderr)
        return 130
    args = parser.parse_args(_join_signed_values(list(sys.argv[1:] if argv is None else argv)))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    prefix = f"lfi {args.command}"
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        if _debug(args):
            traceback.print_exc()
        print(f"{prefix}: interrupted; no output written", file=sys.stderr)
        return 130
    except Interrupted as err:
        if _debug(args):
            traceback.print_exc()
        print(f"{prefix}: {err}", file=sys.stderr)
        return 130
    except LfiError as err:
        if _debug(args):
            traceback.print_exc()
        print(f"{prefix}: error: {err}", file=sys.stderr)
        return 1
    except Exception:  # noqa: BLE001 - a bug: show everything
        traceback.print_exc()
        print(f"{prefix}: internal error: this is a bug in lfi, not in your input; please report it with the "
              "command line and the traceback above", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
