"""The `lfi` command line: simulate, info, help, every command built, errors."""

import json
import subprocess
import sys

import pytest

from lfi.cli import main

DESIGN_COMMANDS = ("simulate", "import", "export", "train", "limits", "classify", "report", "run", "demo", "info")


def test_simulate_then_info(tmp_path, capsys):
    out = tmp_path / "toy.h5"
    assert main(["simulate", "toy", "--events", "2000", "--out", str(out), "--seed", "2"]) == 0
    assert out.is_file() and [p.name for p in tmp_path.iterdir()] == ["toy.h5"]
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2,000" in text and "theta_0" in text
    for name in ("sm", "morph_1", "morph_6"):
        assert any(line.startswith(name) and "σ" not in line for line in text.splitlines())
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert set(info["cross_section_pb"]) == {"sm"} | {f"morph_{i}" for i in range(1, 7)}
    assert all(v > 0 for v in info["cross_section_pb"].values())


def test_help_lists_every_command():
    text = subprocess.run([sys.executable, "-m", "lfi.cli", "--help"], capture_output=True, text=True, check=True).stdout
    for command in DESIGN_COMMANDS:
        assert command in text


def test_every_design_command_is_built():
    from lfi.cli import build_parser

    choices = build_parser()._subparsers._group_actions[0].choices
    for command in DESIGN_COMMANDS:
        assert command in choices and "not built" not in choices[command].format_help()
    assert "not built" not in build_parser().format_help()


def test_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"nonsense")
    assert main(["info", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(bad) in err and err.startswith("lfi info: error:")
    assert main(["simulate", "toy", "--events", "0", "--out", str(tmp_path / "x.h5")]) == 1
    assert "--events" in capsys.readouterr().err
    assert not (tmp_path / "x.h5").exists()


def test_console_script_is_installed():
    result = subprocess.run(["lfi", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "simulate" in result.stdout


def test_unknown_simulator_option_is_refused(tmp_path, capsys):
    assert main(["simulate", "toy", "--events", "10", "--out", str(tmp_path / "t.h5"), "--level", "parton"]) == 1
    assert "not an option of the toy simulator" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["simulate"], ["simulate", "moon", "--events", "1", "--out", "x"]])
def test_argument_errors_exit_with_usage(argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_ci_runs_exactly_the_readme_test_command():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    test_block = readme.split("**Run the tests**")[1].split("```bash")[1].split("```")[0].strip()
    assert test_block in (root / ".ci" / "run").read_text().splitlines()


def test_values_with_a_leading_minus_are_accepted():
    from lfi.cli import _join_signed_values
    from lfi.cli.simulate import _parse_range

    assert _join_signed_values(["limits", "--grid", "-1:1:5,-1:1:5", "--lumi", "3"]) == [
        "limits", "--grid=-1:1:5,-1:1:5", "--lumi", "3"]
    assert _parse_range("-16.5:16.5") == ((-16.5, 16.5), (-16.5, 16.5))
    assert _parse_range("-1:2,-3:4") == ((-1.0, 2.0), (-3.0, 4.0))
    with pytest.raises(ValueError, match="LOW < HIGH"):
        _parse_range("3:1")
