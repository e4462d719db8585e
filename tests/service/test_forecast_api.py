"""The forecast API: run flu and census forecasts on uploads, store them, list, read, download, staff, scenarios.

The app is built with the forecast application mounted and the tiny test models in place of the packages.
"""

import csv
import io
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from medai.forecast.census import parse_census_csv
from medai.store.schema import audit_log, forecast_runs
from tests.forecast.conftest import START, census_model_for, census_text, flu_rows, trained_flu_model
from tests.forecast.test_store_refresh import _csv

AS_OF = (START + timedelta(weeks=110)).isoformat()


@pytest.fixture
def forecast_service(tmp_path, monkeypatch):
    """(client, tokens by role, app) with the forecast application mounted and tiny models installed."""
    from medai.config import Settings
    from medai.service import app as app_module
    from medai.service.applications import installed_applications
    from medai.service.routers import forecast as forecast_router
    from medai.service.routers.forecast import forecast_application
    from medai.store.accounts import add_user, issue_token

    census = census_model_for(parse_census_csv(census_text()))
    monkeypatch.setattr(app_module, "installed_applications", lambda: [*installed_applications(), forecast_application()])
    monkeypatch.setattr(forecast_router, "_models", {"flu": trained_flu_model(), "census": census})
    app = app_module.create_app(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/api.db", base_url="http://testserver"))
    tokens = {}
    with app.state.engine.begin() as connection:
        for role in ("clinician", "admin", "service", "patient"):
            add_user(connection, role, role, password=f"{role}-password-1", patient_id="p-1" if role == "patient" else None)
            tokens[role] = issue_token(connection, role)[1]
    return TestClient(app), tokens, app


def _auth(tokens, role="clinician"):
    return {"Authorization": f"Bearer {tokens[role]}"}


def _post_flu(client, tokens, content: bytes, as_of: str = AS_OF, role: str = "clinician"):
    return client.post("/api/v1/forecast/flu", headers=_auth(tokens, role), data={"as_of": as_of},
                       files={"file": ("target.csv", content, "text/csv")})


def test_flu_forecast_is_stored_served_and_audited(forecast_service):
    client, tokens, app = forecast_service
    created = _post_flu(client, tokens, _csv(flu_rows()))
    assert created.status_code == 201, created.text
    run_id = created.json()["run_id"]
    listed = client.get("/api/v1/forecast/runs?kind=flu", headers=_auth(tokens)).json()
    assert [r["id"] for r in listed] == [run_id] and listed[0]["reference_date"] == AS_OF
    detail = client.get(f"/api/v1/forecast/runs/{run_id}", headers=_auth(tokens)).json()
    assert detail["model"]["model_id"] == "flu-forecast" and detail["horizons"] == [0, 1, 2, 3]
    us = detail["series"]["US"]
    assert [d["target_date"] for d in us][0] == AS_OF and set(us[0]["quantiles"]) >= {"0.025", "0.5", "0.975"}
    assert client.get("/api/v1/forecast/runs/latest-flu", headers=_auth(tokens)).json()["run_id"] == run_id
    download = client.get(f"/api/v1/forecast/runs/{run_id}/csv", headers=_auth(tokens))
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert download.headers["content-type"].startswith("text/csv") and len(rows) == 5 * 4 * 23
    with app.state.engine.connect() as connection:
        actions = [row.action for row in connection.execute(select(audit_log.c.action))]
    assert "forecast:flu" in actions and "forecast:refresh" in actions and "read:forecast" in actions


@pytest.mark.parametrize("content,as_of,fragment", [
    (b"date,location,value\n2024-01-06,US,-3\n", AS_OF, "counts cannot be negative"),
    (b"date,location,value\n2024-01-06,US,1\n2024-01-06,US,2\n", "2024-01-06", "duplicated date"),
    (b"date,location,value\n2024-01-06,XX,1\n", "2024-01-06", "unknown location"),
    (b"date,location,value\n2024-01-06,US,1\n", "2024-06-01", "weeks after the last week"),
    (b"date,location,value\n2024-01-06,US,1\n", "yesterday", "not a date"),
])
def test_bad_uploads_get_422_with_the_problem_and_store_nothing(forecast_service, content, as_of, fragment):
    client, tokens, app = forecast_service
    response = _post_flu(client, tokens, content, as_of)
    assert response.status_code == 422 and response.json()["resourceType"] == "OperationOutcome"
    assert fragment in response.text
    with app.state.engine.connect() as connection:
        assert connection.execute(select(forecast_runs)).first() is None


def test_patients_may_not_forecast_or_read_forecasts(forecast_service):
    client, tokens, _ = forecast_service
    assert _post_flu(client, tokens, _csv(flu_rows()), role="patient").status_code == 403
    assert client.get("/api/v1/forecast/runs", headers=_auth(tokens, "patient")).status_code == 403
    assert client.get("/api/v1/forecast/runs").status_code == 401


def test_census_forecast_staffing_and_scenario(forecast_service):
    client, tokens, _ = forecast_service
    files = {"file": ("census.csv", census_text().encode(), "text/csv")}
    created = client.post("/api/v1/forecast/census", headers=_auth(tokens, "service"),
                          data={"as_of": "2024-03-30", "horizon": "7"}, files=files)
    assert created.status_code == 201, created.text
    run_id = created.json()["run_id"]
    detail = client.get(f"/api/v1/forecast/runs/{run_id}", headers=_auth(tokens)).json()
    assert detail["horizons"] == list(range(1, 8)) and detail["capacity"] == {"Ward A/inpatient": 24.0, "Ward B/icu": 34.0}
    plan = client.get(f"/api/v1/forecast/runs/{run_id}/staffing?planning_level=0.9", headers=_auth(tokens)).json()
    assert len(plan) == 14 and {row["unit_type"] for row in plan} == {"med_surg", "icu"}
    assert all(0 <= row["p_over_capacity"] <= 1 for row in plan)
    scenario = client.post("/api/v1/forecast/scenario", headers=_auth(tokens),
                           data={"series": "Ward B/icu", "as_of": "2024-03-30", "uplift": "0.3", "horizon": "7"}, files=files)
    assert scenario.status_code == 200, scenario.text
    days = scenario.json()["days"]
    assert len(days) == 7 and days[-1]["median"] >= days[-1]["base_median"]
    flu_run = _post_flu(client, tokens, _csv(flu_rows())).json()["run_id"]
    assert client.get(f"/api/v1/forecast/runs/{flu_run}/staffing", headers=_auth(tokens)).status_code == 422
    assert client.get("/api/v1/forecast/runs/no-such-run", headers=_auth(tokens)).status_code == 404
