"""Collection for the whole repository: the console's modules and tests need the optional extra `console`.

Without it (pip install -e '.[console]') they are left out, unless BITSEG_REQUIRE_BROWSER says they must run (CI),
where a missing extra is then an import error, not a silent skip.
"""

from __future__ import annotations

import os
from importlib.util import find_spec

collect_ignore = ([] if find_spec("starlette") or os.environ.get("BITSEG_REQUIRE_BROWSER")
                  else ["src/bitseg/console", "tests/console"])
