"""`shelfwise forecast` and `shelfwise replenish` as Python calls: run a capability, store its tables and files.

The warehouse is held for writing only to register a run and to store its results; the minutes of model fitting
run on frames read beforehand, so other commands (`shelfwise sql`, exports) are not locked out meanwhile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from shelfwise.forecast.automl import CHOSEN, ForecastResult, Progress, forecast_demand, load_inputs
from shelfwise.forecast.metrics import pooled
from shelfwise.replenish import (
    REPLENISHMENT_COLUMNS,
    ReplenishmentResult,
    email_draft,
    plan_replenishment,
    purchase_proposals,
    write_proposals_xlsx,
)
from shelfwise.runs import finish_run, start_run, store_rows
from shelfwise.workspace import Workspace

RESULT_DDL = """
CREATE TABLE IF NOT EXISTS forecasts (
    run_id VARCHAR, store_id VARCHAR, product_id VARCHAR, date DATE, forecast DOUBLE, lower_80 DOUBLE,
    upper_80 DOUBLE, lower_95 DOUBLE, upper_95 DOUBLE, model VARCHAR, demand_class VARCHAR, interval VARCHAR
);
CREATE TABLE IF NOT EXISTS forecast_backtest (
    run_id VARCHAR, store_id VARCHAR, product_id VARCHAR, model VARCHAR, cutoff DATE, days BIGINT, volume DOUBLE,
    wape DOUBLE, mase DOUBLE, bias DOUBLE, coverage_80 DOUBLE, coverage_95 DOUBLE, selected BOOLEAN
);
CREATE TABLE IF NOT EXISTS forecast_series (
    run_id VARCHAR, store_id VARCHAR, product_id VARCHAR, category VARCHAR, demand_class VARCHAR,
    history_days BIGINT, path VARCHAR, model VARCHAR
);
"""
"""`forecast_series` says, per series, how it was forecast: its class, its history and the path it took
(backtested, forecast_only, borrowed, no_demand) -- the counted exclusions of the report."""

REPORT_LEVELS = {"series": ["store_id", "product_id"], "category": ["category"], "store": ["store_id"],
                 "class": ["demand_class"], "all": []}


class NoForecastError(LookupError):
    """Replenishment or a report was asked for before any forecast run."""


@dataclass(frozen=True)
class ForecastRun:
    """A stored forecast run."""

    run_id: str
    result: ForecastResult


@dataclass(frozen=True)
class ReplenishRun:
    """A stored replenishment run and the files it wrote for the buyer."""

    run_id: str
    forecast_run_id: str
    result: ReplenishmentResult
    workbook: Path | None
    drafts: list[Path]


def run_forecast(
    workspace: Workspace, *, horizon: int | None = None, today: date | None = None,
    progress: Progress | None = None,
) -> ForecastRun:
    """Forecast every series and store `forecasts`, `forecast_backtest` and `forecast_series` under a new run."""
    settings = workspace.settings.forecast
    if horizon is not None:
        settings = replace(settings, horizon=horizon)
    compute = workspace.settings.compute
    today = today or date.today()
    parameters = {"horizon": settings.horizon, "windows": settings.windows, "models": settings.model_list,
                  "metric": settings.metric, "selection_margin": settings.selection_margin,
                  "min_history_days": settings.min_history_days, "engine": compute.engine}
    with workspace.warehouse.connect(write=True, purpose="forecast") as con:
        con.execute(RESULT_DDL)
        run_id = start_run(con, "forecast", parameters)
    try:
        with workspace.warehouse.connect(write=False, purpose="forecast") as con:
            history, features, categories, excluded = load_inputs(con, settings, today=today)
        result = forecast_demand(history, features, categories, settings, compute, excluded=excluded,
                                 progress=progress)
    except Exception as error:
        with workspace.warehouse.connect(write=True, purpose="forecast") as con:
            finish_run(con, run_id, error=error)
        raise
    with workspace.warehouse.connect(write=True, purpose="forecast") as con:
        store_rows(con, "forecasts", run_id, result.forecasts)
        store_rows(con, "forecast_backtest", run_id, result.backtest)
        store_rows(con, "forecast_series", run_id, result.series)
        metrics = {**result.summary, **result.counts, "weights": result.weights, "origin": result.origin,
                   "interval_quantiles": result.quantiles.as_dict()}
        finish_run(con, run_id, metrics=metrics)
    return ForecastRun(run_id=run_id, result=result)


def latest_run(con: duckdb.DuckDBPyConnection, table: str, run_id: str | None = None) -> str:
    """`run_id` if `table` holds it, else the latest run in `table`; NoForecastError when there is none."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]).fetchone()[0]
    found = None
    if exists:
        found = con.execute(f"SELECT max(run_id) FROM {table} WHERE ? IS NULL OR run_id = ?",
                            [run_id, run_id]).fetchone()[0]
    if found is None:
        raise NoForecastError(f"no run '{run_id}' in {table}" if run_id else
                              f"{table} is empty: run 'shelfwise forecast' first")
    return found


