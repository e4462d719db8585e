"""Load shedding: past the in-flight bound requests get 503 + Retry-After at once, slow ones 504; health stays up."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from fastapi import FastAPI

from medai.service.app import create_app
from medai.service.security.shedding import LoadShedder


def _slow_app(gate: asyncio.Event | None = None, thread_gate: threading.Event | None = None) -> FastAPI:
    """An app whose /slow waits for ``gate`` (on the loop) and /blocking for ``thread_gate`` (in a worker thread)."""
    app = FastAPI()

    @app.get("/slow")
    async def slow() -> dict:
        await gate.wait()
        return {"done": True}

    @app.get("/blocking")
    def blocking() -> dict:
        thread_gate.wait(5)
        return {"done": True}

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    return app


async def _until(condition, seconds: float = 2.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def _diagnostics(response: httpx.Response) -> str:
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    return outcome["issue"][0]["diagnostics"]


def test_excess_requests_are_shed_with_retry_after_and_health_stays_up():
    async def scenario():
        gate = asyncio.Event()
        shedder = LoadShedder(_slow_app(gate), max_in_flight=2, retry_after_seconds=3)
        async with _client(shedder) as client:
            held = [asyncio.create_task(client.get("/slow")) for _ in range(2)]
            await _until(lambda: shedder.in_flight == 2)
            excess = await client.get("/slow")
            health = await client.get("/health")
            gate.set()
            answered = await asyncio.gather(*held)
        return shedder, excess, health, answered

    shedder, excess, health, answered = asyncio.run(scenario())
    assert excess.status_code == 503 and excess.headers["Retry-After"] == "3"
    assert "limit of 2 requests in progress" in _diagnostics(excess)
    assert health.status_code == 200
    assert [r.status_code for r in answered] == [200, 200]
    assert shedder.in_flight == 0


def test_request_past_the_timeout_gets_504_and_frees_its_slot():
    async def scenario():
        shedder = LoadShedder(_slow_app(asyncio.Event()), max_in_flight=4, timeout_seconds=0.1)
        async with _client(shedder) as client:
            response = await client.get("/slow")  # its gate never opens
        return shedder, response

    shedder, response = asyncio.run(scenario())
    assert response.status_code == 504 and response.headers["Retry-After"] == "1"
    assert "did not complete within 0.1 s" in _diagnostics(response)
    assert shedder.in_flight == 0


def test_a_thread_past_the_timeout_is_answered_at_once_but_keeps_its_slot_until_it_ends():
    async def scenario():
        thread_gate = threading.Event()
        shedder = LoadShedder(_slow_app(thread_gate=thread_gate), max_in_flight=1, timeout_seconds=0.1)
        async with _client(shedder) as client:
            timed_out = await client.get("/blocking")
            still_working = shedder.in_flight
            refused = await client.get("/blocking")  # the bound counts work, not answers
            thread_gate.set()
            await _until(lambda: shedder.in_flight == 0)
            after = await client.get("/blocking")
        return timed_out, still_working, refused, after

    timed_out, still_working, refused, after = asyncio.run(scenario())
    assert timed_out.status_code == 504 and still_working == 1
    assert refused.status_code == 503
    assert after.status_code == 200


def test_invalid_bounds_are_refused():
    with pytest.raises(ValueError, match="max_in_flight"):
        LoadShedder(FastAPI(), max_in_flight=-1)
    with pytest.raises(ValueError, match="timeout_seconds"):
        LoadShedder(FastAPI(), max_in_flight=1, timeout_seconds=0)


def test_the_service_sheds_with_its_settings(settings):
    """The real app: its configured bound applies, the 503 is a FHIR OperationOutcome, /health is exempt."""
    app = create_app(settings.model_copy(update={"max_in_flight": 1, "overload_retry_after_seconds": 2}))
    gate = asyncio.Event()

    @app.get("/test-slow")
    async def slow() -> dict:
        await gate.wait()
        return {}

    async def scenario():
        async with _client(app) as client:
            held = asyncio.create_task(client.get("/test-slow"))
            await asyncio.sleep(0.05)
            for _ in range(100):
                excess = await client.get("/fhir/metadata")
                if excess.status_code == 503:
                    break
                await asyncio.sleep(0.01)
            health = await client.get("/health")
            gate.set()
            return excess, health, await held

    excess, health, held = asyncio.run(scenario())
    assert excess.status_code == 503 and excess.headers["Retry-After"] == "2"
    assert excess.headers["content-type"].startswith("application/fhir+json")
    assert excess.headers["X-Content-Type-Options"] == "nosniff"  # security headers still added
    assert health.status_code == 200 and held.status_code == 200
