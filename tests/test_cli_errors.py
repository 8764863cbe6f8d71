"""How the command line reports problems: user errors are one line, bugs keep their traceback, Ctrl-C is 130."""

import argparse

import pytest

from lfi import cli
from lfi.errors import EventFileError, Interrupted


def _run_with(monkeypatch, capsys, error: BaseException, argv=("info", "x.h5"), debug: str | None = None):
    def run(args: argparse.Namespace) -> int:
        raise error

    real_build = cli.build_parser

    def build_parser():
        parser = real_build()
        for action in parser._subparsers._group_actions:
            for sub in action.choices.values():
                sub.set_defaults(func=run)
        return parser

    monkeypatch.setattr(cli, "build_parser", build_parser)
    if debug is None:
        monkeypatch.delenv("LFI_DEBUG", raising=False)
    else:
        monkeypatch.setenv("LFI_DEBUG", debug)
    code = cli.main(list(argv))
    return code, capsys.readouterr().err


def test_a_user_error_is_one_line(monkeypatch, capsys):
    code, err = _run_with(monkeypatch, capsys, EventFileError("x.h5: no such file"))
    assert code == 1 and err == "lfi info: error: x.h5: no such file\n"


@pytest.mark.parametrize("error", [ValueError("shape mismatch"), KeyError("weights"), TypeError("bad call")])
def test_a_bug_keeps_its_traceback_and_asks_for_a_report(monkeypatch, capsys, error):
    """A plain ValueError/KeyError/TypeError is not a user error: it used to be squashed into one line."""
    code, err = _run_with(monkeypatch, capsys, error)
    assert code == 1
    assert err.startswith("Traceback") and type(error).__name__ in err
    assert err.strip().splitlines()[-1].startswith("lfi info: internal error: this is a bug in lfi")


@pytest.mark.parametrize("switch", ["env", "-v"])
def test_debug_shows_the_traceback_of_user_errors(monkeypatch, capsys, switch):
    argv = ("-v", "info", "x.h5") if switch == "-v" else ("info", "x.h5")
    code, err = _run_with(monkeypatch, capsys, EventFileError("x.h5: no such file"), argv=argv,
                          debug="1" if switch == "env" else None)
    assert code == 1 and "Traceback" in err and err.strip().endswith("lfi info: error: x.h5: no such file")


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch, capsys):
    code, err = _run_with(monkeypatch, capsys, KeyboardInterrupt())
    assert code == 130 and err == "lfi info: interrupted; no output written\n"
    code, err = _run_with(monkeypatch, capsys, Interrupted("interrupted in epoch 3; rerun with --resume"))
    assert code == 130 and err == "lfi info: interrupted in epoch 3; rerun with --resume\n"
