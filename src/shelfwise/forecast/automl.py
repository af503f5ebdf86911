"""Forecast every (store, product) series: candidates, rolling-origin backtest, choice, intervals.

The design follows what was measured on two cores (bench/notes/forecast_design_study.md), not what is fashionable:

- **Candidates.** One global LightGBM model over every series (mlforecast: lags, rolling means, calendar, the
  store's holidays, price and promotion -- planned campaigns included, see `features`), which is how the M5
  competition was won and the only candidate that learns promotions (on a large catalogue it trains on every
  event day and a weighted sample of the ordinary ones, see `global_model`); statsforecast's AutoETS (additive error
  and season, the form that fits daily retail series in 23 ms instead of 280 ms), SeasonalNaive (the benchmark
  and the fallback of every failed fit), and for intermittent or lumpy series Croston, TSB, ADIDA and IMAPA.
  AutoTheta, AutoARIMA and MSTL are there for small catalogues (`[forecast] models`).
- **Backtest.** `windows` rolling origins, each `horizon` days, on every series with enough history. Each
  model is fitted once, at the first origin -- the statistical ones per series on the year before it (all of
  it with MSTL; Croston and kin are refitted per window), the global one over all backtested series -- and
  carried forward from the actuals over the later windows and over the horizon, which is the backtest's last
  window (`candidates`). The backtest so scores the very model that forecasts, and a run costs one fit instead
  of `windows` + 1: on 1,000 synthetic series 38 ms a series instead of 131 ms, at the same holdout accuracy
  (bench/forecast.py). The statistical models run in statsforecast's worker processes beside the global model,
  so the cores stay busy while the global model prepares its features and predicts one day at a time.
- **Choice.** The models are ranked by their pooled backtest metric; the forecast is the combination of the
  best two, weighted by the backtest, unless for a series one single model is better by `selection_margin` --
  three windows are too noisy to trust a per-series winner by less (plain per-series arg-min lost to the
  combination in the study).
- **Intervals.** Conformal, from the backtest residuals of the chosen forecast, scaled as count data: z = (y -
  f) / sqrt(max(f, 0.5)), with quantiles per kind of day and band of the forecast's level (Mondrian
  conformal, see `intervals`), so a slow mover and a best seller get intervals of their own width. The
  backtest coverage reported is cross-fitted (each window's intervals come from the other windows' residuals),
  so it is what a user will get, not an in-sample figure. A single chosen model keeps its own interval when its
  backtest coverage is within 5 points of nominal at both levels.
- **Retail realities** are in `series` (closed days, censored days, returns, series start at the first sale).
  Series shorter than `min_history_days` borrow: their level is shrunk towards the median of their category
  in their store (the chain's category, then the store, when there is no such peer), as strongly as those
  peers agree (an empirical-Bayes gamma prior), and they take those peers' daily shape, promotions and
  holidays included. A day the store was closed on in every past
  year (25 December) is forecast 0.

The parts live beside this module, which reads the inputs, sorts the series into paths (backtested,
forecast_only, borrowed, no_demand) and puts the run together: `candidates` (the models and where they run:
local cores or a Dask cluster), `selection` (ranking, combination, per-series choice, the backtest table),
`intervals` (conformal intervals) and `borrowing` (series too young to model).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from shelfwise.config import ComputeSettings, ForecastSettings
from shelfwise.forecast.borrowing import borrowed_forecasts
from shelfwise.forecast.candidates import (
    DYNAMIC_FEATURES,
    GLOBAL_MODEL,
    INTERMITTENT_MODELS,
    Runner,
    stat_models,
)
from shelfwise.forecast.features import day_regime, series_features
from shelfwise.forecast.intervals import ConformalQuantiles, add_intervals, conformal_quantiles
from shelfwise.forecast.metrics import KEY, pooled
from shelfwise.forecast.selection import (
    CHOSEN,
    add_combination,
    backtest_scale,
    backtest_table,
    calibrated_natives,
    choose_models,
    chosen_forecast,
    combination_weights,
    join_candidates,
    score_candidates,
)
from shelfwise.forecast.series import classify, demand_history

FORECAST_COLUMNS = ("store_id", "product_id", "date", "forecast", "lower_80", "upper_80", "lower_95", "upper_95",
                    "model", "demand_class", "interval")
UNKNOWN_CATEGORY = "(sem categoria)"
"""The category of a product sold without a product record."""

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ForecastResult:
    """What a forecast run produced.

    Attributes:
        forecasts: one row per series and horizon day, `FORECAST_COLUMNS`.
        backtest: one row per series, model and cutoff, `BACKTEST_COLUMNS` (`automl` is the chosen forecast).
        series: one row per series: store_id, product_id, category, demand_class, history_days, path
            (backtested, forecast_only, borrowed, no_demand) and model.
        counts: how many series took each path and each exclusion reason.
        summary: pooled backtest figures of the chosen forecast and of the seasonal naive.
        weights: the combination's members and weights, per kind of day (`regular`, `promo`, `holiday`, `peak`:
            see `features.day_regime`) and per kind of day and weekday (`regular@5`, see `selection`).
        origin: the last sales date; the horizon starts the day after.
        quantiles: the conformal quantiles of the scaled residuals (see `intervals`).
    """

    forecasts: pd.DataFrame
    backtest: pd.DataFrame
    series: pd.DataFrame
    counts: dict[str, int]
    summary: dict[str, float]
    weights: dict[str, dict[str, float]]
    origin: date
    quantiles: ConformalQuantiles = field(default_factory=ConformalQuantiles)


def forecast_demand(
    history: pd.DataFrame,
    features: pd.DataFrame,
    categories: pd.DataFrame,
    settings: ForecastSettings,
    compute: ComputeSettings | None = None,
    *,
    excluded: dict[str, int] | None = None,
    progress: Progress | None = None,
) -> ForecastResult:
    """Forecast every series of `history` (from `load_inputs`) for `settings.horizon` days after its last date.

    `features` covers history and horizon (`series_features`); `categories` maps product_id to category.
    """
    compute = compute or ComputeSettings()
    step = progress or (lambda _: None)
    h, windows = settings.horizon, settings.windows
    history = history.copy()
    history["date"] = pd.to_datetime(history["date"])
    origin = history["date"].max()
    ragged = history.groupby(KEY)["date"].max() < origin
    if ragged.any():  # the horizon and the backtest windows are one calendar for every series
        raise ValueError(f"{int(ragged.sum())} series end before {origin.date()}; every series must run to the last "
                         "day, with 0 for days without sales (as load_inputs builds the history)")
    info = _series_info(history, categories, settings)
    counts = {f"series_{path}": int((info["path"] == path).sum())
              for path in ("backtested", "forecast_only", "borrowed", "no_demand")}
    counts |= dict(excluded or {})
    counts["no_product_record"] = int(info["category"].eq(UNKNOWN_CATEGORY).sum())
    history = history.merge(info[[*KEY, "unique_id"]], on=KEY)
    tested_ids = set(info.loc[info["path"] == "backtested", "unique_id"])
    modelled_ids = set(info.loc[info["path"].isin(["backtested", "forecast_only"]), "unique_id"])
    demand = _demand(history, modelled_ids)
    sparse_ids = set(info.loc[info["demand_class"].isin(["intermittent", "lumpy"]), "unique_id"]) & modelled_ids
    models = settings.model_list

    step("models")
    with Runner(compute) as runner, ThreadPoolExecutor(max_workers=1) as beside:
        statistical = beside.submit(_statistical_candidates, runner, models, demand[["unique_id", "ds", "y"]],
                                    (tested_ids, modelled_ids, sparse_ids), h, windows)
        # the statistical models read only the demand: the global model's features are built while they run
        features = features.merge(info[[*KEY, "unique_id"]], on=KEY).drop(columns=KEY)  # keyed once, by integer
        features["regime"] = day_regime(features)
        panel = _panel(demand, features, info)
        global_parts = [runner.global_model(panel, _future_features(features, origin, h), tested_ids, modelled_ids,
                                            h, windows)] if GLOBAL_MODEL in models else []
        parts = [*statistical.result(), *global_parts]
    cv_parts = [cv for cv, _ in parts]
    fc_parts = [fc for _, fc in parts]

    step("choice")
    regime = features[["unique_id", "date", "regime"]].rename(columns={"date": "ds"})
    cv = join_candidates(cv_parts, panel[["unique_id", "ds", "y", "observed", "regime"]],
                         ("unique_id", "ds", "cutoff"))
    fc = join_candidates(fc_parts, regime, ("unique_id", "ds"))
    scale = backtest_scale(cv, history[["unique_id", "date", "units", "observed"]])
    weights = combination_weights(cv, scale, settings.metric)
    cv = add_combination(cv, weights)
    fc = add_combination(fc, weights)
    scores = score_candidates(cv, scale, info)
    choice = choose_models(scores, info, settings, weights)
    native = calibrated_natives(scores)
    choice["interval"] = np.where(choice["model"].isin(native), "native", "conformal")
    quantiles, crossfit = conformal_quantiles(chosen_forecast(cv, choice), native)
    chosen_fc = add_intervals(chosen_forecast(fc, choice), quantiles, native)

    step("new and empty series")
    days = pd.DataFrame({"ds": pd.date_range(origin + pd.Timedelta(days=1), periods=h, freq="D")})
    borrowed = borrowed_forecasts(info, history, chosen_fc, regime, days, quantiles)
    empty = _zeros(info, days)
    forecasts = pd.concat([f for f in (chosen_fc, borrowed, empty) if len(f)], ignore_index=True)
    forecasts = _closures(forecasts, history, info)
    forecasts = forecasts.merge(info[["unique_id", *KEY, "demand_class"]], on="unique_id")
    forecasts = forecasts.merge(choice[["unique_id", "interval"]], on="unique_id", how="left")
    forecasts["interval"] = forecasts["interval"].fillna("conformal")
    forecasts = forecasts.rename(columns={"ds": "date"}).sort_values([*KEY, "date"], ignore_index=True)

    backtest = backtest_table(scores, crossfit, choice, scale, info)
    automl = backtest[backtest["model"] == CHOSEN]
    naive = backtest[backtest["model"] == "seasonal_naive"]
    summary = {f"{name}_{m}": float(v) for name, frame in ((CHOSEN, automl), ("seasonal_naive", naive))
               if len(frame) for m, v in pooled(frame.assign(all=1), ["all"]).iloc[0].drop("all").items()}
    info = info.merge(choice[["unique_id", "model"]], on="unique_id", how="left")
    info["model"] = info["model"].fillna(info["path"].map({"borrowed": "borrowed", "no_demand": "no_demand"}))
    return ForecastResult(
        forecasts=forecasts[list(FORECAST_COLUMNS)], backtest=backtest, series=info.drop(columns="unique_id"),
        counts=counts, summary=summary, weights=weights, origin=origin.date(), quantiles=quantiles)


class NoSalesError(ValueError):
    """There is no sales row (on or before the planning date) to forecast from."""

    def __init__(self, today: date | None) -> None:
        super().__init__(f"sales holds no rows{f' dated on or before {today}' if today else ''} to forecast from; "
                         "load a sales file first (shelfwise ingest)")
        self.today = today


def load_inputs(
    con: Any, settings: ForecastSettings, *, today: date | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Read what `forecast_demand` needs from the warehouse: history, features, categories, exclusions.

    Sales dated after `today` (when given) are left out and counted, so one mistyped future row cannot move
    the forecast's origin.
    """
    history = demand_history(con, until=today)
    excluded = {"future_rows_ignored": 0}
    if today is not None:
        excluded["future_rows_ignored"] = int(con.execute(
            "SELECT count(*) FROM sales WHERE date > ?", [today]).fetchone()[0])
    never_sold = con.execute(f"""
        SELECT store_id, product_id FROM sales {"WHERE date <= $today" if today else ""}
        GROUP BY ALL HAVING max(units) <= 0""", {"today": today} if today else {}).df()
    excluded["series_without_positive_sales"] = len(never_sold)
    if len(never_sold):
        last = history["date"].max() if len(history) else con.execute(
            "SELECT max(date) FROM sales WHERE CAST($today AS DATE) IS NULL OR date <= CAST($today AS DATE)",
            {"today": today}).fetchall()[0][0]  # fetched to the end: DuckDB refuses register() after a partial fetch
        zeros = never_sold.assign(date=pd.Timestamp(last), units=0.0, observed=True, closed=False, censored=False)
        history = pd.concat([history, zeros], ignore_index=True) if len(history) else zeros
    if history.empty:
        raise NoSalesError(today)
    first, last = history["date"].min(), history["date"].max()
    horizon_end = pd.Timestamp(last) + pd.Timedelta(days=settings.horizon)
    features = series_features(con, history[KEY].drop_duplicates(), pd.Timestamp(first).date(), horizon_end.date(),
                               until=today)
    categories = con.execute(
        "SELECT product_id, any_value(category) AS category FROM products GROUP BY ALL").df()
    return history, features, categories, excluded


