"""`lfi train --help` lists every estimator with the --option keys it takes, in the form the options parse back."""

import subprocess
import sys

from estimators.encoders import parse_options
from lfi.cli import main


def test_train_help_lists_every_estimator_and_its_options(capsys):
    assert _help(capsys) == 0
    text = capsys.readouterr().out
    listing = {line.split(":", 1)[0].strip(): line.split(":", 1)[1] for line in text.splitlines()
               if line.startswith("  ") and ":" in line and "=" in line.split(":", 1)[1]}
    for name in ("bdt", "mlp", "part", "particlenet", "iaformer", "mixer", "sett", "cnn1d"):
        assert name in listing, name
    assert "num_leaves=31" in listing["bdt"] and "interaction=none" in listing["part"]
    # the defaults as printed parse back to the defaults
    for name in ("part", "particlenet", "mlp"):
        printed = dict(item.strip().split("=", 1) for item in listing[name].split(", ") if "=" in item)
        parse_options(name, printed)


def _help(capsys) -> int:
    try:
        main(["train", "--help"])
    except SystemExit as done:
        return done.code
    return -1


def test_the_help_of_lfi_itself_loads_no_torch():
    code = "import sys; from lfi.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"
