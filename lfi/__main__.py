"""``python -m lfi`` (and ``torchrun … -m lfi train …``) runs the ``lfi`` command."""

import sys

from lfi.cli import main

if __name__ == "__main__":
    sys.exit(main())
