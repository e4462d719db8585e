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
from medai.store.db import open_database


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the service: FHIR, CDS Hooks, each application's routers, admin API and web UI."""
    settings = settings or get_settings()
    app = FastAPI(title="medai", version=medai.__version__,
                  description="Clinical AI platform: FHIR R4, CDS Hooks and explainable predictions.")
    app.state.settings = settings
    app.state.engine = engine or open_database(settings)
    install_error_handlers(app)
    install_metrics(app)
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

    if settings.mqtt_url:
        from medai.service.mqtt import MqttBridge

        app.state.mqtt_bridge = MqttBridge(app, settings.mqtt_url).start()

    @app.get("/health", tags=["health"])
    def health() -> dict:
        with app.state.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return {"status": "ok", "version": medai.__version__, "database": app.state.engine.dialect.name}

    return app
