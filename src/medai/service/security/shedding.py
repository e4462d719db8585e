"""Load shedding: a bound on the requests one worker works on at once, and a time limit on each.

Past ``max_in_flight`` requests in progress, a new request is answered ``503`` with ``Retry-After`` at
once (nothing of it has run, so it is safe to retry), instead of waiting in a queue that only grows.
A request that has not started its response after ``timeout_seconds`` is answered ``504`` with
``Retry-After``; its work is cancelled where it can be (a handler already running in a thread finishes
on its own, so a write it had under way may still be committed: clients read before they retry).
Both answers are FHIR OperationOutcomes. Health and metrics are exempt, so monitoring keeps working
under overload. The limit is per worker process: a server with N workers accepts N x ``max_in_flight``.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medai.errors import Problem
from medai.service.errors import outcome_response

EXEMPT_PATHS = frozenset({"/health", "/metrics"})


def overloaded(max_in_flight: int, retry_after_seconds: int):
    """The 503 answer to a request shed because ``max_in_flight`` requests are in progress."""
    message = (f"the service is at its limit of {max_in_flight} requests in progress; "
               f"nothing was done, retry after {retry_after_seconds} s")
    return outcome_response(503, [Problem("request", message, "transient")], {"Retry-After": str(retry_after_seconds)})


def timed_out(timeout_seconds: float, retry_after_seconds: int):
    """The 504 answer to a request that did not start its response within ``timeout_seconds``."""
    message = (f"the request did not complete within {timeout_seconds:g} s and was abandoned; a write it had "
               "under way may still be committed, so read the resource before retrying")
    return outcome_response(504, [Problem("request", message, "timeout")], {"Retry-After": str(retry_after_seconds)})


class LoadShedder:
    """ASGI middleware: at most ``max_in_flight`` requests in progress (0: no bound), each within ``timeout_seconds``.

    A request holds its slot until its work has really ended (also after a 504), so the bound holds for
    the work done, not only for the answers given.
    """

    def __init__(self, app: ASGIApp, max_in_flight: int, timeout_seconds: float | None = None,
                 retry_after_seconds: int = 1, exempt_paths: frozenset[str] = EXEMPT_PATHS) -> None:
        if max_in_flight < 0:
            raise ValueError(f"max_in_flight must be >= 0 (0 means no bound), not {max_in_flight}")
        if timeout_seconds is not None and timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be > 0 or None (no time limit), not {timeout_seconds}")
        self.app = app
        self.max_in_flight = max_in_flight
        self.timeout_seconds = timeout_seconds
        self.retry_after_seconds = retry_after_seconds
        self.exempt_paths = exempt_paths
        self.in_flight = 0  # only touched on the event loop, so no lock is needed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        if self.max_in_flight and self.in_flight >= self.max_in_flight:
            await overloaded(self.max_in_flight, self.retry_after_seconds)(scope, receive, send)
            return
        started = abandoned = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if abandoned:  # the client already has its 504
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        self.in_flight += 1
        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        task.add_done_callback(self._release)
        try:
            done, _ = await asyncio.wait({task}, timeout=self.timeout_seconds)
            if task in done or started:  # finished, or already streaming its answer: let it end
                await task
                return
        except asyncio.CancelledError:  # the server is stopping or the client went away
            task.cancel()
            raise
        abandoned = True
        task.cancel()
        await timed_out(self.timeout_seconds, self.retry_after_seconds)(scope, receive, send)

    def _release(self, task: asyncio.Future) -> None:
        self.in_flight -= 1
        if not task.cancelled():
            task.exception()  # retrieved here, so an abandoned request's failure is not reported as unhandled
