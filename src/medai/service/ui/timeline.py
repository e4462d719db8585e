"""The vitals timeline: a server-rendered inline SVG of the NEWS2 vital signs over a time window.

One panel per vital sign, stacked on a shared time axis. Each panel shades the band that
scores 0 NEWS2 points, draws the measurements as a line with a dot per value (values
outside the normal band are marked), and labels its y axis; the bottom axis shows the
time in UTC. No JavaScript: hovering a dot shows its ``<title>`` tooltip.

``risk_timeline`` draws the hourly sepsis risk the same way (threshold dashed, alert hours
marked red) and ``risk_sparkline`` a small trend of it for the ward view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from markupsafe import Markup, escape


@dataclass(frozen=True)
class VitalSign:
    """One vital sign of the timeline: its NEWS2 parameter name, LOINC codes, label and unit."""

    parameter: str
    loincs: tuple[str, ...]
    label: str
    unit: str
    default_range: tuple[float, float]
    decimals: int = 0

    @property
    def loinc(self) -> str:
        """The primary LOINC code (the one the series is tagged with)."""
        return self.loincs[0]


VITAL_SIGNS: tuple[VitalSign, ...] = (
    VitalSign("heart_rate", ("8867-4",), "Heart rate", "/min", (40, 140)),
    VitalSign("respiratory_rate", ("9279-1",), "Resp. rate", "/min", (8, 30)),
    VitalSign("oxygen_saturation", ("59408-5", "2708-6"), "SpO\u2082", "%", (85, 100)),
    VitalSign("temperature", ("8310-5", "8331-1"), "Temperature", "\u00b0C", (35, 39), decimals=1),
    VitalSign("systolic_bp", ("8480-6",), "Systolic BP", "mmHg", (80, 180)),
)
VITAL_BY_LOINC: dict[str, VitalSign] = {code: vital for vital in VITAL_SIGNS for code in vital.loincs}

Point = tuple[datetime, float]

# Geometry (SVG user units; the SVG scales to its container's width).
WIDTH, LEFT, RIGHT, TOP = 960, 118, 18, 10
PANEL, GAP, AXIS = 84, 16, 42
GAP_BREAK = timedelta(hours=4)  # a longer gap between measurements breaks the line


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def _nice_step(span: float, target_ticks: int = 3) -> float:
    raw = span / max(target_ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _y_range(values: list[float], band: tuple[float, float] | None, default: tuple[float, float]) -> tuple[float, float]:
    candidates = list(values)
    if band is not None:
        candidates += [band[0], band[1]]
    if not candidates:
        candidates = list(default)
    low, high = min(candidates), max(candidates)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.12
    return low - pad, high + pad


def _time_ticks(start: datetime, end: datetime) -> list[datetime]:
    span_h = (end - start).total_seconds() / 3600
    step = 6 if span_h > 18 else 3 if span_h > 6 else 1
    first = start.replace(minute=0, second=0, microsecond=0)
    first += timedelta(hours=(-first.hour) % step)
    if first < start:
        first += timedelta(hours=step)
    ticks, tick = [], first
    while tick <= end:
        ticks.append(tick)
        tick += timedelta(hours=step)
    return ticks


def vitals_timeline(series: dict[str, list[Point]], start: datetime, end: datetime,
                    normal_bands: dict[str, tuple[float, float]] | None = None) -> Markup:
    """The timeline SVG for ``series`` (NEWS2 parameter name -> time-ordered points) in ``[start, end]``.

    ``normal_bands`` maps a parameter to the value range that scores 0 NEWS2 points; it is shaded
    and values outside it are marked as abnormal.
    """
    start, end = _utc(start), _utc(end)
    if end <= start:
        raise ValueError("the timeline needs end > start")
    normal_bands = normal_bands or {}
    plot_w = WIDTH - LEFT - RIGHT
    height = TOP + len(VITAL_SIGNS) * (PANEL + GAP) - GAP + AXIS
    total_s = (end - start).total_seconds()

    def x_of(when: datetime) -> float:
        return LEFT + plot_w * (_utc(when) - start).total_seconds() / total_s

    n_points = sum(len(points) for points in series.values())
    parts: list[str] = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg" '
        f'aria-label="Vital signs from {start:%d %b %H:%M} to {end:%d %b %H:%M} UTC, {n_points} measurements">',
        f"<title>Vital signs, {start:%d %b %H:%M} to {end:%d %b %H:%M} UTC</title>",
    ]
    ticks = _time_ticks(start, end)
    bottom = TOP + len(VITAL_SIGNS) * (PANEL + GAP) - GAP
    for tick in ticks:  # vertical grid lines through every panel
        x = x_of(tick)
        parts.append(f'<line class="gridline" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{bottom}"/>')

    for index, vital in enumerate(VITAL_SIGNS):
        top = TOP + index * (PANEL + GAP)
        points = [(_utc(t), v) for t, v in series.get(vital.parameter, []) if start <= _utc(t) <= end]
        band = normal_bands.get(vital.parameter)
        low, high = _y_range([v for _, v in points], band, vital.default_range)

        def y_of(value: float, low: float = low, high: float = high, top: int = top) -> float:
            return top + PANEL * (high - value) / (high - low)

        parts.append(f'<g class="panel" data-parameter="{vital.parameter}">')
        parts.append(f'<rect class="frame" x="{LEFT}" y="{top}" width="{plot_w}" height="{PANEL}"/>')
        if band is not None:
            b_top, b_bottom = y_of(min(band[1], high)), y_of(max(band[0], low))
            if b_bottom > b_top:
                parts.append(f'<rect class="normal-band" x="{LEFT}" y="{b_top:.1f}" width="{plot_w}" '
                             f'height="{b_bottom - b_top:.1f}"><title>NEWS2 0 points: '
                             f'{_fmt(band[0], vital.decimals)}\u2013{_fmt(band[1], vital.decimals)} '
                             f'{escape(vital.unit)}</title></rect>')
        step = _nice_step(high - low)
        tick_value = math.ceil(low / step) * step
        while tick_value <= high:
            y = y_of(tick_value)
            decimals = vital.decimals if step < 1 else 0
            parts.append(f'<line class="ytick" x1="{LEFT - 4}" y1="{y:.1f}" x2="{LEFT}" y2="{y:.1f}"/>'
                         f'<text class="ylabel" x="{LEFT - 7}" y="{y + 3.5:.1f}" text-anchor="end">'
                         f'{_fmt(tick_value, decimals)}</text>')
            tick_value += step
        parts.append(f'<text class="axis-title" x="8" y="{top + PANEL / 2 - 3:.1f}">{escape(vital.label)}</text>'
                     f'<text class="axis-unit" x="8" y="{top + PANEL / 2 + 12:.1f}">{escape(vital.unit)}</text>')

        parts.append(f'<g class="series" data-loinc="{vital.loinc}" data-parameter="{vital.parameter}" '
                     f'data-count="{len(points)}">')
        segment: list[str] = []
        segments: list[list[str]] = []
        previous: datetime | None = None
        for when, value in points:
            if previous is not None and when - previous > GAP_BREAK and segment:
                segments.append(segment)
                segment = []
            segment.append(f"{x_of(when):.1f},{y_of(value):.1f}")
            previous = when
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) > 1:
                parts.append(f'<polyline class="line" points="{" ".join(seg)}"/>')
        for when, value in points:
            abnormal = band is not None and not (band[0] <= value <= band[1])
            css = "point abnormal" if abnormal else "point"
            parts.append(f'<circle class="{css}" cx="{x_of(when):.1f}" cy="{y_of(value):.1f}" r="3" '
                         f'data-value="{value:g}" data-time="{when.isoformat()}">'
                         f'<title>{escape(vital.label)} {_fmt(value, vital.decimals)} {escape(vital.unit)} '
                         f'at {when:%d %b %H:%M} UTC</title></circle>')
        parts.append("</g>")
        if not points:
            parts.append(f'<text class="empty" x="{LEFT + plot_w / 2:.1f}" y="{top + PANEL / 2 + 4:.1f}" '
                         f'text-anchor="middle">no measurements in this window</text>')
        parts.append("</g>")

    for tick in ticks:
        x = x_of(tick)
        label = f"{tick:%H:%M}"
        parts.append(f'<line class="xtick" x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}"/>'
                     f'<text class="xlabel" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{label}</text>')
        if tick.hour == 0 or tick == ticks[0]:
            parts.append(f'<text class="xlabel date" x="{x:.1f}" y="{bottom + 29}" text-anchor="middle">'
                         f'{tick:%d %b}</text>')
    parts.append(f'<text class="axis-title" x="8" y="{bottom + 16}">Time (UTC)</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# -- the sepsis risk timeline -----------------------------------------------------------------

RISK_LEFT, RISK_TOP, RISK_PLOT, RISK_AXIS = 70, 14, 300, 40
RISK_TOPS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def percent(value: float) -> str:
    """A probability as a percentage: whole percent, one decimal below 1% (0.4%)."""
    return f"{value * 100:.0f}%" if value >= 0.01 or value == 0 else f"{value * 100:.1f}%"


def _risk_top(risks: list[float], threshold: float) -> float:
    """The top of the y axis: the smallest round probability above the risks and the threshold."""
    need = max([threshold * 1.25, 0.05] + [r * 1.05 for r in risks])
    return next((top for top in RISK_TOPS if top >= need), 1.0)


def _day_ticks(start: datetime, end: datetime) -> tuple[list[datetime], list[datetime]]:
    """(labelled ticks, minor grid lines): midnights and every 6 h for a week; else the vitals ticks."""
    if (end - start) <= timedelta(hours=36):
        ticks = _time_ticks(start, end)
        return ticks, []
    first = start.replace(hour=0, minute=0, second=0, microsecond=0)
    major, minor, tick = [], [], first
    while tick <= end:
        if tick >= start:
            (major if tick.hour == 0 else minor).append(tick)
        tick += timedelta(hours=6)
    return major, minor


def risk_timeline(hours: list[datetime], risks, alerts, threshold: float, start: datetime, end: datetime) -> Markup:
    """The sepsis risk SVG: hourly calibrated probability in ``[start, end]``.

    The band at or above ``threshold`` (high) and the band from half of it (moderate) are shaded,
    the threshold is a dashed line, and hours where the alert policy fired carry a red marker.
    ``data-points`` on the root counts the hourly scores drawn.
    """
    start, end = _utc(start), _utc(end)
    if end <= start:
        raise ValueError("the timeline needs end > start")
    plot_w = WIDTH - RISK_LEFT - RIGHT
    bottom = RISK_TOP + RISK_PLOT
    height = bottom + RISK_AXIS
    total_s = (end - start).total_seconds()
    points = [(_utc(h), float(r), bool(a)) for h, r, a in zip(hours, risks, alerts)
              if start <= _utc(h) <= end and not math.isnan(float(r))]
    top_p = _risk_top([r for _, r, _ in points], threshold)

    def x_of(when: datetime) -> float:
        return RISK_LEFT + plot_w * (_utc(when) - start).total_seconds() / total_s

    def y_of(p: float) -> float:
        return bottom - RISK_PLOT * min(max(p, 0.0), top_p) / top_p

    n_alerts = sum(1 for _, _, a in points if a)
    parts: list[str] = [
        f'<svg class="timeline risk-timeline" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg" data-points="{len(points)}" '
        f'data-alerts="{n_alerts}" data-threshold="{threshold:.4f}" '
        f'aria-label="Sepsis risk from {start:%d %b %H:%M} to {end:%d %b %H:%M} UTC: {len(points)} hourly scores, '
        f'{n_alerts} alert hours, threshold {percent(threshold)}">',
        f"<title>Sepsis risk, {start:%d %b %H:%M} to {end:%d %b %H:%M} UTC</title>",
        f'<rect class="frame" x="{RISK_LEFT}" y="{RISK_TOP}" width="{plot_w}" height="{RISK_PLOT}"/>',
    ]
    # risk bands: moderate (threshold/2 .. threshold) and high (>= threshold)
    if threshold < top_p:
        parts.append(f'<rect class="band-high" x="{RISK_LEFT}" y="{RISK_TOP}" width="{plot_w}" '
                     f'height="{y_of(threshold) - RISK_TOP:.1f}"><title>High risk: {percent(threshold)} and above'
                     f'</title></rect>')
    parts.append(f'<rect class="band-moderate" x="{RISK_LEFT}" y="{y_of(threshold):.1f}" width="{plot_w}" '
                 f'height="{y_of(threshold / 2) - y_of(threshold):.1f}"><title>Moderate risk: {percent(threshold / 2)} '
                 f'to {percent(threshold)}</title></rect>')
    major, minor = _day_ticks(start, end)
    for tick in minor:
        parts.append(f'<line class="gridline minor" x1="{x_of(tick):.1f}" y1="{RISK_TOP}" x2="{x_of(tick):.1f}" '
                     f'y2="{bottom}"/>')
    for tick in major:
        parts.append(f'<line class="gridline" x1="{x_of(tick):.1f}" y1="{RISK_TOP}" x2="{x_of(tick):.1f}" y2="{bottom}"/>')
    step = _nice_step(top_p, 4)
    value = 0.0
    while value <= top_p + 1e-9:
        y = y_of(value)
        parts.append(f'<line class="ytick" x1="{RISK_LEFT - 4}" y1="{y:.1f}" x2="{RISK_LEFT}" y2="{y:.1f}"/>'
                     f'<text class="ylabel" x="{RISK_LEFT - 7}" y="{y + 3.5:.1f}" text-anchor="end">{percent(value)}</text>')
        value += step
    parts.append(f'<text class="axis-title" x="{-(RISK_TOP + RISK_PLOT / 2):.1f}" y="16" transform="rotate(-90)" '
                 f'text-anchor="middle">Sepsis risk</text>')
    # the operating threshold
    y_t = y_of(threshold)
    parts.append(f'<line class="threshold" x1="{RISK_LEFT}" y1="{y_t:.1f}" x2="{RISK_LEFT + plot_w}" y2="{y_t:.1f}" '
                 f'stroke-dasharray="6 4" data-threshold="{threshold:.4f}"><title>Operating threshold {percent(threshold)}'
                 f'</title></line>'
                 f'<text class="threshold-label" x="{RISK_LEFT + plot_w - 4}" y="{y_t - 5:.1f}" text-anchor="end">'
                 f'threshold {percent(threshold)}</text>')
    # the hourly risk
    parts.append(f'<g class="series risk-series" data-count="{len(points)}">')
    segments: list[list[str]] = []
    previous: datetime | None = None
    for when, risk, _ in points:
        if previous is None or when - previous > timedelta(hours=1, minutes=30):
            segments.append([])
        segments[-1].append(f"{x_of(when):.1f},{y_of(risk):.1f}")
        previous = when
    for seg in segments:
        if len(seg) > 1:
            parts.append(f'<polyline class="line" points="{" ".join(seg)}"/>')
    for when, risk, alert in points:
        level = "high" if risk >= threshold else "moderate" if risk >= threshold / 2 else "low"
        parts.append(f'<circle class="risk-point level-{level}" cx="{x_of(when):.1f}" cy="{y_of(risk):.1f}" r="2.4" '
                     f'data-risk="{risk:.4f}" data-time="{when.isoformat()}"><title>{when:%d %b %H:%M} UTC: sepsis risk '
                     f'{percent(risk)} ({level})</title></circle>')
    parts.append("</g>")
    parts.append('<g class="alerts">')
    for when, risk, alert in points:
        if alert:
            x, y = x_of(when), y_of(risk)
            parts.append(f'<g class="alert-marker" data-time="{when.isoformat()}" data-risk="{risk:.4f}">'
                         f'<title>Alert at {when:%d %b %H:%M} UTC: risk {percent(risk)}</title>'
                         f'<circle class="alert-dot" cx="{x:.1f}" cy="{y:.1f}" r="5"/>'
                         f'<path class="alert-flag" d="M{x - 5:.1f},{RISK_TOP + 1} L{x + 5:.1f},{RISK_TOP + 1} '
                         f'L{x:.1f},{RISK_TOP + 9} Z"/></g>')
    parts.append("</g>")
    if not points:
        parts.append(f'<text class="empty" x="{RISK_LEFT + plot_w / 2:.1f}" y="{RISK_TOP + RISK_PLOT / 2:.1f}" '
                     f'text-anchor="middle">no risk scores in this window</text>')
    for tick in major:
        x = x_of(tick)
        label = f"{tick:%d %b}" if tick.hour == 0 and (end - start) > timedelta(hours=36) else f"{tick:%H:%M}"
        parts.append(f'<line class="xtick" x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}"/>'
                     f'<text class="xlabel date" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{label}</text>')
    parts.append(f'<text class="axis-title" x="8" y="{bottom + 16}">UTC</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def risk_sparkline(risks, threshold: float, width: int = 120, height: int = 28) -> Markup:
    """A small trend of the last hours' risk for a table cell: the line, the threshold dashed, the last value as a dot."""
    values = [float(r) for r in risks if not math.isnan(float(r))]
    top_p = _risk_top(values, threshold)
    pad = 3

    def y_of(p: float) -> float:
        return height - pad - (height - 2 * pad) * min(max(p, 0.0), top_p) / top_p

    def x_of(i: int) -> float:
        return pad + (width - 2 * pad) * (i / (len(values) - 1) if len(values) > 1 else 1.0)

    parts = [f'<svg class="sparkline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'xmlns="http://www.w3.org/2000/svg" data-points="{len(values)}" '
             f'aria-label="Sepsis risk over the last {len(values)} hours">',
             f'<line class="threshold" x1="0" y1="{y_of(threshold):.1f}" x2="{width}" y2="{y_of(threshold):.1f}" '
             f'stroke-dasharray="3 2"/>']
    if len(values) > 1:
        line = " ".join(f"{x_of(i):.1f},{y_of(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline class="line" points="{line}"/>')
    if values:
        level = "high" if values[-1] >= threshold else "moderate" if values[-1] >= threshold / 2 else "low"
        parts.append(f'<circle class="last level-{level}" cx="{x_of(len(values) - 1):.1f}" cy="{y_of(values[-1]):.1f}" r="2.6"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
