"""Every error leaves the service as a FHIR OperationOutcome with the right 4xx status."""

from __future__ import annotations

import json

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from medai.core.fhir import operation_outcome
from medai.errors import InvalidInput, NotFound, Problem

FHIR_JSON = "application/fhir+json"
_ISSUE_CODE = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported", 413: "too-costly",
               415: "not-supported", 422: "processing", 429: "throttled", 500: "exception", 503: "transient"}


def outcome_response(status_code: int, problems: list[Problem], headers: dict | None = None) -> JSONResponse:
    """A JSON response holding an OperationOutcome."""
    return JSONResponse(operation_outcome(problems), status_code=status_code, media_type=FHIR_JSON, headers=headers)


def http_error_response(error: StarletteHTTPException) -> JSONResponse:
    """An HTTP error as an OperationOutcome response (its headers, e.g. Retry-After, kept)."""
    code = _ISSUE_CODE.get(error.status_code, "exception")
    return outcome_response(error.status_code, [Problem("request", str(error.detail), code)], getattr(error, "headers", None))


async def read_json_body(request: Request) -> object:
    """The request body as JSON: 415 for a wrong content type, 413 when too large, 400 when malformed."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/json", FHIR_JSON):
        raise HTTPException(415, f"content type {content_type or '(none)'!r} is not supported; send {FHIR_JSON}")
    limit = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"payload of {declared} bytes exceeds the limit of {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise HTTPException(413, f"payload exceeds the limit of {limit} bytes")
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise HTTPException(400, f"malformed JSON: {error}") from None
    except RecursionError:
        raise HTTPException(400, "malformed JSON: nested too deeply") from None


def install_error_handlers(app: FastAPI) -> None:
    """Map medai and HTTP errors to OperationOutcome responses."""

    @app.exception_handler(InvalidInput)
    async def _invalid(_: Request, error: InvalidInput) -> JSONResponse:
        return outcome_response(422, error.problems)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, error: NotFound) -> JSONResponse:
        return outcome_response(404, [Problem(error.what, str(error), "not-found")])

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return http_error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [Problem(".".join(str(p) for p in e["loc"]), e["msg"], "invalid") for e in error.errors()[:20]]
        return outcome_response(422, problems)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        # The traceback goes to the server log; the client learns nothing about the internals.
        return outcome_response(500, [Problem("request", "internal error; the request was not completed", "exception")])
