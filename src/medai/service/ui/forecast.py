"""The forecast pages of the web UI: flu admissions fan charts per location, and the capacity dashboard.

``/ui/forecast`` shows a stored flu run (the newest by default): for the chosen location the last
weeks observed, then the median and 50/80/95% bands for horizons 0-3, and the same in a table.
``/ui/forecast/capacity`` shows a census run: every series ranked by its expected bed shortfall,
and for the chosen series its fan chart against capacity with the nurses needed per shift.
Clinicians and admins may run a forecast on an uploaded CSV; the run is stored and audited like
an API run. Charts are inline SVG drawn here (no JavaScript).
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from starlette.datastructures import FormData

from medai.errors import InvalidInput, NotFound
from medai.forecast import store
from medai.forecast.knowledge import hub_locations
from medai.forecast.staffing import StaffingRow, staffing_plan
from medai.service.deps import audit
from medai.service.routers.forecast import run_upload, stored
from medai.service.ui.routes import STAFF, _error, _forbidden, _page, signed_in
from medai.service.uploads import read_multipart
from medai.store.accounts import Principal

router = APIRouter(tags=["ui"])
SECTION = "forecast"
BANDS = ((0.95, 0.025, 0.975, "#cfe3f1"), (0.8, 0.1, 0.9, "#9ec8e4"), (0.5, 0.25, 0.75, "#5fa3d3"))
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 960, 330, 70, 20, 16, 40


# -- the fan chart ----------------------------------------------------------------------------

def _compact(value: float) -> str:
    """An axis label: 950, 12,500, 48k, 1.2M."""
    if value >= 1e6:
        return f"{value / 1e6:.3g}M"
    if value >= 1e5:
        return f"{value / 1e3:.0f}k"
    return f"{value:,.0f}"


def _nice(span: float) -> float:
    raw = span / 5 if span > 0 else 1
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(f * magnitude for f in (1, 2, 2.5, 5, 10) if raw <= f * magnitude)


def fan_chart(observed: list[tuple[str, float | None]], days: list[dict], reference: date, capacity: float | None = None,
              label: str = "") -> Markup:
    """Observed points, then the forecast median with 50/80/95% bands, and an optional capacity line (inline SVG).

    ``days``: one dict per horizon with ``date`` and the quantiles at 0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975.
    """
    points = [(date.fromisoformat(d), v) for d, v in observed]
    targets = [(date.fromisoformat(d["date"]), d) for d in days]
    first = min([p[0] for p in points] + [t[0] for t in targets])
    last = max([p[0] for p in points] + [t[0] for t in targets])
    top = max([v for _, v in points if v is not None] + [d[0.975] for _, d in targets] + [capacity or 0] + [1])
    step = _nice(top * 1.05)
    y_max = step * math.ceil(top * 1.05 / step)
    span = max((last - first).days, 1)
    x = lambda d: LEFT + (WIDTH - LEFT - RIGHT) * (d - first).days / span  # noqa: E731
    y = lambda v: TOP + (HEIGHT - TOP - BOTTOM) * (1 - v / y_max)  # noqa: E731
    parts = [f'<svg id="fan-chart" class="fan-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(label)} forecast fan chart" xmlns="http://www.w3.org/2000/svg">']
    for k in range(int(y_max / step) + 1):
        value = k * step
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#e3e8ee"/>'
                     f'<text x="{LEFT - 8}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="12" fill="#637083">{_compact(value)}</text>')
    for k in range(6):
        tick = first + timedelta(days=round(span * k / 5))
        align = "start" if k == 0 else "end" if k == 5 else "middle"
        parts.append(f'<text x="{x(tick):.1f}" y="{HEIGHT - 14}" text-anchor="{align}" font-size="12" fill="#637083">'
                     f'{tick.strftime("%d %b %Y")}</text>')
    parts.append(f'<line class="reference" x1="{x(reference):.1f}" x2="{x(reference):.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
                 f'stroke="#8a96a3" stroke-dasharray="3 3"><title>reference date {reference.isoformat()}</title></line>')
    anchor = next(((d, v) for d, v in reversed(points) if v is not None and d <= targets[0][0]), None)
    for coverage, low, high, colour in BANDS:
        upper = [(x(d), y(q[high])) for d, q in targets]
        lower = [(x(d), y(q[low])) for d, q in reversed(targets)]
        if anchor is not None:
            upper.insert(0, (x(anchor[0]), y(anchor[1])))
            lower.append((x(anchor[0]), y(anchor[1])))
        polygon = " ".join(f"{px:.1f},{py:.1f}" for px, py in upper + lower)
        parts.append(f'<polygon class="band band-{round(coverage * 100)}" points="{polygon}" fill="{colour}" opacity="0.85">'
                     f'<title>{coverage:.0%} interval</title></polygon>')
    median = ([(x(anchor[0]), y(anchor[1]))] if anchor else []) + [(x(d), y(q[0.5])) for d, q in targets]
    parts.append('<polyline class="median" fill="none" stroke="#0b5d8c" stroke-width="2.5" points="'
                 + " ".join(f"{px:.1f},{py:.1f}" for px, py in median) + '"/>')
    for d, q in targets:
        parts.append(f'<circle class="median-point" cx="{x(d):.1f}" cy="{y(q[0.5]):.1f}" r="3.5" fill="#0b5d8c">'
                     f'<title>{d.isoformat()}: median {q[0.5]:,.0f} (95% {q[0.025]:,.0f}-{q[0.975]:,.0f})</title></circle>')
    seen = [(x(d), y(v)) for d, v in points if v is not None]
    if seen:
        parts.append('<polyline class="observed-line" fill="none" stroke="#1d2733" stroke-width="1.5" points="'
                     + " ".join(f"{px:.1f},{py:.1f}" for px, py in seen) + '"/>')
    for d, v in points:
        if v is not None:
            parts.append(f'<circle class="observed" cx="{x(d):.1f}" cy="{y(v):.1f}" r="3" fill="#1d2733">'
                         f'<title>{d.isoformat()}: observed {v:,.0f}</title></circle>')
    if capacity is not None:
        parts.append(f'<line class="capacity" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(capacity):.1f}" y2="{y(capacity):.1f}" '
                     f'stroke="#c62828" stroke-width="2" stroke-dasharray="8 4"><title>capacity {capacity:,.0f}</title></line>')
    parts.append("</svg>")
    return Markup("".join(parts))


# -- page data --------------------------------------------------------------------------------

def series_days(run: store.StoredRun, series: str) -> list[dict]:
    """One series' forecast per horizon: target date and quantiles keyed by level."""
    forecast = run.forecast
    i = forecast.ids.index(series)
    return [{"horizon": h, "date": forecast.target_date(h).isoformat(),
             **{level: float(forecast.values[i, k, q]) for q, level in enumerate(forecast.levels)}}
            for k, h in enumerate(forecast.horizons)]


