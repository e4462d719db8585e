"""The clinician web UI: server-rendered pages (Jinja2) over the store, the NEWS2 and sepsis models and the registry.

Sign-in puts a bearer token in the ``SESSION_COOKIE`` (httponly, SameSite=Lax); a browser
without a valid session is sent to ``/ui/login`` (303) instead of getting a 401 JSON body.
Every view of a patient's chart is audited, and the NEWS2 and sepsis risk computed on it are
stored and audited like any other prediction. The ward view ranks the patients with recent
data by their current sepsis risk; its page view is audited.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy import select

import medai
from medai.errors import NotFound
from medai.models import ModelPackageError, default_registry, render_html
from medai.service.deps import SESSION_COOKIE, audit
from medai.service.predictions import record_prediction
from medai.service.routers.auth import password_sign_in
from medai.service.ui import views
from medai.service.ui.timeline import percent, risk_sparkline, risk_timeline, vitals_timeline
from medai.store import accounts
from medai.store.accounts import Principal
from medai.store.audit import recent as recent_audit
from medai.store.audit import verify as verify_audit
from medai.store.schema import tokens

HERE = Path(__file__).resolve().parent
PEOPLE = ("clinician", "admin", "patient")
PATIENT_LIMIT = 500
STAFF = ("clinician", "admin")

router = APIRouter(tags=["ui"])
templates = Jinja2Templates(directory=HERE / "templates")


def _format_time(value: datetime | None, pattern: str = "%d %b %Y %H:%M") -> str:
    if value is None:
        return "\u2014"
    return views.utc(value).strftime(pattern) if isinstance(value, datetime) else str(value)


def _number(value: float | None, decimals: int | None = None) -> str:
    """A number with ``decimals`` places; by default as many as its size warrants (245, 13.4, 1.23)."""
    if value is None:
        return "\u2014"
    if decimals is None:
        text = f"{value:.{0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2}f}"
        return text[:-1] if text.endswith("0") and text[-3:-2] == "." else text
    return f"{value:.{decimals}f}"


UNITS = {"Cel": "\u00b0C", "mm[Hg]": "mmHg", "10*3/uL": "\u00d710\u00b3/\u00b5L", "10*9/L": "\u00d710\u2079/L", "kg/m2": "kg/m\u00b2"}


def _unit(code: str | None) -> str:
    """A UCUM unit code as people write it."""
    return UNITS.get(code or "", code or "")


def _percent(value: float | None) -> str:
    """A probability as a percentage (12%; 0.4% below 1%)."""
    return "\u2014" if value is None else percent(float(value))


_UCUM_IN_TEXT = re.compile(r"(?<=\d) (" + "|".join(re.escape(code) for code in (*UNITS, "[pH]")) + r")(?=[,;)\s]|$)")


def _clinical_units(text: str | None) -> str:
    """Unit codes inside a sentence as people write them ('SBP 86 mm[Hg], down' -> 'SBP 86 mmHg, down')."""
    return _UCUM_IN_TEXT.sub(lambda m: "" if m.group(1) == "[pH]" else " " + _unit(m.group(1)), text or "")


def _sparkline(result: views.SepsisResult) -> Markup:
    """The last 24 hourly sepsis risks as a small SVG trend."""
    return risk_sparkline(result.recent(24), result.threshold)


templates.env.filters.update(when=_format_time, number=_number, unit=_unit, short=lambda s, n=12: (s or "")[:n],
                             percent=_percent, units_in=_clinical_units, sparkline=_sparkline)
templates.env.globals.update(version=medai.__version__)


def mount_static(app: FastAPI) -> None:
    """Serve the UI's stylesheet at ``/ui/static``."""
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")


# -- sessions ---------------------------------------------------------------------------------