def _statistical_candidates(runner: Runner, models: tuple[str, ...], target: pd.DataFrame,
                            ids: tuple[set[int], set[int], set[int]], h: int, windows: int,
                            ) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """Backtest and forecast of the per-series models (each group on its series: `ids` is tested, modelled, sparse).

    It runs in a thread beside the global model: statsforecast's work is in its worker processes, and the global
    model's own preparation and recursive prediction use one core, so the two together keep both cores busy (on
    5,000 series the models took 47-51 s side by side instead of 55 s one after the other).
    """
    tested, modelled, sparse = ids
    per_series = [m for m in models if m != GLOBAL_MODEL and m not in INTERMITTENT_MODELS]
    intermittent = [m for m in models if m in INTERMITTENT_MODELS]
    return [runner.stats_models(stat_models(group), target, group_ids & tested, group_ids, h, windows, level=level)
            for group, group_ids, level in ((per_series, modelled, True), (intermittent, sparse, False))
            if group and group_ids]


def _series_info(history: pd.DataFrame, categories: pd.DataFrame, settings: ForecastSettings) -> pd.DataFrame:
    classes = classify(history)
    sizes = history.groupby(KEY, as_index=False).agg(history_days=("date", "size"), total=("units", "sum"))
    info = sizes.merge(classes[[*KEY, "demand_class"]], on=KEY, how="left")
    info = info.merge(categories, on="product_id", how="left")
    info["category"] = info["category"].fillna(UNKNOWN_CATEGORY)
    info["demand_class"] = info["demand_class"].fillna("insufficient")
    needed = settings.windows * settings.horizon + settings.min_history_days
    info["path"] = np.select(
        [info["total"] <= 0, info["history_days"] < settings.min_history_days, info["history_days"] < needed],
        ["no_demand", "borrowed", "forecast_only"], "backtested")
    info["demand_class"] = info["demand_class"].where(info["path"] != "no_demand", "no_demand")
    info = info.sort_values(KEY, ignore_index=True)
    info["unique_id"] = np.arange(len(info), dtype=np.int64)
    return info[["unique_id", *KEY, "category", "demand_class", "history_days", "path"]]


