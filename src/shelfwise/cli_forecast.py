"""`shelfwise forecast`, `forecast report` and `replenish`: thin shells over `shelfwise.pipelines.forecasting`."""

from __future__ import annotations

from typing import Annotated

import typer

from shelfwise.cli import EXIT_FAILED, WorkspaceOption, _fail, _open, _print_frame, _reading, _spinner, console
from shelfwise.forecast.automl import ForecastResult, NoSalesError
from shelfwise.forecast.selection import regime_weights
from shelfwise.messages import say
from shelfwise.pipelines.forecasting import (
    REPORT_LEVELS,
    ForecastRun,
    NoForecastError,
    forecast_report,
    run_forecast,
    run_replenish,
)

forecast_app = typer.Typer(help="Forecast demand per store and product (AutoML by backtest).",
                           invoke_without_command=True, no_args_is_help=False)

PATHS = ("series_backtested", "series_forecast_only", "series_borrowed", "series_no_demand", "future_rows_ignored",
         "no_product_record")


@forecast_app.callback()
def forecast(
    ctx: typer.Context,
    workspace: WorkspaceOption = None,
    horizon: Annotated[int | None, typer.Option(help="Days to forecast (default: [forecast] horizon).")] = None,
) -> None:
    """Forecast every (store, product) series for the horizon after the last sales date."""
    if ctx.invoked_subcommand is not None:
        return
    ws = _open(workspace)
    lang = ws.settings.workspace.language
    with _spinner() as describe:
        try:
            run = run_forecast(ws, horizon=horizon, progress=describe)
        except NoSalesError as error:
            _fail(say("forecast.no_sales", lang, today=error.today or "-"), EXIT_FAILED)
        except ValueError as error:
            _fail(error, EXIT_FAILED)
    print_forecast(run, lang)


def print_forecast(run: ForecastRun, lang: str) -> None:
    """The run's headline: series, horizon, backtest accuracy against the seasonal naive, and every exclusion."""
    result: ForecastResult = run.result
    horizon = int(result.forecasts.groupby(["store_id", "product_id"]).size().max()) if len(result.forecasts) else 0
    console.print(say("forecast.done", lang, run=run.run_id, series=len(result.series), horizon=horizon,
                      start=result.forecasts["date"].min().date() if len(result.forecasts) else "-"))
    summary = result.summary
    if "automl_wape" in summary:
        windows = result.backtest["cutoff"].nunique()
        console.print(say("forecast.accuracy", lang, windows=windows, horizon=horizon, wape=summary["automl_wape"],
                          naive=summary.get("seasonal_naive_wape", float("nan")), mase=summary["automl_mase"],
                          bias=summary["automl_bias"], cov80=summary["automl_coverage_80"],
                          cov95=summary["automl_coverage_95"]))
    if len(result.weights.get("regular", {})) > 1:
        console.print(say("forecast.combination", lang, **{
            regime: " + ".join(f"{w:.1f}·{m}" for m, w in weights.items())
            for regime, weights in regime_weights(result.weights).items()}))
    for key in PATHS:
        if result.counts.get(key):
            console.print(say(f"forecast.{key}", lang, n=result.counts[key]))
    console.print(say("forecast.report_hint", lang))


@forecast_app.command("report")
def report(
    workspace: WorkspaceOption = None,
    by: Annotated[str, typer.Option(help=f"Group by: {', '.join(REPORT_LEVELS)}.")] = "category",
    run: Annotated[str | None, typer.Option("--run", help="Forecast run (default: the latest).")] = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
) -> None:
    """Backtest accuracy (WAPE, MASE, bias, coverage) and value added over the seasonal naive, per group."""
    ws = _open(workspace)
    with _reading(ws) as con:
        try:
            frame = forecast_report(con, by=by, run_id=run)
        except (NoForecastError, ValueError) as error:
            _fail(error, EXIT_FAILED)
    _print_frame(frame.round(3), output_format)


def replenish(
    workspace: WorkspaceOption = None,
    service_level: Annotated[float | None, typer.Option(
        "--service-level", help="Cycle service level, 0.5-0.999 (default: [replenish] service_level).")] = None,
    forecast_run: Annotated[str | None, typer.Option("--forecast-run", help="Forecast run (default: the latest).")]
    = None,
) -> None:
    """Propose orders per store and product from the forecast and the stock; write per-supplier proposals."""
    ws = _open(workspace)
    lang = ws.settings.workspace.language
    try:
        run = run_replenish(ws, service_level=service_level, forecast_run=forecast_run)
    except (NoForecastError, ValueError) as error:
        _fail(error, EXIT_FAILED)
    print_replenishment(run, lang)


def print_replenishment(run, lang: str) -> None:
    """Orders, flagged items, notes and where the buyer's files are."""
    table = run.result.table
    console.print(say("replenish.done", lang, run=run.run_id, forecast=run.forecast_run_id, series=len(table),
                      orders=int((table["suggested_order"].fillna(0) > 0).sum()),
                      flagged=int(table["cover_shorter_than_lead_time"].fillna(False).sum())))
    for line in run.result.summary(lang):
        console.print(f"  {line}")
    if run.workbook:
        console.print(say("replenish.files", lang, workbook=run.workbook, drafts=len(run.drafts)))
    else:
        console.print(say("replenish.nothing", lang))
