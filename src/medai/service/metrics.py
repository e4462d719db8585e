"""Prometheus metrics and PHI-free request logging."""

from __future__ import annotations

import logging
import time

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

logger = logging.getLogger("medai.service")


def install_metrics(app: FastAPI) -> None:
    """Count and time requests by route template (never the raw path, which may hold patient ids)."""
    registry = CollectorRegistry()
    requests = Counter("medai_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry)
    latency = Histogram("medai_request_seconds", "Request latency", ["method", "route"], registry=registry)
    app.state.metrics_registry = registry

    @app.middleware("http")
    async def _measure(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        elapsed = time.perf_counter() - started
        requests.labels(request.method, template, str(response.status_code)).inc()
        latency.labels(request.method, template).observe(elapsed)
        logger.info("%s %s -> %s in %.1f ms", request.method, template, response.status_code, elapsed * 1000)
        return response

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
