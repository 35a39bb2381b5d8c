"""The console (SPEC §12): a small web application over `bitseg.Client` for people who look rather than read.

It talks to a running server only through the client, so it works against any server the client reaches (a
sharded one too). Starlette routes with server-rendered Jinja2 pages and a little plain JavaScript; the charts are
uPlot (MIT), vendored under `static/uplot/` so nothing is fetched at run time. The client's calls block, so every
endpoint is a plain function: Starlette runs those in its thread pool.

    app.py        the application: routes, the errors as pages (503 when the server cannot be reached) or JSON
    pages.py      the pages: indexes, editor, segments, one segment
    api.py        what the pages' JavaScript asks: count, criteria, members, CSV download, save, breakdown
    run.py        uvicorn in the foreground (`bitseg console`) or in a thread (tests)

Needs the optional extra `console` (`pip install 'bitseg[console]'`).
"""

from __future__ import annotations

from bitseg.console.app import create_app
from bitseg.console.run import Running, run, start

__all__ = ["Running", "create_app", "run", "start"]