def _latest(request: Request, kind: str, run_id: str | None) -> store.StoredRun | None:
    try:
        return stored(request, run_id or f"latest-{kind}")
    except NotFound:
        if run_id:
            raise
        return None


def _runs(request: Request, kind: str) -> list[dict]:
    with request.app.state.engine.connect() as connection:
        return store.list_runs(connection, kind, limit=10)


def _location_names() -> dict[str, str]:
    return {loc.code: loc.name for loc in hub_locations().locations}


def _shortfall_ranking(plan: list[StaffingRow]) -> list[dict]:
    """Per series: the worst day's expected shortfall and exceedance probability, and peak nurses needed."""
    ranking: dict[str, dict] = {}
    for row in plan:
        entry = ranking.setdefault(row.series, {"series": row.series, "unit_type": row.unit_type, "capacity": row.capacity,
                                                "shortfall": 0.0, "p_over": 0.0, "nurses": 0, "peak_median": 0.0})
        entry["shortfall"] = max(entry["shortfall"], row.expected_shortfall_beds or 0.0)
        entry["p_over"] = max(entry["p_over"], row.p_over_capacity or 0.0)
        entry["nurses"] = max(entry["nurses"], row.nurses_per_shift_planning)
        entry["peak_median"] = max(entry["peak_median"], row.census_median)
    return sorted(ranking.values(), key=lambda e: (-e["shortfall"], -e["p_over"], e["series"]))


# -- pages ------------------------------------------------------------------------------------

PAGES = {"flu": "/ui/forecast", "census": "/ui/forecast/capacity"}


def _current(request: Request, principal: Principal, kind: str, run_id: str | None) -> store.StoredRun | Response | None:
    """The run to show (the newest of ``kind`` when no id is given), or the response to send instead."""
    if principal.role not in STAFF:
        return _forbidden(request, principal, "Forecasts are for clinicians and admins.")
    try:
        current = _latest(request, kind, run_id)
    except NotFound:
        return _error(request, principal, 404, "Forecast not found", f"There is no stored forecast run {run_id!r}.")
    if current is not None and current.kind != kind:
        return RedirectResponse(f"{PAGES[current.kind]}?run={current.id}", status_code=303)
    return current


