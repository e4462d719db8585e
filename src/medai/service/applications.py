"""The one registration point: each application contributes routers and CDS Hooks services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import Engine

from medai.core.prediction import Prediction
from medai.core.records import Observation
from medai.store.accounts import Principal


@dataclass
class CdsInvocation:
    """What a CDS service handler receives: the hook request and the app's resources."""

    request: Request
    engine: Engine
    hook: str
    context: dict
    prefetch: dict


@dataclass
class CdsResult:
    """Cards to return, and the predictions behind them (stored and audited by the service)."""

    cards: list[dict]
    predictions: list[Prediction] = field(default_factory=list)


@dataclass
class CdsService:
    """A CDS Hooks service as listed by discovery, with its handler."""

    id: str
    hook: str
    title: str
    description: str
    handler: Callable[[CdsInvocation], CdsResult]
    prefetch: dict[str, str] = field(default_factory=dict)

    def discovery_entry(self) -> dict:
        """This service's entry in ``GET /cds-services``."""
        entry = {"id": self.id, "hook": self.hook, "title": self.title, "description": self.description}
        if self.prefetch:
            entry["prefetch"] = self.prefetch
        return entry


ObservationListener = Callable[[FastAPI, Principal, Observation], None]


@dataclass
class Application:
    """One application's contribution to the service: routers, CDS services, and listeners that
    see every streamed Observation after it is stored (POST /fhir/Observation or MQTT)."""

    name: str
    routers: list[APIRouter] = field(default_factory=list)
    cds_services: list[CdsService] = field(default_factory=list)
    observation_listeners: list[ObservationListener] = field(default_factory=list)


def installed_applications() -> list[Application]:
    """Every application the service mounts. Add new applications here."""
    from medai.service.routers.appointments import scheduling_application
    from medai.service.routers.assistant_chat import assistant_chat_application
    from medai.service.routers.assistant_safety import assistant_safety_application
    from medai.service.routers.forecast import forecast_application
    from medai.service.routers.imaging import imaging_application
    from medai.service.routers.notes import notes_application
    from medai.service.routers.risk import risk_application
    from medai.service.routers.sepsis import sepsis_application
    from medai.service.routers.symptoms import symptoms_application
    from medai.service.routers.treatment import treatment_application

    return [risk_application(), sepsis_application(), imaging_application(), treatment_application(), notes_application(),
            forecast_application(), scheduling_application(), assistant_safety_application(),
            assistant_chat_application(), symptoms_application()]
