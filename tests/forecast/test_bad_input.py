"""The forecast's "bad input" clause: every case in one workspace, loaded from Brazilian exports, forecast and
replenished once; each case must give a sensible forecast or a clear, counted exclusion -- never a failed run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from shelfwise.cli import app
from shelfwise.ingest import LoadResult, ingest_files
from shelfwise.pipelines.forecasting import ForecastRun, ReplenishRun, run_forecast, run_replenish
from shelfwise.workspace import Workspace, init_workspace

from .samples import (
    CONSTANT,
    FAR_FUTURE,
    GAP_LEVEL,
    HEALTHY,
    HORIZON,
    NEAR_FUTURE,
    SETTINGS,
    TODAY,
    cases_workspace,
    configured_workspace,
    day_range,
    sales_csv,
    text_file,
    weekly_poisson,
)

pytestmark = pytest.mark.filterwarnings("ignore:Found null values in lag364")  # 200 days: no value a year back


@dataclass(frozen=True)
class Built:
    workspace: Workspace
    loads: dict[str, LoadResult]
    forecast: ForecastRun
    replenish: ReplenishRun


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    ws, loads = cases_workspace(tmp_path_factory.mktemp("bad_input"))
    forecast = run_forecast(ws, horizon=HORIZON, today=TODAY)
    replenish = run_replenish(ws, today=TODAY)
    return Built(ws, loads, forecast, replenish)


def series(built: Built, store: str, product: str) -> pd.DataFrame:
    frame = built.forecast.result.forecasts
    return frame[(frame["store_id"] == store) & (frame["product_id"] == product)]


def path_of(built: Built, store: str, product: str) -> pd.Series:
    info = built.forecast.result.series
    rows = info[(info["store_id"] == store) & (info["product_id"] == product)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def plan(built: Built, store: str, product: str) -> pd.Series:
    table = built.replenish.result.table
    rows = table[(table["store_id"] == store) & (table["product_id"] == product)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_both_runs_succeed_and_record_the_exclusions(built):
    with built.workspace.warehouse.connect() as con:
        runs = dict(con.execute("SELECT command, status FROM runs").fetchall())
        metrics = json.loads(con.execute("SELECT metrics FROM runs WHERE run_id = ?",
                                         [built.forecast.run_id]).fetchone()[0])
        stored = con.execute("SELECT count(*) FROM forecasts WHERE run_id = ?", [built.forecast.run_id]).fetchone()
    assert runs == {"forecast": "succeeded", "replenish": "succeeded"}
    assert {k: metrics[k] for k in ("series_no_demand", "series_borrowed", "future_rows_ignored", "no_product_record")
            } == {"series_no_demand": 2, "series_borrowed": 1, "future_rows_ignored": 1, "no_product_record": 1}
    assert stored == (len(built.forecast.result.forecasts),)


def test_every_series_is_forecast_for_the_horizon_with_ordered_finite_intervals(built):
    result = built.forecast.result
    forecasts = result.forecasts
    assert result.origin == TODAY
    expected = {*HEALTHY, ("L1", "UMA"), ("L1", "ZERO"), ("L1", "DEVOL"), ("L2", "CONST"), ("L1", "GAP"),
                ("L1", "SEMCAD")}
    assert set(zip(forecasts["store_id"], forecasts["product_id"], strict=True)) == expected
    assert (forecasts.groupby(["store_id", "product_id"]).size() == HORIZON).all()
    days = pd.date_range(TODAY + timedelta(days=1), periods=HORIZON)
    assert (forecasts.groupby(["store_id", "product_id"])["date"].apply(list).map(list(days).__eq__)).all()
    values = forecasts[["forecast", "lower_80", "upper_80", "lower_95", "upper_95"]].to_numpy(dtype=float)
    assert np.isfinite(values).all()
    assert (forecasts["lower_95"] >= 0).all()
    assert (forecasts["lower_95"] <= forecasts["lower_80"] + 1e-9).all()
    assert (forecasts["lower_80"] <= forecasts["forecast"] + 1e-9).all()
    assert (forecasts["forecast"] <= forecasts["upper_80"] + 1e-9).all()
    assert (forecasts["upper_80"] <= forecasts["upper_95"] + 1e-9).all()


def test_a_series_with_one_observation_borrows_from_its_category(built):
    assert path_of(built, "L1", "UMA")[["path", "model"]].tolist() == ["borrowed", "borrowed"]
    one = series(built, "L1", "UMA")
    assert (one["model"] == "borrowed").all()
    assert np.isfinite(one["forecast"]).all() and (one["forecast"] >= 0).all()
    # shrunk towards its peers (Mercearia in L1 sells 12 to 30 a day), not a copy of them, not its own 4/6 a day
    assert 1 < one["forecast"].mean() < 20
    assert built.forecast.result.counts["series_borrowed"] == 1


def test_series_that_never_sold_forecast_zero_and_are_counted(built):
    counts = built.forecast.result.counts
    assert counts["series_no_demand"] == 2 and counts["series_without_positive_sales"] == 2
    for product in ("ZERO", "DEVOL"):  # rows of 0 units; only returns (negative units)
        assert path_of(built, "L1", product)[["path", "model"]].tolist() == ["no_demand", "no_demand"]
        empty = series(built, "L1", product)
        assert len(empty) == HORIZON
        assert (empty["model"] == "no_demand").all()
        assert (empty[["forecast", "lower_80", "upper_80", "lower_95", "upper_95"]] == 0).all().all()
        row = plan(built, "L1", product)
        assert row["suggested_order"] == 0 and "zero_demand" in row["notes"]


def test_a_constant_series_forecasts_its_constant(built):
    flat = series(built, "L2", "CONST")
    assert path_of(built, "L2", "CONST")["path"] == "backtested"
    assert ((flat["forecast"] - CONSTANT).abs() <= 0.1 * CONSTANT).all(), flat["forecast"].tolist()


def test_a_series_back_after_three_months_away_forecasts_its_level_since(built):
    gap = series(built, "L1", "GAP")
    assert path_of(built, "L1", "GAP")["path"] == "backtested"
    assert gap["forecast"].notna().all()
    # back at GAP_LEVEL for seven weeks: the months of zeros in between must not drag the forecast down
    assert 0.7 * GAP_LEVEL <= gap["forecast"].mean() <= 1.3 * GAP_LEVEL, gap["forecast"].tolist()


def test_a_sale_dated_after_today_is_left_out_and_counted_or_quarantined(built):
    result = built.forecast.result
    assert result.counts["future_rows_ignored"] == 1
    assert result.origin == TODAY
    with built.workspace.warehouse.connect() as con:
        near = con.execute("SELECT units FROM sales WHERE date > ?", [TODAY]).fetchall()
        far = con.execute("SELECT reason, raw FROM quarantine WHERE load_id = ?",
                          [built.loads["sales"].load_id]).fetchall()
    assert near == [(500.0,)]
    assert len(far) == 1 and far[0][0] == f"Data (date): {FAR_FUTURE.isoformat()} está no futuro"
    assert '"Produto":"H2","Quantidade":"700"' in far[0][1]
    # the 500 units of tomorrow are not in the history: H1 in L1 still forecasts its usual ~20 a day
    assert series(built, "L1", "H1")["forecast"].max() < 60


def test_a_product_without_a_record_is_forecast_and_counted(built):
    result = built.forecast.result
    assert result.counts["no_product_record"] == 1
    assert path_of(built, "L1", "SEMCAD")["category"] == "(sem categoria)"
    assert len(series(built, "L1", "SEMCAD")) == HORIZON
    row = plan(built, "L1", "SEMCAD")
    assert "no_product_record" in row["notes"] and row["supplier_id"] == "unknown"


def test_a_store_without_a_stock_snapshot_gets_a_note_and_no_order(built):
    for product in ("H1", "H2"):
        row = plan(built, "L3", product)
        assert "no_stock_snapshot" in row["notes"]
        assert pd.isna(row["suggested_order"]) and pd.isna(row["on_hand"])
        assert row["demand_over_protection"] > 0
    assert built.replenish.result.counts["no_stock_snapshot"] == 2


def test_lead_times_of_zero_and_missing(built):
    zero = plan(built, "L1", "H2")
    assert zero["lead_time_days"] == 0 and zero["lead_time_source"] == "product" and not zero["lead_time_assumed"]
    assert zero["demand_over_lead_time"] == 0 and not zero["cover_shorter_than_lead_time"]
    missing = plan(built, "L1", "H3")
    assert missing["lead_time_assumed"] and missing["lead_time_days"] == 7
    assert "lead_time_assumed" in missing["notes"]
    from_product = plan(built, "L1", "H1")
    assert from_product["lead_time_days"] == 3 and not from_product["lead_time_assumed"]


def test_forecast_of_a_workspace_without_sales_exits_with_a_clear_message(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    products = text_file(tmp_path / "produtos.csv", "Código Produto;Descrição;Categoria", ["H1;Café;Mercearia"])
    ingest_files(ws, [products], today=TODAY)
    outcome = CliRunner().invoke(app, ["forecast", "-w", str(ws.root)])
    assert outcome.exit_code == 1, outcome.output
    said = " ".join(outcome.output.split())
    assert "Não há vendas até" in said and "shelfwise ingest" in said


def test_a_first_month_of_data_borrows_every_series_without_training_a_model(tmp_path):
    ws = configured_workspace(tmp_path / "ws", SETTINGS)
    days = day_range(TODAY, 30)  # younger than min_history_days: nothing to backtest or train on
    rows = [(d, "L1", product, u) for product, level in (("A", 5), ("B", 15))
            for d, u in zip(days, weekly_poisson(days, level, seed=level), strict=True) if u]
    ingest_files(ws, [sales_csv(tmp_path / "vendas.csv", rows)], today=TODAY)
    result = run_forecast(ws, today=TODAY).result
    assert result.counts["series_borrowed"] == 2 and result.counts["series_backtested"] == 0
    assert result.backtest.empty and result.origin == TODAY
    forecasts = result.forecasts
    assert len(forecasts) == 2 * HORIZON and (forecasts["model"] == "borrowed").all()
    assert np.isfinite(forecasts[["forecast", "lower_80", "upper_95"]].to_numpy(dtype=float)).all()
    level = forecasts.groupby("product_id")["forecast"].mean()
    assert level["A"] < level["B"]  # each other's peer: shrunk towards each other, still in order


def test_a_workspace_that_sold_nothing_forecasts_zero_from_today(tmp_path):
    ws = configured_workspace(tmp_path / "ws", SETTINGS)
    rows = [(d, "L1", "A", 0) for d in day_range(TODAY, 30)] + [(NEAR_FUTURE, "L1", "A", 0)]
    ingest_files(ws, [sales_csv(tmp_path / "vendas.csv", rows)], today=TODAY)
    result = run_forecast(ws, today=TODAY).result
    assert result.origin == TODAY  # not the zero row of tomorrow
    assert result.counts["series_no_demand"] == 1 and result.counts["future_rows_ignored"] == 1
    assert list(result.forecasts["date"]) == list(pd.date_range(NEAR_FUTURE, periods=HORIZON))
    assert (result.forecasts["forecast"] == 0).all()
