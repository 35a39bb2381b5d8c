"""`python -m bitseg.cli`: the `bitseg` command."""

from __future__ import annotations

import sys

from bitseg.cli import main

if __name__ == "__main__":
    sys.exit(main())
