"""Refuse URLs holding control characters (NUL and kin) before any route sees them.

No legitimate FHIR id, code or page parameter contains one, and PostgreSQL rejects NUL in text
outright, so such a request would otherwise fail deep inside a query with a 500.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_control_characters(scope: Scope) -> bool:
    """Whether the request's path or (percent-decoded) query string holds a control character."""
    query = unquote(scope.get("query_string", b"").decode("latin-1"))
    return bool(_CONTROL.search(scope.get("path", "")) or _CONTROL.search(query))


class RejectControlCharacters:
    """ASGI middleware answering 400 to a URL with control characters."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and has_control_characters(scope):
            from medai.service.errors import http_error_response

            error = HTTPException(400, "the URL holds control characters (such as %00); remove them")
            await http_error_response(error)(scope, receive, send)
            return
        await self.app(scope, receive, send)
