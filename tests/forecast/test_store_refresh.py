"""Stored forecast runs and the scheduled refresh: new data is forecast and stored once, bad files are reported."""

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select

from medai.errors import NotFound
from medai.forecast import store
from medai.forecast.refresh import Source, refresh, run_flu, watch
from medai.store.schema import audit_log

from .conftest import START, flu_rows

AS_OF = START + timedelta(weeks=110)


def _csv(rows) -> bytes:
    lines = ["date,location,location_name,value,weekly_rate"]
    lines += [f"{r.date},{r.location},x,{'NA' if r.value is None else int(r.value)},0" for r in rows]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def sqlite_engine(tmp_path):
    from medai.store.db import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'forecast.db'}")
    migrate(engine)
    return engine


def test_a_run_round_trips_through_the_store(sqlite_engine, flu_model):
    result = run_flu(sqlite_engine, _csv(flu_rows()), "target.csv", AS_OF, flu_model)
    assert result.status == "stored"
    with sqlite_engine.connect() as connection:
        run = store.load_run(connection, result.run_id)
        assert store.latest_run_id(connection, "flu") == result.run_id
        assert [r["id"] for r in store.list_runs(connection, "flu")] == [result.run_id]
        with pytest.raises(NotFound):
            store.load_run(connection, "nope")
        actions = [row.action for row in connection.execute(select(audit_log.c.action))]
    assert run.kind == "flu" and run.forecast.reference_date == AS_OF and run.source == "target.csv"
    assert run.forecast.values.shape == (5, 4, 23) and not np.isnan(run.forecast.values).any()
    assert run.identity == flu_model.identity
    assert len(run.observed["US"]) == 26 and run.observed["US"][-1][0] == (AS_OF - timedelta(weeks=1)).isoformat()
    assert actions == ["forecast:refresh"]


def test_refresh_stores_new_data_once_and_reports_bad_files(sqlite_engine, flu_model, tmp_path):
    good, bad = tmp_path / "target.csv", tmp_path / "broken.csv"
    good.write_bytes(_csv(flu_rows()))
    bad.write_text("date,location,value\n2024-01-06,US,-3\n")
    sources = [Source("flu", good), Source("flu", bad)]
    first = refresh(sqlite_engine, sources, {"flu": flu_model}, as_of=lambda: AS_OF)
    assert [r.status for r in first] == ["stored", "failed"] and "negative" in first[1].message
    again = refresh(sqlite_engine, sources[:1], {"flu": flu_model}, as_of=lambda: AS_OF)
    assert again[0].status == "unchanged"
    good.write_bytes(_csv(flu_rows(seed=9)))  # new data arrives
    reports = []
    watch(sqlite_engine, sources[:1], {"flu": flu_model}, interval=0, report=reports.append, rounds=1, as_of=lambda: AS_OF)
    assert [r.status for r in reports] == ["stored"]
    with sqlite_engine.connect() as connection:
        assert len(store.list_runs(connection, "flu")) == 2
