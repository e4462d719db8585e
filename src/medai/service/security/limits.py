"""Request body-size limits enforced for every route, before any handler reads the body.

A declared ``Content-Length`` over the limit is answered 413 at once; a body that streams past
the limit (chunked, or lying about its length) stops with 413 as soon as it crosses it. Multipart
uploads may have their own, larger limit (``max_upload_bytes``).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medai.config import Settings


def upload_limit(settings: Settings) -> int:
    """The largest ``multipart/form-data`` body accepted, in bytes."""
    return settings.max_upload_bytes or settings.max_body_bytes


def body_limit(settings: Settings, content_type: str) -> int:
    """The largest body accepted for a request of this content type."""
    if content_type.split(";")[0].strip().lower() == "multipart/form-data":
        return max(upload_limit(settings), settings.max_body_bytes)
    return settings.max_body_bytes


def too_large(limit: int, declared: int | None = None) -> HTTPException:
    """The 413 error, naming the size and the limit."""
    size = f"of {declared} bytes " if declared is not None else ""
    return HTTPException(413, f"request body {size}exceeds the limit of {limit} bytes")


class BodySizeLimit:
    """ASGI middleware refusing request bodies over the configured limit with 413."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        limit = body_limit(self.settings, headers.get("content-type", ""))
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            from medai.service.errors import http_error_response

            await http_error_response(too_large(limit, int(declared)))(scope, receive, send)
            return
        received, exceeded, answered = 0, False, False

        async def limited() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise too_large(limit)
            return message

        async def answer(message: Message) -> None:
            # Once the body overflowed, whatever the app makes of the error (frameworks may turn it into a
            # generic 400) is replaced by the 413.
            nonlocal answered
            if not exceeded:
                await send(message)
            elif not answered:
                answered = True
                await _send_too_large(scope, receive, send, limit)

        try:
            await self.app(scope, limited, answer)
        except HTTPException:
            if not exceeded:
                raise
            if not answered:
                answered = True
                await _send_too_large(scope, receive, send, limit)


async def _send_too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    from medai.service.errors import http_error_response

    await http_error_response(too_large(limit))(scope, receive, send)
