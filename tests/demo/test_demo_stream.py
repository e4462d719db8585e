import statistics
from datetime import datetime, timedelta, timezone

from fhir.resources.R4B import get_fhir_model_class

from medai.demo import vital_stream

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)  # the fixtures' `now`


def _code(obs):
    return obs["code"]["coding"][0]["code"]


def test_stream_continues_in_time_order(hospital):
    events = list(vital_stream(hospital, NOW, 6, seed=1))
    times = [datetime.fromisoformat(o["effectiveDateTime"]) for _, o in events]
    assert times == sorted(times)
    assert NOW < times[0] and times[-1] <= NOW + timedelta(hours=6)
    patient_ids = {b["entry"][0]["resource"]["id"] for b in hospital}
    assert {pid for pid, _ in events} == patient_ids
    for pid, obs in events:
        assert obs["subject"]["reference"] == f"Patient/{pid}"
        assert obs["category"][0]["coding"][0]["code"] == "vital-signs"
    per_patient = {pid: sum(1 for p, o in events if p == pid and _code(o) == "8867-4") for pid in patient_ids}
    assert min(per_patient.values()) >= 4 and max(per_patient.values()) <= 6
    ids = [o["id"] for _, o in events]
    assert len(ids) == len(set(ids))


def test_stream_resources_validate_and_are_reproducible(hospital):
    events = list(vital_stream(hospital[:4], NOW, 4, seed=2, include_labs=True))
    for _, obs in events:
        get_fhir_model_class("Observation").model_validate(obs)
    assert events == list(vital_stream(hospital[:4], NOW, 4, seed=2, include_labs=True))
    assert events != list(vital_stream(hospital[:4], NOW, 4, seed=3, include_labs=True))


def test_labs_continue_on_request(hospital):
    events = list(vital_stream(hospital, NOW.replace(tzinfo=None), 24, seed=1, include_labs=True))
    labs = [o for _, o in events if o["category"][0]["coding"][0]["code"] == "laboratory"]
    assert labs and {_code(o) for o in labs} == {"2524-7", "6690-2", "2160-0", "777-3", "1975-2", "2345-7"}


def test_stream_keeps_each_patients_course(hospital, trajectories):
    kind = {b["entry"][0]["resource"]["id"]: t for b, t in zip(hospital, trajectories)}
    hr: dict[str, list[float]] = {}
    for pid, obs in vital_stream(hospital, NOW, 12, seed=5):
        code = _code(obs)
        value = obs["valueQuantity"]["value"]
        if code == "8867-4":
            hr.setdefault(kind[pid], []).append(value)
        limits = {"8867-4": (30, 200), "9279-1": (6, 45), "59408-5": (70, 100), "8310-5": (34, 42),
                  "8480-6": (60, 220), "8462-4": (25, 130), "8478-0": (40, 160)}[code]
        assert limits[0] <= value <= limits[1]
    assert statistics.mean(hr["deteriorating"]) > statistics.mean(hr["stable"]) + 10