def forecast_report(
    con: duckdb.DuckDBPyConnection, *, by: str = "category", run_id: str | None = None
) -> pd.DataFrame:
    """WAPE, MASE, bias and coverage of the chosen forecast per group, and its value added over the seasonal naive.

    `fva_wape` is the seasonal naive's WAPE minus the chosen forecast's (in points of WAPE; positive means the
    run adds value); `fva_mase` the same for MASE.
    """
    if by not in REPORT_LEVELS:
        raise ValueError(f"--by must be one of {', '.join(REPORT_LEVELS)}, not '{by}'")
    run_id = latest_run(con, "forecast_backtest", run_id)
    frame = con.execute("""
        SELECT b.*, s.category, s.demand_class FROM forecast_backtest b
        JOIN forecast_series s USING (run_id, store_id, product_id)
        WHERE b.run_id = ? AND b.model IN (?, 'seasonal_naive')""", [run_id, CHOSEN]).df()
    levels = REPORT_LEVELS[by]
    frame = frame.assign(all="all")
    keys = levels or ["all"]
    ours = pooled(frame[frame["model"] == CHOSEN], keys)
    naive = pooled(frame[frame["model"] == "seasonal_naive"], keys)[[*keys, "wape", "mase"]]
    report = ours.merge(naive, on=keys, how="left", suffixes=("", "_naive"))
    report["fva_wape"] = report["wape_naive"] - report["wape"]
    report["fva_mase"] = report["mase_naive"] - report["mase"]
    report = report.drop(columns=["wape_naive", "mase_naive"])
    return report.sort_values("volume", ascending=False, ignore_index=True)


def series_paths(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> pd.DataFrame:
    """How many series took each path and each model in a forecast run."""
    run_id = latest_run(con, "forecast_series", run_id)
    return con.execute("SELECT path, model, count(*) AS series FROM forecast_series WHERE run_id = ? "
                       "GROUP BY ALL ORDER BY series DESC", [run_id]).df()


def run_replenish(
    workspace: Workspace, *, service_level: float | None = None, forecast_run: str | None = None,
    today: date | None = None, sender_name: str = "Equipe de Compras",
) -> ReplenishRun:
    """Plan orders from a forecast run and the stock snapshot; store `replenishment`, write the buyer's files."""
    settings = workspace.settings.replenish
    level = service_level if service_level is not None else settings.service_level
    with workspace.warehouse.connect(write=True, purpose="replenish") as con:
        forecast_run = latest_run(con, "forecasts", forecast_run)
        forecasts = con.execute("SELECT * FROM forecasts WHERE run_id = ?", [forecast_run]).df()
        stock = con.execute("SELECT store_id, product_id, date, on_hand, on_order FROM stock").df()
        products = con.execute("SELECT * FROM products").df()
        suppliers = con.execute("SELECT * FROM suppliers").df()
        parameters = {"service_level": level, "review_period_days": settings.review_period_days,
                      "default_lead_time_days": settings.default_lead_time_days, "forecast_run": forecast_run,
                      "assume_missing_stock_zero": settings.assume_missing_stock_zero}
        run_id = start_run(con, "replenish", parameters)
        try:
            result = plan_replenishment(
                forecasts, stock, products, suppliers, service_level=level,
                review_period_days=settings.review_period_days,
                default_lead_time_days=settings.default_lead_time_days, today=today,
                assume_missing_stock_zero=settings.assume_missing_stock_zero)
            con.execute(f"CREATE TABLE IF NOT EXISTS replenishment AS SELECT ''::VARCHAR AS run_id, "
                        f"''::VARCHAR AS forecast_run_id, * FROM (SELECT {_typed_columns()}) WHERE false")
            store_rows(con, "replenishment", run_id, result.table.assign(forecast_run_id=forecast_run))
            workbook, drafts = _buyer_files(workspace, run_id, result.table, products, suppliers, sender_name,
                                            today or date.today())
        except Exception as error:
            finish_run(con, run_id, error=error)
            raise
        flagged = int(result.table["cover_shorter_than_lead_time"].fillna(False).sum())
        finish_run(con, run_id, metrics={**result.counts, "cover_shorter_than_lead_time": flagged,
                                         "orders": int((result.table["suggested_order"].fillna(0) > 0).sum()),
                                         "workbook": str(workbook) if workbook else None})
    return ReplenishRun(run_id=run_id, forecast_run_id=forecast_run, result=result, workbook=workbook,
                        drafts=drafts)


def _typed_columns() -> str:
    """An empty row with the SQL type of every `replenishment` column, so the table is created typed."""
    text = {"store_id", "product_id", "supplier_id", "notes", "lead_time_source"}
    dates = {"stockout_date", "snapshot_date"}
    flags = {"cover_shorter_than_lead_time", "lead_time_assumed", "horizon_extended", "below_reorder_point"}
    typed = []
    for column in REPLENISHMENT_COLUMNS:
        kind = "VARCHAR" if column in text else "DATE" if column in dates else "BOOLEAN" if column in flags \
            else "DOUBLE"
        typed.append(f"NULL::{kind} AS {column}")
    return ", ".join(typed)


def _buyer_files(workspace: Workspace, run_id: str, table: pd.DataFrame, products: pd.DataFrame,
                 suppliers: pd.DataFrame, sender_name: str, today: date) -> tuple[Path | None, list[Path]]:
    """The per-supplier workbook and one pt-BR e-mail draft per supplier with something to order."""
    proposals = purchase_proposals(table, products, suppliers)
    if not proposals:
        return None, []
    folder = workspace.artifacts / "replenishment" / run_id
    folder.mkdir(parents=True, exist_ok=True)
    workbook = folder / "propostas_de_compra.xlsx"
    write_proposals_xlsx(proposals, workbook, suppliers=suppliers)
    records = suppliers.drop_duplicates("supplier_id", keep="last").set_index("supplier_id")
    drafts = []
    for supplier_id, proposal in proposals.items():
        row = records.loc[supplier_id].to_dict() if supplier_id in records.index else {}
        draft = email_draft({"supplier_id": supplier_id, **row}, proposal, sender_name=sender_name, today=today)
        path = folder / f"email_{_file_safe(supplier_id)}.txt"
        path.write_text(draft, encoding="utf-8")
        drafts.append(path)
    return workbook, drafts


def _file_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:60] or "fornecedor"
