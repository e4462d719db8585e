"""The forecast pages: the flu fan chart per location and the capacity dashboard, through the test client and in
headless Chromium. The app mounts the forecast application; tiny test models stand in for the packages.

Screenshots go to the test's tmp_path, and also to ``$MEDAI_UI_SCREENSHOTS`` when that is set.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from medai.forecast.census import parse_census_csv
from tests.forecast.conftest import START, census_model_for, census_text, flu_rows, trained_flu_model
from tests.forecast.test_store_refresh import _csv
from tests.service.ui.test_ui_browser import _screenshot, _serve, _sign_in, browser  # noqa: F401 (fixture)

AS_OF = (START + timedelta(weeks=110)).isoformat()
CENSUS_AS_OF = "2024-03-30"


@pytest.fixture
def forecast_mounted(monkeypatch):
    """Mount the forecast application and use the tiny flu and census models."""
    from medai.service import app as app_module
    from medai.service.applications import installed_applications
    from medai.service.routers import forecast as forecast_router
    from medai.service.routers.forecast import forecast_application

    monkeypatch.setattr(app_module, "installed_applications", lambda: [*installed_applications(), forecast_application()])
    monkeypatch.setattr(forecast_router, "_models", {"flu": trained_flu_model(),
                                                     "census": census_model_for(parse_census_csv(census_text()))})


@pytest.fixture
def forecast_client(forecast_mounted, tmp_path):
    """A test client (no redirects followed) signed in as the clinician ``drsmith``."""
    from fastapi.testclient import TestClient

    from medai.config import Settings
    from medai.service.app import create_app
    from medai.store.accounts import add_user

    app = create_app(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/ui.db", base_url="http://testserver"))
    with app.state.engine.begin() as connection:
        add_user(connection, "drsmith", "clinician", password="a long test password")
        add_user(connection, "alice", "patient", password="a long test password", patient_id="p-1")
    with TestClient(app, follow_redirects=False) as client:
        yield client


def _login(client, username="drsmith"):
    response = client.post("/ui/login", data={"username": username, "password": "a long test password"})
    assert response.status_code == 303


def test_flu_page_runs_a_forecast_and_draws_the_fan_chart(forecast_client):
    _login(forecast_client)
    empty = forecast_client.get("/ui/forecast")
    assert empty.status_code == 200 and 'id="forecast-empty"' in empty.text
    posted = forecast_client.post("/ui/forecast", data={"as_of": AS_OF}, files={"file": ("t.csv", _csv(flu_rows()), "text/csv")})
    assert posted.status_code == 303 and posted.headers["location"].startswith("/ui/forecast/runs/")
    page = forecast_client.get(forecast_client.get(posted.headers["location"]).headers["location"])
    assert page.status_code == 200
    for band in ("band-95", "band-80", "band-50"):
        assert f'class="band {band}"' in page.text
    assert page.text.count('class="median-point"') == 4 and page.text.count('class="observed"') == 26
    assert re.search(r'<tr data-horizon="3" data-median="[0-9.]+">', page.text)
    texas = forecast_client.get("/ui/forecast?location=48")
    assert "<h2 id=\"chart-heading\">Texas</h2>" in texas.text


def test_bad_upload_shows_the_form_again_with_the_problem(forecast_client):
    _login(forecast_client)
    response = forecast_client.post("/ui/forecast", data={"as_of": AS_OF},
                                    files={"file": ("t.csv", b"date,location,value\n2024-01-06,US,-4\n", "text/csv")})
    assert response.status_code == 422 and 'id="forecast-error"' in response.text and "cannot be negative" in response.text


def test_capacity_dashboard_ranks_series_and_plans_staff(forecast_client):
    _login(forecast_client)
    posted = forecast_client.post("/ui/forecast/capacity", data={"as_of": CENSUS_AS_OF, "horizon": "7"},
                                  files={"file": ("census.csv", census_text().encode(), "text/csv")})
    assert posted.status_code == 303
    page = forecast_client.get("/ui/forecast/capacity?series=Ward%20B/icu")
    assert page.status_code == 200
    assert page.text.count("<tr data-series=") == 2 and 'class="capacity"' in page.text
    assert page.text.count("<tr data-horizon=") == 7 and "2 patients per nurse" in page.text


def test_patients_may_not_see_forecasts(forecast_client):
    _login(forecast_client, "alice")
    assert forecast_client.get("/ui/forecast").status_code == 403
    assert forecast_client.get("/ui/forecast/capacity").status_code == 403


@pytest.fixture
def forecast_server(tmp_path, forecast_mounted):
    """The app with the forecast pages on a free port and the clinician ``drsmith``."""
    yield from _serve(tmp_path, [])


@pytest.mark.browser
def test_planner_runs_forecasts_and_reads_fan_charts_in_chromium(forecast_server, browser, tmp_path):  # noqa: F811
    target, census = tmp_path / "target.csv", tmp_path / "census.csv"
    target.write_bytes(_csv(flu_rows()))
    census.write_text(census_text())
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.set_default_timeout(30_000)
    _sign_in(page, forecast_server, "/ui/forecast")

    page.set_input_files("#forecast-file", str(target))
    page.fill("#forecast-as-of", AS_OF)
    page.click("#forecast-submit")
    page.wait_for_url("**/ui/forecast?run=*")
    chart = page.locator("#fan-chart")
    chart.wait_for(state="visible")
    assert chart.bounding_box()["width"] > 600
    assert page.locator("#fan-chart polygon.band").count() == 3 and page.locator("#fan-chart circle.median-point").count() == 4
    assert page.locator("#reference-date").inner_text() == AS_OF
    assert page.locator("#forecast-table tbody tr").count() == 4
    us_median = page.locator("#forecast-table tbody tr").first.get_attribute("data-median")
    _screenshot(page, tmp_path, "forecast-flu.png", full_page=True)
    page.select_option("#location", "06")
    page.wait_for_url("**location=06*")
    assert page.locator("#chart-heading").inner_text() == "California"
    assert page.locator("#forecast-table tbody tr").first.get_attribute("data-median") != us_median

    page.click("#capacity-link")
    page.wait_for_url("**/ui/forecast/capacity")
    page.set_input_files("#forecast-file", str(census))
    page.fill("#forecast-as-of", CENSUS_AS_OF)
    page.fill("#forecast-horizon", "7")
    page.click("#forecast-submit")
    page.wait_for_url("**/ui/forecast/capacity?run=*")
    assert page.locator("#capacity-ranking tbody tr").count() == 2
    page.locator("#capacity-ranking a", has_text="Ward B/icu").click()
    page.wait_for_url("**series=Ward**")
    assert page.locator("#fan-chart line.capacity").count() == 1
    assert page.locator("#staffing-table tbody tr").count() == 7
    nurses = [int(n) for n in page.locator("#staffing-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.nurses)")]
    assert all(n >= 1 for n in nurses)
    assert _screenshot(page, tmp_path, "forecast-capacity.png", full_page=True).stat().st_size > 20_000
    page.close()