def _session_token(request: Request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        return token
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _session_principal(request: Request) -> Principal | None:
    token = _session_token(request)
    if not token or not token.startswith(accounts.TOKEN_PREFIX):
        return None
    with request.app.state.engine.connect() as connection:
        return accounts.principal_for_token(connection, token)


def _safe_next(target: str | None) -> str | None:
    """Only same-site UI paths are followed after sign-in (no open redirects)."""
    if target and target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def signed_in(request: Request) -> Principal:
    """The signed-in person; a browser without a valid session is redirected to the sign-in page (303)."""
    principal = _session_principal(request)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = {"Location": f"/ui/login?next={quote(target, safe='/')}"}
        if request.cookies.get(SESSION_COOKIE):  # expired or revoked: drop it
            headers["Set-Cookie"] = f"{SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=lax"
        raise HTTPException(303, "sign in at /ui/login", headers=headers)
    return principal


def _home(principal: Principal) -> str:
    if principal.role == "patient" and principal.patient_id:
        return f"/ui/patients/{quote(principal.patient_id, safe='')}"
    return "/ui/patients"


def _page(request: Request, name: str, principal: Principal | None, status_code: int = 200, **context) -> HTMLResponse:
    context.setdefault("section", "")
    return templates.TemplateResponse(request, name, {"principal": principal, **context}, status_code=status_code)


def _error(request: Request, principal: Principal | None, status_code: int, title: str, message: str) -> HTMLResponse:
    return _page(request, "error.html", principal, status_code=status_code, title=title, message=message)


def _forbidden(request: Request, principal: Principal, message: str) -> HTMLResponse:
    return _error(request, principal, 403, "Not allowed", message)


def _now() -> datetime:
    return datetime.now(timezone.utc)


# -- pages ------------------------------------------------------------------------------------

@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    """The UI's front page."""
    return RedirectResponse("/ui/patients", status_code=303)


@router.get("/ui", include_in_schema=False)
def ui_root() -> RedirectResponse:
    return RedirectResponse("/ui/patients", status_code=303)


@router.get("/ui/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form (signed-in people go straight on)."""
    principal = _session_principal(request)
    if principal is not None and principal.role in PEOPLE:
        return RedirectResponse(_safe_next(next) or _home(principal), status_code=303)
    return _page(request, "login.html", None, next=_safe_next(next) or "", username="", error=None)


@router.post("/ui/login", response_class=HTMLResponse)
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("")) -> Response:
    """Check the password, set the session cookie and go to the page asked for (401 and the form again if wrong)."""
    if not username or not password:
        return _page(request, "login.html", None, status_code=401, next=_safe_next(next) or "", username=username,
                     error="Enter your username and password.")
    try:
        principal, token = password_sign_in(request, username, password)
    except HTTPException as error:
        if error.status_code == 429:
            page = _page(request, "login.html", None, status_code=429, next=_safe_next(next) or "", username=username,
                         error="Too many failed sign-ins. Wait a few minutes and try again.")
            page.headers.update(error.headers or {})
            return page
        if error.status_code != 401:
            raise
        return _page(request, "login.html", None, status_code=401, next=_safe_next(next) or "", username=username,
                     error="Wrong username or password.")
    response = RedirectResponse(_safe_next(next) or _home(principal), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=request.app.state.settings.token_ttl_hours * 3600, path="/",
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


@router.post("/ui/logout")
def logout(request: Request) -> RedirectResponse:
    """Revoke the session token and clear the cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    principal = _session_principal(request) if token else None
    if principal is not None:
        digest = hashlib.sha256(token.encode()).hexdigest()
        with request.app.state.engine.begin() as connection:
            token_id = connection.execute(select(tokens.c.id).where(tokens.c.token_sha256 == digest)).scalar_one_or_none()
            if token_id is not None:
                accounts.revoke_token(connection, token_id)
        audit(request, principal, "sign-out")
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


SORTS = {
    "name": lambda row: (row.patient.family_name or "", row.patient.given_names),
    "news2": lambda row: (-(row.news2.prediction.value if row.news2 else -1), row.patient.family_name or ""),
    "location": lambda row: (row.location is None, row.location or "", row.patient.family_name or ""),
}


@router.get("/ui/patients", response_class=HTMLResponse)
def patients(request: Request, sort: str = "name", principal: Principal = Depends(signed_in)) -> Response:
    """The patient list with current location and a live NEWS2 badge (patients go to their own page)."""
    if principal.role == "patient":
        if not principal.patient_id:
            return _forbidden(request, principal, "This patient account is not linked to a patient record.")
        return RedirectResponse(_home(principal), status_code=303)
    if principal.role not in STAFF:
        return _forbidden(request, principal, f"The web UI is for clinicians and admins; role {principal.role!r} may not use it.")
    model = views.load_news2()
    now = _now()
    with request.app.state.engine.connect() as connection:
        rows = views.patient_list(connection, model, now, limit=PATIENT_LIMIT)
    rows.sort(key=SORTS.get(sort, SORTS["name"]))
    audit(request, principal, "ui:list-patients", detail={"patients": len(rows)})
    return _page(request, "patients.html", principal, section="patients", rows=rows, model=model, now=now,
                 truncated=len(rows) >= PATIENT_LIMIT,
                 sort=sort if sort in SORTS else "name", scored=sum(1 for r in rows if r.news2))


@router.get("/ui/patients/{patient_id}", response_class=HTMLResponse)
def patient(request: Request, patient_id: str, principal: Principal = Depends(signed_in)) -> Response:
    """One patient's chart: vitals timeline, labs, problems, medications, allergies, notes and NEWS2."""
    if principal.role not in PEOPLE:
        return _forbidden(request, principal, f"Role {principal.role!r} may not use the web UI.")
    if principal.role == "patient" and principal.patient_id != patient_id:
        audit(request, principal, "ui:view-patient", patient_id=patient_id, outcome="denied")
        return _forbidden(request, principal, "Patients may only see their own record.")
    now = _now()
    model = views.load_news2()
    sepsis_model = views.load_sepsis()
    with request.app.state.engine.connect() as connection:
        try:
            record = views.get_patient(connection, patient_id)
        except NotFound:
            return _error(request, principal, 404, "Patient not found", f"There is no patient with id {patient_id!r}.")
        encounter = views.current_encounters(connection, [patient_id]).get(patient_id)
        vitals = views.vitals_view(connection, patient_id, now)
        labs = views.latest_labs(connection, patient_id)
        lists = views.chart_lists(connection, patient_id)
        news2 = views.score_news2(connection, patient_id, model, now)
        sepsis = views.score_sepsis(connection, patient_id, sepsis_model, now)
    audit(request, principal, "ui:view-patient", patient_id=patient_id)
    if news2 is not None:
        record_prediction(request.app.state.engine, principal, news2.prediction, action="predict:news2")
    if sepsis is not None:
        record_prediction(request.app.state.engine, principal, sepsis.prediction, action="predict:sepsis")
    with request.app.state.engine.connect() as connection:
        history = views.past_predictions(connection, patient_id)
    timeline = vitals_timeline(vitals.series, vitals.start, vitals.end, views.normal_bands(model))
    sepsis_svg = None
    if sepsis is not None:
        start, end = views.sepsis_window(sepsis, now)
        sepsis_svg = risk_timeline(sepsis.timeline.hours, sepsis.timeline.risks, sepsis.timeline.alerts, sepsis.threshold,
                                   start, end)
    return _page(request, "patient.html", principal, section="patients", patient=record, encounter=encounter,
                 age=views.age_on(record.birth_date, now.date()), vitals=vitals, timeline=timeline, labs=labs,
                 lists=lists, news2=news2, model=model, history=history, now=now,
                 news2_window_hours=int(views.NEWS2_WINDOW / timedelta(hours=1)),
                 sepsis=sepsis, sepsis_model=sepsis_model, sepsis_svg=sepsis_svg,
                 sepsis_days=int(views.SEPSIS_LOOKBACK / timedelta(days=1)))


@router.get("/ui/ward", response_class=HTMLResponse)
def ward(request: Request, principal: Principal = Depends(signed_in)) -> Response:
    """The ward: patients with vitals or labs in the last 24 h, highest current sepsis risk first, with NEWS2."""
    if principal.role not in STAFF:
        audit(request, principal, "ui:ward", outcome="denied")
        return _forbidden(request, principal, "The ward view is for clinicians and admins.")
    now = _now()
    news2_model = views.load_news2()
    sepsis_model = views.load_sepsis()
    with request.app.state.engine.connect() as connection:
        rows, without_data = views.ward_list(connection, sepsis_model, news2_model, now, limit=PATIENT_LIMIT)
    audit(request, principal, "ui:ward", detail={"patients": len(rows), "scored": sum(1 for r in rows if r.sepsis)})
    return _page(request, "ward.html", principal, section="ward", rows=rows, without_data=without_data,
                 sepsis_model=sepsis_model, model=news2_model, now=now,
                 window_hours=int(views.WARD_WINDOW / timedelta(hours=1)))


@router.get("/ui/models", response_class=HTMLResponse)
def models(request: Request, principal: Principal = Depends(signed_in)) -> Response:
    """The model registry: every installed package and whether it verifies."""
    if principal.role not in PEOPLE:
        return _forbidden(request, principal, f"Role {principal.role!r} may not use the web UI.")
    return _page(request, "models.html", principal, section="models", models=default_registry().list())


@router.get("/ui/models/{name}", response_class=HTMLResponse)
def model(request: Request, name: str, version: str | None = None, principal: Principal = Depends(signed_in)) -> Response:
    """A model's card (its own HTML, embedded in a frame so its styles stay its own)."""
    if principal.role not in PEOPLE:
        return _forbidden(request, principal, f"Role {principal.role!r} may not use the web UI.")
    try:
        package = default_registry().get(name, version)
        card_html = render_html(package.card, package.path)
    except NotFound as error:
        return _error(request, principal, 404, "Model not found", str(error))
    except (ModelPackageError, ValueError) as error:
        return _error(request, principal, 500, "Model package does not load", str(error))
    versions = [s for s in default_registry().list() if s.name == name]
    return _page(request, "model.html", principal, section="models", package=package, card_html=card_html,
                 versions=versions)


@router.get("/ui/audit", response_class=HTMLResponse)
def audit_page(request: Request, principal: Principal = Depends(signed_in)) -> Response:
    """The latest 200 audit records and the result of verifying the hash chain (admins only)."""
    if principal.role != "admin":
        audit(request, principal, "ui:view-audit", outcome="denied")
        return _forbidden(request, principal, "Only admins may read the audit log.")
    audit(request, principal, "ui:view-audit")
    with request.app.state.engine.connect() as connection:
        rows = recent_audit(connection, 200)
        report = verify_audit(connection)
    return _page(request, "audit.html", principal, section="audit", rows=rows, report=report)
