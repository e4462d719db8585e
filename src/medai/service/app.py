"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

import medai
from medai.config import Settings, get_settings
from medai.service import cds_hooks
from medai.service.applications import installed_applications
from medai.service.errors import install_error_handlers
from medai.service.metrics import install_metrics
from medai.service.routers import admin, auth, fhir
from medai.service.security.headers import install_http_hardening
from medai.service.security.limits import BodySizeLimit
from medai.service.security.shedding import LoadShedder
from medai.service.security.urls import RejectControlCharacters
from medai.service.security.throttle import FailureWindow
from medai.store.db import open_database


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the service: FHIR, CDS Hooks, each application's routers, admin API and web UI."""
    settings = settings or get_settings()
    app = FastAPI(title="medai", version=medai.__version__,
                  description="Clinical AI platform: FHIR R4, CDS Hooks and explainable predictions.")
    app.state.settings = settings
    app.state.engine = engine or open_database(settings)
    install_error_handlers(app)
    # Innermost first: the body limit must sit inside the metrics middleware so its 413 reaches the error handlers.
    app.add_middleware(BodySizeLimit, settings=settings)
    app.add_middleware(RejectControlCharacters)
    # Sheds before any body is read; inside the metrics middleware, so shed and timed-out requests are counted.
    app.add_middleware(LoadShedder, max_in_flight=settings.max_in_flight, timeout_seconds=settings.request_timeout_seconds,
                       retry_after_seconds=settings.overload_retry_after_seconds)
    install_metrics(app)
    install_http_hardening(app, settings)
    app.state.sign_in_failures = FailureWindow(settings.sign_in_max_failures, settings.sign_in_window_seconds)
    for router in (fhir.router, auth.router, admin.router, cds_hooks.router):
        app.include_router(router)
    app.state.cds_services = {}
    app.state.observation_listeners = []
    app.state.runtime = {}  # in-memory state of applications (streaming monitors, alert queues)
    for application in installed_applications():
        app.state.observation_listeners.extend(application.observation_listeners)
        for router in application.routers:
            app.include_router(router)
        app.state.cds_services.update({service.id: service for service in application.cds_services})
    from medai.service.ui.routes import router as ui_router, mount_static

    app.include_router(ui_router)
    mount_static(app)

    if settings.stream_url:  # before the MQTT bridge, so device messages take the partitioned path
        from medai.service.partitioning import install_partitioning

        install_partitioning(app, settings.stream_url, settings.stream_worker_index, settings.stream_workers,
                             settings.stream_partitions)
    if settings.mqtt_url:
        from medai.service.mqtt import MqttBridge

        app.state.mqtt_bridge = MqttBridge(app, settings.mqtt_url).start()

    @app.get("/health", tags=["health"])
    def health() -> dict:
        with app.state.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return {"status": "ok", "version": medai.__version__, "database": app.state.engine.dialect.name}

    return app
