"""GET /docs: a page to try the model in a browser, served from the package (no CDN).

The page (docs_page.html/.js/.css beside this module) reads /openapi.json, builds a form
from the model's own schema and runs predictions (and trainings) against this server.
A browser that asks for HTML at / is sent here; clients asking for JSON still get JSON.
"""

from __future__ import annotations

import functools
from pathlib import Path

from quart import Response, redirect, request
from quart_trio import QuartTrio

_HERE = Path(__file__).resolve().parent
_FILES = {
    "/docs": ("docs_page.html", "text/html; charset=utf-8"),
    "/docs/docs_page.js": ("docs_page.js", "text/javascript; charset=utf-8"),
    "/docs/docs_page.css": ("docs_page.css", "text/css; charset=utf-8"),
}
# Nothing but this server: no fonts, scripts or images from anywhere else.
_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:; "
    "connect-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'self'"
)


@functools.lru_cache(maxsize=None)  # noqa: UP033 (functools.cache: 3.9+)
def _read(name: str) -> bytes:
    return (_HERE / name).read_bytes()


def wants_html(accept: str) -> bool:
    """A browser's navigation (text/html first), not a client asking for JSON."""
    first = accept.split(",", 1)[0].split(";", 1)[0].strip().lower()
    return first == "text/html"


def register_docs(app: QuartTrio) -> None:
    for path, (name, content_type) in _FILES.items():

        async def serve(name: str = name, content_type: str = content_type) -> Response:
            response = Response(_read(name), content_type=content_type)
            response.headers["Content-Security-Policy"] = _POLICY
            response.headers["Cache-Control"] = "no-cache"
            return response

        app.add_url_rule(path, endpoint=f"docs:{name}", view_func=serve, methods=["GET"])

    @app.before_request
    async def browser_at_root() -> Response | None:
        root = request.path == "/" and request.method == "GET"
        if root and wants_html(request.headers.get("Accept", "")):
            return redirect("/docs", 302)  # type: ignore[return-value]
        return None
