"""Physiology of the synthetic patients.

Every patient has a personal baseline (age, ward and conditions shift it), an AR(1) noise
process around it, a circadian drift, and a *trajectory*:

- ``stable``: baseline only;
- ``deteriorating``: a sepsis-like course that starts 12-24 h before ``now`` and keeps
  growing: heart and respiratory rate and temperature rise, blood pressure falls,
  lactate, white cells, creatinine and bilirubin rise, platelets fall;
- ``recovering``: admitted sick, the same derangements decay towards baseline.

Times are hours relative to ``now`` (negative in the past).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from medai.demo.catalog import ICU, ConditionDef

STABLE, DETERIORATING, RECOVERING = "stable", "deteriorating", "recovering"
TRAJECTORIES = (STABLE, DETERIORATING, RECOVERING)
PHI = 0.6  # hour-to-hour autocorrelation of the vital-sign noise


@dataclass(frozen=True)
class Measure:
    key: str
    loinc: str
    display: str
    unit: str  # UCUM code, also used as the display unit
    decimals: int
    lo: float  # plausible range; simulated values are clipped to it
    hi: float
    category: str  # "vital-signs" or "laboratory"
    ref: tuple[float, float] | None = None  # reference range (labs)


VITALS: tuple[Measure, ...] = (
    Measure("hr", "8867-4", "Heart rate", "/min", 0, 35, 180, "vital-signs"),
    Measure("rr", "9279-1", "Respiratory rate", "/min", 0, 8, 42, "vital-signs"),
    Measure("spo2", "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", 0, 78, 100,
            "vital-signs"),
    Measure("temp", "8310-5", "Body temperature", "Cel", 1, 34.5, 41.0, "vital-signs"),
    Measure("sbp", "8480-6", "Systolic blood pressure", "mm[Hg]", 0, 65, 210, "vital-signs"),
    Measure("dbp", "8462-4", "Diastolic blood pressure", "mm[Hg]", 0, 30, 120, "vital-signs"),
    Measure("map", "8478-0", "Mean blood pressure", "mm[Hg]", 0, 40, 150, "vital-signs"),
)
LABS: tuple[Measure, ...] = (
    Measure("lactate", "2524-7", "Lactate [Moles/volume] in Serum or Plasma", "mmol/L", 1, 0.3, 14, "laboratory",
            (0.5, 2.0)),
    Measure("wbc", "6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", 1, 0.5, 45,
            "laboratory", (4.0, 11.0)),
    Measure("creat", "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 2, 0.3, 9, "laboratory",
            (0.6, 1.3)),
    Measure("plt", "777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", 0, 10, 800,
            "laboratory", (150, 400)),
    Measure("bili", "1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma", "mg/dL", 1, 0.1, 15,
            "laboratory", (0.1, 1.2)),
    Measure("glucose", "2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 0, 40, 500, "laboratory",
            (70, 99)),
)
MEASURES: dict[str, Measure] = {m.key: m for m in VITALS + LABS}
BY_LOINC: dict[str, Measure] = {m.loinc: m for m in VITALS + LABS}
SIMULATED_VITALS = ("hr", "rr", "spo2", "temp", "sbp", "dbp")  # mean pressure is derived
LAB_KEYS = tuple(m.key for m in LABS)

# Change at full severity (1.0); blood pressures and platelets change by a fraction of baseline.
RELATIVE = frozenset({"sbp", "dbp", "plt"})
EFFECT = {"hr": 40, "rr": 10, "spo2": -4, "temp": 1.7, "sbp": -0.27, "dbp": -0.22,
          "lactate": 3.0, "wbc": 9, "creat": 0.8, "plt": -0.45, "bili": 1.2, "glucose": 40}
CIRCADIAN = {"hr": (4, 16), "rr": (1, 15), "spo2": (0.4, 14), "temp": (0.25, 18), "sbp": (5, 15), "dbp": (3, 15)}
NOISE = {"hr": 4, "rr": 1.3, "spo2": 0.9, "temp": 0.18, "sbp": 7, "dbp": 5,
         "lactate": 0.12, "wbc": 0.5, "creat": 0.05, "plt": 12, "bili": 0.08, "glucose": 12}
BASELINE_RANGE = {"hr": (55, 115), "rr": (11, 24), "spo2": (88, 99.5), "temp": (36.2, 37.4), "sbp": (95, 170),
                  "dbp": (55, 100), "lactate": (0.5, 2.2), "wbc": (3.5, 13), "creat": (0.5, 3.2),
                  "plt": (130, 420), "bili": (0.2, 2.0), "glucose": (75, 230)}
SEVERITY_CAP = 1.4


def assign_trajectories(n_patients: int, rng: random.Random) -> list[str]:
    """About 60% stable, 25% deteriorating, 15% recovering, in a shuffled order."""
    n_det, n_rec = round(0.25 * n_patients), round(0.15 * n_patients)
    out = [DETERIORATING] * n_det + [RECOVERING] * n_rec
    out += [STABLE] * (n_patients - len(out))
    rng.shuffle(out)
    return out


@dataclass
class Physiology:
    trajectory: str
    baseline: dict[str, float]
    noise: dict[str, float]
    admit_h: float
    onset_h: float = 0.0  # deteriorating: when it began
    amplitude: float = 0.0  # severity at now (deteriorating) or at admission (recovering)
    tau_h: float = 20.0  # recovering: decay time constant
    state: dict[str, float] = field(default_factory=dict)  # AR(1) noise

    def severity(self, t_h: float) -> float:
        if self.trajectory == DETERIORATING:
            if t_h <= self.onset_h:
                return 0.0
            return min(SEVERITY_CAP, self.amplitude * ((t_h - self.onset_h) / -self.onset_h) ** 1.2)
        if self.trajectory == RECOVERING:
            return self.amplitude * math.exp(-max(0.0, t_h - self.admit_h) / self.tau_h)
        return 0.0

    def expected(self, key: str, t_h: float, hour_of_day: float) -> float:
        """Noise-free value of a measure at a time."""
        s, base = self.severity(t_h), self.baseline[key]
        value = base * (1 + EFFECT[key] * s) if key in RELATIVE else base + EFFECT[key] * s
        if key in CIRCADIAN:
            amp, peak = CIRCADIAN[key]
            value += amp * math.cos(2 * math.pi * (hour_of_day - peak) / 24)
        return value

    def expected_row(self, t_h: float, hour_of_day: float) -> dict[str, float]:
        return finish_row({k: self.expected(k, t_h, hour_of_day) for k in SIMULATED_VITALS + LAB_KEYS})


def make_physiology(rng: random.Random, trajectory: str, unit: str, conditions: list[ConditionDef],
                    age: int, admit_h: float) -> Physiology:
    g = rng.gauss
    base = {"hr": g(78, 8), "rr": g(16, 1.5), "spo2": g(96.8, 1.0), "temp": g(36.8, 0.2),
            "sbp": g(120 + 0.25 * (age - 50), 11), "dbp": g(74, 6), "lactate": g(1.1, 0.25), "wbc": g(7.5, 1.6),
            "creat": g(0.9, 0.15), "plt": g(250, 50), "bili": g(0.6, 0.18), "glucose": g(104, 10)}
    if unit == ICU:
        for k, d in (("hr", 8), ("rr", 3), ("spo2", -1.5), ("lactate", 0.4)):
            base[k] += d
    for cond in conditions:
        for k, d in cond.shifts:
            base[k] += d
    base = {k: min(max(v, BASELINE_RANGE[k][0]), BASELINE_RANGE[k][1]) for k, v in base.items()}
    base["dbp"] = min(base["dbp"], base["sbp"] - 35)
    noise = dict(NOISE)
    keys = {c.key for c in conditions}
    if keys & {"afib", "chronic_afib"}:
        noise["hr"] = 8.0  # irregular rhythm
    if "diabetes" in keys:
        noise["glucose"] = 28.0
    phys = Physiology(trajectory, base, noise, admit_h)
    if trajectory == DETERIORATING:
        phys.onset_h = max(-rng.uniform(14, 24), admit_h + 2)
        phys.amplitude = rng.uniform(0.75, 1.0)
    elif trajectory == RECOVERING:
        phys.amplitude, phys.tau_h = rng.uniform(0.7, 1.0), rng.uniform(14, 26)
    phys.state = {k: rng.gauss(0, noise[k]) for k in SIMULATED_VITALS}
    return phys


def finish_row(raw: dict[str, float]) -> dict[str, float]:
    """Clip to plausible ranges, round like a chart, keep diastolic below systolic, derive MAP."""
    row: dict[str, float] = {}
    for k, v in raw.items():
        m = MEASURES[k]
        v = round(min(max(v, m.lo), m.hi), m.decimals)
        row[k] = int(v) if m.decimals == 0 else v
    if "sbp" in row and "dbp" in row:
        row["dbp"] = max(MEASURES["dbp"].lo, min(row["dbp"], row["sbp"] - 20))
        row["map"] = int(round((row["sbp"] + 2 * row["dbp"]) / 3))
    return row


def vital_rows(phys: Physiology, rng: random.Random,
               times: list[tuple[float, float]]) -> list[dict[str, float] | None]:
    """Hourly charted vitals at ``times`` (t_h, hour of day); ``None`` where a row was skipped.

    A few single measurements are missing too (temperature most often), like real charts.
    """
    rows: list[dict[str, float] | None] = []
    innovation = math.sqrt(1 - PHI ** 2)
    for t_h, hod in times:
        raw = {}
        for k in SIMULATED_VITALS:
            phys.state[k] = PHI * phys.state[k] + phys.noise[k] * innovation * rng.gauss(0, 1)
            raw[k] = phys.expected(k, t_h, hod) + phys.state[k]
        if rng.random() < 0.04:
            rows.append(None)
            continue
        row = finish_row(raw)
        if rng.random() < 0.10:
            del row["temp"]
        if rng.random() < 0.02:
            del row[rng.choice(("hr", "rr", "spo2"))]
        rows.append(row)
    return rows


def lab_panel(phys: Physiology, rng: random.Random, t_h: float) -> dict[str, float]:
    raw = {k: phys.expected(k, t_h, 0.0) + rng.gauss(0, phys.noise[k]) for k in LAB_KEYS}
    return finish_row(raw)


def lab_times(rng: random.Random, start_h: float, end_h: float) -> list[float]:
    """Draw times every 6-12 h between ``start_h`` and ``end_h``."""
    out, t = [], start_h + rng.uniform(0.5, 6)
    while t <= end_h:
        out.append(t)
        t += rng.uniform(6, 12)
    return out
