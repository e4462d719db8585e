"""Administration: the audit log, its verification, and the model registry."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from medai.models import default_registry, render_html
from medai.service.deps import ANY_PERSON, CLINICAL, audit, require_roles
from medai.store import audit as audit_log
from medai.store.accounts import Principal

router = APIRouter(prefix="/api", tags=["admin"])


@router.get("/audit")
def audit_records(request: Request, limit: int = Query(200, ge=1, le=10_000),
                  principal: Principal = Depends(require_roles("admin"))) -> list[dict]:
    """The most recent audit records (admins only)."""
    with request.app.state.engine.connect() as connection:
        rows = audit_log.recent(connection, limit)
    audit(request, principal, "read:audit-log")
    return [{**row, "time": row["time"].isoformat()} for row in rows]


@router.get("/audit/verify")
def verify_audit(request: Request, principal: Principal = Depends(require_roles("admin"))) -> dict:
    """Recompute the audit hash chain and report any tampering."""
    with request.app.state.engine.connect() as connection:
        report = audit_log.verify(connection)
    return {"ok": report.ok, "checked": report.checked, "problems": report.problems}


@router.get("/models")
def models(principal: Principal = Depends(require_roles(*ANY_PERSON, *CLINICAL))) -> list[dict]:
    """Every installed model package with its status."""
    return [{"name": s.name, "version": s.version, "task": s.task, "source": s.source, "ok": s.ok, "error": s.error}
            for s in default_registry().list()]


@router.get("/models/{name}/card", response_class=HTMLResponse)
def model_card(name: str, principal: Principal = Depends(require_roles(*ANY_PERSON, *CLINICAL))) -> HTMLResponse:
    """A model's card as HTML, with its plots."""
    package = default_registry().get(name)
    return HTMLResponse(render_html(package.card, package.path))