def _demand(history: pd.DataFrame, modelled: set[int]) -> pd.DataFrame:
    """unique_id, ds, y, observed, store_id of the series the models forecast, ordered by series and day."""
    frame = history.loc[history["unique_id"].isin(modelled), ["unique_id", "date", "units", "observed", "store_id"]]
    frame = frame.rename(columns={"date": "ds", "units": "y"}).astype({"y": float})
    return frame.sort_values(["unique_id", "ds"], ignore_index=True)


def _panel(demand: pd.DataFrame, features: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    """The demand with the global model's features: the days' (`DYNAMIC_FEATURES`), its store and category."""
    frame = demand.merge(features.rename(columns={"date": "ds"}), on=["unique_id", "ds"], how="left")
    frame["store"] = pd.Categorical(frame.pop("store_id"))
    frame["category"] = pd.Categorical(frame["unique_id"].map(info.set_index("unique_id")["category"]))
    frame[DYNAMIC_FEATURES] = frame[DYNAMIC_FEATURES].fillna(0)
    return frame


def _future_features(features: pd.DataFrame, origin: pd.Timestamp, h: int) -> pd.DataFrame:
    future = features[(features["date"] > origin) & (features["date"] <= origin + pd.Timedelta(days=h))]
    future = future.rename(columns={"date": "ds"})
    future[DYNAMIC_FEATURES] = future[DYNAMIC_FEATURES].fillna(0)
    return future[["unique_id", "ds", *DYNAMIC_FEATURES]]


def _zeros(info: pd.DataFrame, days: pd.DataFrame) -> pd.DataFrame:
    """Series that never sold a unit: forecast 0, interval 0 -- shown, not dropped."""
    empty = info.loc[info["path"] == "no_demand", ["unique_id"]]
    frame = empty.merge(days, how="cross")
    for column in ("forecast", "lower_80", "upper_80", "lower_95", "upper_95"):
        frame[column] = 0.0
    frame["model"] = "no_demand"
    return frame


def _closures(forecasts: pd.DataFrame, history: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    """Zero the horizon days on which the store was closed on the same calendar day of every past year."""
    stores = history.merge(info[["unique_id", "store_id"]].rename(columns={"store_id": "_store"}), on="unique_id")
    days = stores.groupby(["_store", "date"], as_index=False)["closed"].all()
    days["month_day"] = days["date"].dt.month * 100 + days["date"].dt.day
    always = days.groupby(["_store", "month_day"], as_index=False)["closed"].all()
    always = always[always["closed"]]
    if always.empty:
        return forecasts
    frame = forecasts.merge(info[["unique_id", "store_id"]].rename(columns={"store_id": "_store"}), on="unique_id")
    frame["month_day"] = frame["ds"].dt.month * 100 + frame["ds"].dt.day
    frame = frame.merge(always, on=["_store", "month_day"], how="left")
    closed = frame["closed"].eq(True)
    for column in ("forecast", "lower_80", "upper_80", "lower_95", "upper_95"):
        frame.loc[closed, column] = 0.0
    return frame.drop(columns=["_store", "month_day", "closed"])

