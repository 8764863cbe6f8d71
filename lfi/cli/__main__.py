"""``python -m lfi.cli`` runs the ``lfi`` command."""

import sys

from lfi.cli import main

sys.exit(main())
