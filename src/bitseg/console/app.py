"""The console's application: its routes, its templates, and each bitseg error as a page or as JSON.

An error a page meets becomes a page that says what happened (503 when the server cannot be reached, 404 for an
unknown index or segment); an error the JavaScript meets becomes `{"error": {...}}` with the query's position
when there is one. Neither ever shows a traceback or the token.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bitseg.console import api, pages
from bitseg.errors import (
    AlreadyExistsError,
    AuthenticationError,
    BitsegError,
    DeadlineExceededError,
    InvalidInputError,
    NotFoundError,
    OverloadedError,
    QueryError,
    UnavailableError,
)

if TYPE_CHECKING:
    from bitseg.client import Client

HERE = Path(__file__).resolve().parent
# The status a page or an answer gets for each error; anything else the server said is a bad gateway (502).
STATUS: tuple[tuple[type[BitsegError], int], ...] = (
    (QueryError, 400), (InvalidInputError, 400), (NotFoundError, 404), (AlreadyExistsError, 409),
    (UnavailableError, 503), (AuthenticationError, 503), (OverloadedError, 503), (DeadlineExceededError, 503),
)
# What a person is told when the server cannot answer at all (the server's own words follow).
REASONS = {
    UnavailableError: "The bitseg server cannot be reached.",
    AuthenticationError: "The bitseg server refused the console's token.",
    OverloadedError: "The bitseg server is busy.",
    DeadlineExceededError: "The bitseg server did not answer in time.",
}


def status_of(err: BitsegError) -> int:
    return next((status for kind, status in STATUS if isinstance(err, kind)), 502)


def error_dict(err: BitsegError) -> dict[str, Any]:
    """An error as the JavaScript reads it: code, message, and for a query error where it is."""
    found: dict[str, Any] = {"code": getattr(err, "code", type(err).__name__), "message": str(err)}
    if isinstance(err, QueryError):
        found.update(message=err.message, text=str(err), offset=err.offset, line=err.line, column=err.column)
    return found


def create_app(client: Client, *, index: str | None = None, title: str = "bitseg console",
               allowed_hosts: Sequence[str] = ("*",)) -> Starlette:
    """The console over `client`; `index` is the one `/` opens (default: the only one, else a list).

    `allowed_hosts`: the names a request's Host header may carry (run.py allows only the loopback names when the
    console listens on a loopback address: a page elsewhere cannot reach it through a name it controls).
    """
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["number"] = lambda value: "" if value is None else f"{value:,}"

    def failed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BitsegError)
        status = status_of(exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": error_dict(exc)}, status_code=status)
        reason = next((text for kind, text in REASONS.items() if isinstance(exc, kind)), None)
        return templates.TemplateResponse(request, "failed.html", {
            "status": status, "reason": reason, "message": str(exc), "server": client.address}, status_code=status)

    routes = [
        Route("/", pages.home),
        Route("/i/{index}/", pages.editor),
        Route("/i/{index}/segments", pages.segments),
        Route("/i/{index}/segments/{name}", pages.segment),
        Route("/api/i/{index}/count", api.count),
        Route("/api/i/{index}/criteria", api.criteria),
        Route("/api/i/{index}/members", api.members),
        Route("/api/i/{index}/members.csv", api.members_csv),
        Route("/api/i/{index}/segments", api.save, methods=["POST"]),
        Route("/api/i/{index}/breakdown", api.breakdown),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={BitsegError: failed},
                    middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))])
    app.state.client = client
    app.state.templates = templates
    app.state.index = index
    app.state.title = title
    return app
