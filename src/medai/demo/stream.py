"""Live replay: future vital signs that continue each patient's recent course.

The stream reads only the bundles, not the generator's hidden state, so it also works for
bundles that came from elsewhere.  For every vital sign it fits the last 24 h of charted
values with level + linear trend + a 24-hour cosine, then extrapolates: the trend is
damped (time constant 12 h), the circadian wave repeats, and the residual continues as
AR(1) noise.  A deteriorating patient therefore keeps deteriorating for a while, a
recovering one keeps settling, and a stable one wanders around its level.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from medai.demo import physiology as ph
from medai.demo.generator import aware, new_uuid, observation

TAU_H = 12.0
MAX_SLOPE = {"hr": 2.5, "rr": 0.8, "spo2": 0.4, "temp": 0.12, "sbp": 2.5, "dbp": 1.5,
             "lactate": 0.15, "wbc": 0.5, "creat": 0.05, "plt": 6, "bili": 0.06, "glucose": 4}
SD_RANGE = {"hr": (2, 9), "rr": (0.8, 2.5), "spo2": (0.5, 1.5), "temp": (0.1, 0.3), "sbp": (4, 10),
            "dbp": (3, 7)}


@dataclass
class _Series:
    level: float
    slope: float
    cos: float
    sin: float
    sd: float
    resid: float

    def at(self, dt_h: float, hour_of_day: float) -> float:
        angle = 2 * math.pi * hour_of_day / 24
        trend = self.slope * TAU_H * (1 - math.exp(-dt_h / TAU_H))
        return self.level + trend + self.cos * math.cos(angle) + self.sin * math.sin(angle)


def _hod(dt: datetime) -> float:
    return dt.hour + dt.minute / 60


def _fit(key: str, points: list[tuple[datetime, float]], t0: datetime, circadian: bool) -> _Series:
    recent = [(t, v) for t, v in points if (t0 - t) <= timedelta(hours=24)] or points[-3:]
    t = np.array([(w - t0).total_seconds() / 3600 for w, _ in recent])
    y = np.array([v for _, v in recent], dtype=float)
    names, cols = ["level"], [np.ones_like(t)]
    if len(y) >= 3 and np.ptp(t) >= 2:
        names, cols = names + ["slope"], cols + [t]
    if circadian and len(y) >= 8:
        angle = 2 * np.pi * np.array([_hod(w) for w, _ in recent]) / 24
        names, cols = names + ["cos", "sin"], cols + [np.cos(angle), np.sin(angle)]
    x = np.column_stack(cols)
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    resid = y - x @ beta
    coef = dict(zip(names, beta))
    lo, hi = SD_RANGE.get(key, (ph.NOISE[key], ph.NOISE[key]))
    slope = float(np.clip(coef.get("slope", 0.0), -MAX_SLOPE[key], MAX_SLOPE[key]))
    sd = float(np.clip(resid.std() if len(y) > len(beta) else 0.0, lo, hi))
    return _Series(float(coef["level"]), slope, float(coef.get("cos", 0.0)), float(coef.get("sin", 0.0)), sd,
                   float(resid[-1]))


def _patient_events(index: int, bundle: dict, start: datetime, end: datetime, seed: int,
                    include_labs: bool) -> Iterator[tuple[tuple, str, dict]]:
    resources = [e["resource"] for e in bundle.get("entry", [])]
    patient = next((r for r in resources if r["resourceType"] == "Patient"), None)
    if patient is None:
        return
    enc = next((r for r in resources if r["resourceType"] == "Encounter"), None)
    subject, encounter = f"Patient/{patient['id']}", (f"Encounter/{enc['id']}" if enc else None)
    series: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for r in resources:
        if r["resourceType"] != "Observation" or "valueQuantity" not in r:
            continue
        m = next((ph.BY_LOINC[c["code"]] for c in r["code"]["coding"] if c["code"] in ph.BY_LOINC), None)
        if m is not None and m.key != "map":
            series[m.key].append((aware(datetime.fromisoformat(r["effectiveDateTime"])), r["valueQuantity"]["value"]))
    rng = random.Random(f"medai-demo-stream/{seed}/{patient['id']}")
    queue: list[tuple[datetime, dict[str, float]]] = []
    vitals = [k for k in ph.SIMULATED_VITALS if series.get(k)]
    if vitals:
        for k in vitals:
            series[k].sort()
        t0 = max(series[k][-1][0] for k in vitals)
        fits = {k: _fit(k, series[k], t0, circadian=True) for k in vitals}
        innovation = math.sqrt(1 - ph.PHI ** 2)
        when = t0 + timedelta(hours=1)
        while when <= end:
            raw = {}
            for k, f in fits.items():
                f.resid = ph.PHI * f.resid + f.sd * innovation * rng.gauss(0, 1)
                raw[k] = f.at((when - t0).total_seconds() / 3600, _hod(when)) + f.resid
            if when > start and rng.random() >= 0.04:  # a skipped row now and then
                row = ph.finish_row(raw)
                if rng.random() < 0.10:
                    row.pop("temp", None)
                queue.append((when, row))
            when += timedelta(hours=1)
    labs = [k for k in ph.LAB_KEYS if series.get(k)]
    if include_labs and labs:
        for k in labs:
            series[k].sort()
        t0 = max(series[k][-1][0] for k in labs)
        fits = {k: _fit(k, series[k], t0, circadian=False) for k in labs}
        when = t0 + timedelta(hours=rng.uniform(6, 12))
        while when <= end:
            dt_h = (when - t0).total_seconds() / 3600
            if when > start:
                queue.append((when.replace(second=0, microsecond=0),
                              ph.finish_row({k: f.at(dt_h, 0) + rng.gauss(0, ph.NOISE[k]) for k, f in fits.items()})))
            when += timedelta(hours=rng.uniform(6, 12))
    queue.sort(key=lambda e: e[0])
    seq = 0
    for when, row in queue:
        for key, value in row.items():
            obs = observation(new_uuid(rng), ph.MEASURES[key], value, when, subject, encounter)
            seq += 1
            yield (when, index, seq), patient["id"], obs


def vital_stream(bundles: Iterable[dict], start: datetime, hours: int, seed: int = 0, *,
                 include_labs: bool = False) -> Iterator[tuple[str, dict]]:
    """Yield ``(patient_id, Observation)`` for the ``hours`` after ``start``, in time order.

    ``patient_id`` is the ``Patient.id`` in the bundle; each Observation references
    ``Patient/<id>`` (and ``Encounter/<id>``), ready to POST one by one.  Vital signs come
    hourly on each patient's own charting minute; with ``include_labs`` the six labs also
    continue every 6-12 h.  ``start`` is normally the ``now`` the bundles were generated
    with; a naive ``start`` is taken as UTC.
    """
    start = aware(start)
    end = start + timedelta(hours=hours)
    streams = [_patient_events(i, b, start, end, seed, include_labs) for i, b in enumerate(bundles)]
    for _, patient_id, obs in heapq.merge(*streams, key=lambda e: e[0]):
        yield patient_id, obs