def _flu_view(request: Request, principal: Principal, run_id: str | None = None, location: str = "US",
              problems: list[str] | None = None, status_code: int = 200) -> Response:
    current = _current(request, principal, "flu", run_id)
    if isinstance(current, Response):
        return current
    context = {"run": current, "runs": _runs(request, "flu"), "names": _location_names(), "problems": problems or []}
    if current is not None:
        location = location if location in current.forecast.ids else current.forecast.ids[0]
        days = series_days(current, location)
        context.update(location=location, days=days,
                       chart=fan_chart(current.observed.get(location, []), days, current.forecast.reference_date,
                                       label=context["names"].get(location, location)))
        audit(request, principal, "ui:view-forecast", detail={"run_id": current.id, "location": location})
    return _page(request, "forecast.html", principal, status_code=status_code, section=SECTION, **context)


def _capacity_view(request: Request, principal: Principal, run_id: str | None = None, series: str | None = None,
                   planning_level: float = 0.9, problems: list[str] | None = None, status_code: int = 200) -> Response:
    current = _current(request, principal, "census", run_id)
    if isinstance(current, Response):
        return current
    planning_level = min(max(planning_level, 0.5), 0.975)
    context = {"run": current, "runs": _runs(request, "census"), "problems": problems or [], "planning_level": planning_level}
    if current is not None:
        plan = staffing_plan(current.forecast, current.capacity, planning_level=planning_level)
        ranking = _shortfall_ranking(plan)
        series = series if series in current.forecast.ids else ranking[0]["series"]
        days = series_days(current, series)
        context.update(series=series, ranking=ranking, days=days, plan=[row for row in plan if row.series == series],
                       capacity=current.capacity.get(series),
                       chart=fan_chart(current.observed.get(series, []), days, current.forecast.reference_date,
                                       current.capacity.get(series), label=series))
        audit(request, principal, "ui:view-capacity", detail={"run_id": current.id, "series": series})
    return _page(request, "forecast_capacity.html", principal, status_code=status_code, section=SECTION, **context)


@router.get("/ui/forecast", response_class=HTMLResponse)
def flu_page(request: Request, run: str | None = None, location: str = "US",
             principal: Principal = Depends(signed_in)) -> Response:
    """A flu run's fan chart and table for one location, the recent runs, and the form to run a new forecast."""
    return _flu_view(request, principal, run, location)


@router.get("/ui/forecast/capacity", response_class=HTMLResponse)
def capacity_page(request: Request, run: str | None = None, series: str | None = None, planning_level: float = 0.9,
                  principal: Principal = Depends(signed_in)) -> Response:
    """A census run: series ranked by expected shortfall, the chosen series' fan chart against capacity and its staffing."""
    return _capacity_view(request, principal, run, series, planning_level)


@router.get("/ui/forecast/runs/{run_id}", include_in_schema=False)
def run_page(request: Request, run_id: str, principal: Principal = Depends(signed_in)) -> Response:
    """A stored run on the page of its kind."""
    try:
        run = stored(request, run_id)
    except NotFound:
        return _error(request, principal, 404, "Forecast not found", f"There is no stored forecast run {run_id!r}.")
    return RedirectResponse(f"{PAGES[run.kind]}?run={run.id}", status_code=303)


async def _submit(request: Request, principal: Principal, kind: str) -> Response:
    view = _flu_view if kind == "flu" else _capacity_view
    if principal.role not in STAFF:
        return _forbidden(request, principal, "Forecasts are for clinicians and admins.")
    form: FormData | None = None
    try:
        form = await read_multipart(request)
        result = await run_upload(request, principal, kind, form)
    except InvalidInput as error:
        return view(request, principal, problems=[f"{p.location}: {p.message}" for p in error.problems], status_code=422)
    except HTTPException as error:
        return view(request, principal, problems=[str(error.detail)], status_code=error.status_code)
    finally:
        if form is not None:
            await form.close()
    return RedirectResponse(f"/ui/forecast/runs/{result.run_id}", status_code=303)


@router.post("/ui/forecast", response_class=HTMLResponse)
async def flu_submit(request: Request, principal: Principal = Depends(signed_in)) -> Response:
    """Forecast an uploaded hub target CSV; go to the stored run, or show the form again with the problems."""
    return await _submit(request, principal, "flu")


@router.post("/ui/forecast/capacity", response_class=HTMLResponse)
async def capacity_submit(request: Request, principal: Principal = Depends(signed_in)) -> Response:
    """Forecast an uploaded census CSV; go to the stored run, or show the form again with the problems."""
    return await _submit(request, principal, "census")
