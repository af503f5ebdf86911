"""Forecast every (store, product) series: candidates, rolling-origin backtest, choice, intervals.

The design follows what was measured on two cores (bench/notes/forecast_design_study.md), not what is fashionable:

- **Candidates.** One global LightGBM model over every series (mlforecast: lags, rolling means, calendar, the
  store's holidays, price and promotion -- planned campaigns included, see `features`), which is how the M5
  competition was won and the only candidate that learns promotions; statsforecast's AutoETS (additive error
  and season, the form that fits daily retail series in 23 ms instead of 280 ms), SeasonalNaive (the benchmark
  and the fallback of every failed fit), and for intermittent or lumpy series Croston, TSB, ADIDA and IMAPA.
  AutoTheta, AutoARIMA and MSTL are there for small catalogues (`[forecast] models`).
- **Backtest.** `windows` rolling origins, each `horizon` days, on every series with enough history. The
  global model is trained once per run and scored on the windows with its lags recomputed from the actuals
  (mlforecast's `refit=False`): retraining it per window would double the run's time for a difference in the
  third decimal.
- **Choice.** The models are ranked by their pooled backtest metric; the forecast is the combination of the
  best two, weighted by the backtest, unless for a series one single model is better by `selection_margin` --
  three windows are too noisy to trust a per-series winner by less (plain per-series arg-min lost to the
  combination in the study).
- **Intervals.** Conformal, from the backtest residuals of the chosen forecast, scaled as count data: z = (y -
  f) / sqrt(max(f, 0.5)), with quantiles pooled per promotion flag, so a slow mover and a best seller get
  intervals of their own width. The backtest coverage reported is cross-fitted (each window's intervals come
  from the other windows' residuals), so it is what a user will get, not an in-sample figure. A single chosen
  model keeps its own interval when its backtest coverage is within 5 points of nominal at both levels.
- **Retail realities** are in `series` (closed days, censored days, returns, series start at the first sale).
  Series shorter than `min_history_days` borrow: their level is shrunk towards the median of their category
  in their store (the chain's category, then the store, when there is no such peer), as strongly as those
  peers agree (an empirical-Bayes gamma prior), and they take those peers' daily shape, promotions and
  holidays included. A day the store was closed on in every past
  year (25 December) is forecast 0.

statsforecast runs on every local core (`n_jobs`); with `[compute] engine = "dask"` it runs through its own
Fugue backend on the cluster, and the global model is trained as a task on a cluster worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from shelfwise.config import ComputeSettings, ForecastSettings
from shelfwise.forecast.features import series_features
from shelfwise.forecast.metrics import KEY, backtest_metrics, pooled
from shelfwise.forecast.series import classify, demand_history

LEVELS = (80, 95)
GLOBAL_MODEL = "lightgbm"
COMBINATION = "combination"
CHOSEN = "automl"
"""`forecast_backtest.model` of the forecast the run chose per series (what `forecasts` holds)."""
INTERMITTENT_MODELS = ("croston", "tsb", "adida", "imapa")
NATIVE_INTERVALS = ("auto_ets", "seasonal_naive", "auto_theta", "auto_arima", "mstl")
SEASON = 7
MIN_SCALE = 0.5
MAX_PRIOR_DAYS = 28
"""The most days of a new series' own sales its peers' rate can be worth (see `_peer_prior`)."""
MIN_REGIME_DAYS = 100
"""Scored promotion days needed before promotion days get combination weights of their own."""

DYNAMIC_FEATURES = ["promo", "discount_pct", "price_ratio", "holiday", "pre_holiday", "black_friday_week",
                    "to_christmas", "day", "dayofweek", "month"]
STATIC_FEATURES = ["store", "category"]

FORECAST_COLUMNS = ("store_id", "product_id", "date", "forecast", "lower_80", "upper_80", "lower_95", "upper_95",
                    "model", "demand_class", "interval")
BACKTEST_COLUMNS = ("store_id", "product_id", "model", "cutoff", "days", "volume", "wape", "mase", "bias",
                    "coverage_80", "coverage_95", "selected")

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
        weights: the combination's members and weights, per regime (`regular`, `promo` days).
        origin: the last sales date; the horizon starts the day after.
    """

    forecasts: pd.DataFrame
    backtest: pd.DataFrame
    series: pd.DataFrame
    counts: dict[str, int]
    summary: dict[str, float]
    weights: dict[str, dict[str, float]]
    origin: date
    quantiles: dict[str, float] = field(default_factory=dict)


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
    info = _series_info(history, categories, settings)
    counts = {f"series_{path}": int((info["path"] == path).sum())
              for path in ("backtested", "forecast_only", "borrowed", "no_demand")}
    counts |= dict(excluded or {})
    counts["no_product_record"] = int(info["category"].eq(UNKNOWN_CATEGORY).sum())
    history = history.merge(info[[*KEY, "unique_id"]], on=KEY)
    panel = _panel(history, features, info)
    modelled = info[info["path"].isin(["backtested", "forecast_only"])]
    tested = info[info["path"] == "backtested"]
    models = settings.model_list

    step("statistical models")
    stat_models = [m for m in models if m != GLOBAL_MODEL and m not in INTERMITTENT_MODELS]
    sparse = tested["demand_class"].isin(["intermittent", "lumpy"])
    sparse_ids = set(info.loc[info["demand_class"].isin(["intermittent", "lumpy"]), "unique_id"])
    intermittent = [m for m in models if m in INTERMITTENT_MODELS]
    target = panel[["unique_id", "ds", "y"]]
    cv_parts: list[pd.DataFrame] = []
    fc_parts: list[pd.DataFrame] = []
    with _Runner(compute) as runner:
        if stat_models:
            chosen_ids = set(modelled["unique_id"])
            cv_parts.append(runner.stats_cv(_stat_models(stat_models, h), target, set(tested["unique_id"]), h, windows))
            fc_parts.append(runner.stats_forecast(_stat_models(stat_models, h), target, chosen_ids, h))
        if intermittent and sparse.any():
            ids = sparse_ids & set(modelled["unique_id"])
            cv_parts.append(runner.stats_cv(_stat_models(intermittent, h), target, ids & set(tested["unique_id"]), h,
                                            windows, level=False))
            fc_parts.append(runner.stats_forecast(_stat_models(intermittent, h), target, ids, h, level=False))
        if GLOBAL_MODEL in models:
            step("global model")
            future = _future_features(features, info, origin, h)
            lgb_cv, lgb_fc = runner.global_model(panel, future, set(tested["unique_id"]), set(modelled["unique_id"]),
                                                 h, windows)
            cv_parts.append(lgb_cv)
            fc_parts.append(lgb_fc)

    step("choice")
    truth = panel[["unique_id", "ds", "y", "observed", "promo"]]
    cv = _long(cv_parts, truth, ("unique_id", "ds", "cutoff"))
    fc = _long(fc_parts, panel[["unique_id", "ds", "promo"]].iloc[:0], ("unique_id", "ds"))
    fc = _with_future_promo(fc, features, info)
    history_keyed = history.rename(columns={"date": "ds"})[["unique_id", "ds", "units", "observed"]]
    weights = _combination(cv, history_keyed, settings.metric)
    cv = _add_combination(cv, weights)
    fc = _add_combination(fc, weights)
    scores = _score(cv, history_keyed, info)
    choice = _choose(scores, info, settings, weights)
    native = _native_ok(scores)
    chosen_cv = _chosen(cv, choice)
    quantiles, crossfit = _conformal(chosen_cv, choice, native)
    chosen_fc = _chosen(fc, choice)
    chosen_fc = _intervals(chosen_fc, quantiles, choice, native)

    step("new and empty series")
    borrowed = _borrow(info, history, chosen_fc, features, origin, h, quantiles)
    empty = _zeros(info, origin, h)
    forecasts = pd.concat([f for f in (chosen_fc, borrowed, empty) if len(f)], ignore_index=True)
    forecasts = _closures(forecasts, history, info)
    forecasts = forecasts.merge(info[["unique_id", *KEY, "demand_class"]], on="unique_id")
    forecasts = forecasts.merge(choice[["unique_id", "interval"]], on="unique_id", how="left")
    forecasts["interval"] = forecasts["interval"].fillna("conformal")
    forecasts = forecasts.rename(columns={"ds": "date"}).sort_values([*KEY, "date"], ignore_index=True)

    backtest = _backtest_table(scores, crossfit, choice, history_keyed, info)
    automl = backtest[backtest["model"] == CHOSEN]
    naive = backtest[backtest["model"] == "seasonal_naive"]
    summary = {f"{name}_{m}": float(v) for name, frame in ((CHOSEN, automl), ("seasonal_naive", naive))
               if len(frame) for m, v in pooled(frame.assign(all=1), ["all"]).iloc[0].drop("all").items()}
    info = info.merge(choice[["unique_id", "model"]], on="unique_id", how="left")
    info["model"] = info["model"].fillna(info["path"].map({"borrowed": "borrowed", "no_demand": "no_demand"}))
    return ForecastResult(
        forecasts=forecasts[list(FORECAST_COLUMNS)], backtest=backtest, series=info.drop(columns="unique_id"),
        counts=counts, summary=summary, weights=weights, origin=origin.date(), quantiles=quantiles)


UNKNOWN_CATEGORY = "(sem categoria)"


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


def _panel(history: pd.DataFrame, features: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    modelled = info.loc[info["path"].isin(["backtested", "forecast_only"]), "unique_id"]
    frame = history[history["unique_id"].isin(modelled)].merge(features, on=[*KEY, "date"], how="left")
    frame = frame.merge(info[["unique_id", "category"]], on="unique_id")
    frame["store"] = pd.Categorical(frame["store_id"])
    frame["category"] = pd.Categorical(frame["category"])
    frame = frame.rename(columns={"date": "ds", "units": "y"})
    frame["y"] = frame["y"].astype(float)
    frame[DYNAMIC_FEATURES] = frame[DYNAMIC_FEATURES].fillna(0)
    return frame.sort_values(["unique_id", "ds"], ignore_index=True)


def _future_features(features: pd.DataFrame, info: pd.DataFrame, origin: pd.Timestamp, h: int) -> pd.DataFrame:
    future = features[(features["date"] > origin) & (features["date"] <= origin + pd.Timedelta(days=h))]
    future = future.merge(info[["unique_id", *KEY]], on=KEY).rename(columns={"date": "ds"})
    future[DYNAMIC_FEATURES] = future[DYNAMIC_FEATURES].fillna(0)
    return future[["unique_id", "ds", *DYNAMIC_FEATURES]]


def _with_future_promo(fc: pd.DataFrame, features: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    promo = features.merge(info[["unique_id", *KEY]], on=KEY)[["unique_id", "date", "promo"]]
    return fc.drop(columns="promo").merge(promo.rename(columns={"date": "ds"}), on=["unique_id", "ds"], how="left")


def _stat_models(names: list[str], h: int) -> list[Any]:
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        MSTL,
        TSB,
        AutoARIMA,
        AutoETS,
        AutoTheta,
        CrostonOptimized,
        SeasonalNaive,
    )

    build = {
        "auto_ets": lambda: AutoETS(season_length=SEASON, model="ANA", alias="auto_ets"),
        "seasonal_naive": lambda: SeasonalNaive(season_length=SEASON, alias="seasonal_naive"),
        "auto_theta": lambda: AutoTheta(season_length=SEASON, alias="auto_theta"),
        "auto_arima": lambda: AutoARIMA(season_length=SEASON, alias="auto_arima"),
        "mstl": lambda: MSTL(season_length=[SEASON, 365], trend_forecaster=AutoETS(model="ZZN"), alias="mstl"),
        "croston": lambda: CrostonOptimized(alias="croston"),
        "tsb": lambda: TSB(alpha_d=0.2, alpha_p=0.2, alias="tsb"),
        "adida": lambda: ADIDA(alias="adida"),
        "imapa": lambda: IMAPA(alias="imapa"),
    }
    return [build[name]() for name in names]


class _Runner:
    """Runs the libraries here (every core) or on a Dask cluster, with the same calls and the same results.

    On a cluster one client serves the whole run; the global model's training frame is scattered to the
    cluster first and trained with the same thread count as a local run would use, so both engines give the same
    model (a worker with fewer cores is oversubscribed rather than given a different model).
    """

    def __init__(self, compute: ComputeSettings) -> None:
        self.compute = compute
        self.n_jobs = compute.n_jobs or os.cpu_count() or 1
        self.client: Any = None

    def __enter__(self) -> _Runner:
        if self.compute.engine == "dask":
            from distributed import Client

            self.client = Client(self.compute.scheduler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def _statsforecast(self, models: list[Any]) -> Any:
        from statsforecast import StatsForecast
        from statsforecast.models import SeasonalNaive

        return StatsForecast(models=models, freq="D", n_jobs=self.n_jobs,
                             fallback_model=SeasonalNaive(season_length=SEASON))

    def _distributed(self, frame: pd.DataFrame, call: Callable[[Any], Any]) -> pd.DataFrame:
        if self.client is None:
            return call(frame)
        import dask.dataframe as dd

        parts = max(1, min(64, frame["unique_id"].nunique() // 50))
        result = call(dd.from_pandas(frame, npartitions=parts, sort=False))
        result = result.compute() if hasattr(result, "compute") else result
        # Fugue hands dates back in nanoseconds: as the input had them, so both engines give the same frames
        dates = [c for c in ("ds", "cutoff") if c in result.columns]
        return result.astype(dict.fromkeys(dates, frame["ds"].dtype))

    def stats_cv(self, models: list[Any], target: pd.DataFrame, ids: set[int], h: int, windows: int,
                 *, level: bool = True) -> pd.DataFrame:
        frame = target[target["unique_id"].isin(ids)]
        if frame.empty:
            return pd.DataFrame(columns=["unique_id", "ds", "cutoff"])
        sf = self._statsforecast(models)
        return _tidy(self._distributed(frame, lambda df: sf.cross_validation(
            df=df, h=h, n_windows=windows, step_size=h, level=list(LEVELS) if level else None)))

    def stats_forecast(self, models: list[Any], target: pd.DataFrame, ids: set[int], h: int,
                       *, level: bool = True) -> pd.DataFrame:
        frame = target[target["unique_id"].isin(ids)]
        if frame.empty:
            return pd.DataFrame(columns=["unique_id", "ds"])
        sf = self._statsforecast(models)
        return _tidy(self._distributed(frame, lambda df: sf.forecast(
            df=df, h=h, level=list(LEVELS) if level else None)))

    def global_model(self, panel: pd.DataFrame, future: pd.DataFrame, tested: set[int], modelled: set[int],
                     h: int, windows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        if self.client is None:
            return _global_model(panel, future, tested, modelled, h, windows, self.n_jobs)
        panel_ref, future_ref = self.client.scatter([panel, future])
        task = self.client.submit(_global_model, panel_ref, future_ref, tested, modelled, h, windows, self.n_jobs,
                                  pure=False)
        return task.result()


def _global_model(panel: pd.DataFrame, future: pd.DataFrame, tested: set[int], modelled: set[int], h: int,
                  windows: int, n_jobs: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Backtest (trained once, lags from actuals in each window) and forecast of the global LightGBM model."""
    columns = ["unique_id", "ds", "y", *STATIC_FEATURES, *DYNAMIC_FEATURES]
    frame = panel.loc[panel["unique_id"].isin(modelled), columns]
    cv = pd.DataFrame(columns=["unique_id", "ds", "cutoff", GLOBAL_MODEL])
    if frame.empty:  # every series new or without demand (a first month of data): nothing to train on
        return cv, pd.DataFrame(columns=["unique_id", "ds", GLOBAL_MODEL])
    backtested = frame[frame["unique_id"].isin(tested)]
    if len(backtested):
        cv = _mlforecast(n_jobs).cross_validation(
            df=backtested, n_windows=windows, h=h, step_size=h, static_features=STATIC_FEATURES, dropna=False,
            refit=False)[["unique_id", "ds", "cutoff", GLOBAL_MODEL]]
    model = _mlforecast(n_jobs)
    model.fit(frame, static_features=STATIC_FEATURES, dropna=False)
    forecast = model.predict(h=h, X_df=future[future["unique_id"].isin(modelled)])
    return cv, forecast[["unique_id", "ds", GLOBAL_MODEL]]


def _mlforecast(n_jobs: int) -> Any:
    from lightgbm import LGBMRegressor
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import ExponentiallyWeightedMean, RollingMean, SeasonalRollingMean

    regressor = LGBMRegressor(
        objective="tweedie", n_estimators=300, learning_rate=0.05, num_leaves=63, min_child_samples=50,
        subsample=0.8, subsample_freq=1, colsample_bytree=0.8, n_jobs=n_jobs, random_state=0, deterministic=True,
        force_row_wise=True, verbosity=-1)
    return MLForecast(
        models={GLOBAL_MODEL: regressor}, freq="D", lags=[7, 14, 21, 28, 364],
        lag_transforms={7: [RollingMean(7), RollingMean(28), ExponentiallyWeightedMean(0.3)],
                        28: [RollingMean(28), SeasonalRollingMean(season_length=SEASON, window_size=4)]},
        date_features=["dayofyear"], num_threads=1)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """The statsforecast output with fixed column names: `<model>`, `<model>-lo-80` ... and no `y`."""
    frame = frame.reset_index() if "unique_id" not in frame.columns else frame
    return frame.drop(columns=[c for c in ("y", "index") if c in frame.columns])


def _long(parts: list[pd.DataFrame], truth: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Outer-join the candidates' wide frames on `keys`, clip at 0, attach truth columns."""
    wide = None
    for part in parts:
        if part.empty:
            continue
        part = part.copy()
        part["ds"] = pd.to_datetime(part["ds"])
        if "cutoff" in part:
            part["cutoff"] = pd.to_datetime(part["cutoff"])
        part["unique_id"] = part["unique_id"].astype(np.int64)
        wide = part if wide is None else wide.merge(part, on=list(keys), how="outer")
    if wide is None:
        wide = pd.DataFrame(columns=list(keys))
    values = [c for c in wide.columns if c not in keys]
    wide[values] = wide[values].astype(float).clip(lower=0)
    if len(truth):
        wide = wide.merge(truth, on=["unique_id", "ds"], how="left")
    else:
        wide["promo"] = 0
    return wide


def _model_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c in (GLOBAL_MODEL, COMBINATION, *NATIVE_INTERVALS, *INTERMITTENT_MODELS)]


def _combination(cv: pd.DataFrame, history: pd.DataFrame, metric: str) -> dict[str, dict[str, float]]:
    """The best two whole-catalogue models by pooled backtest metric, and their blend weights per regime.

    Promotion days get weights of their own: a model that knows promotions (the global one) should carry a
    promotion day, while on regular days the statistical model's level is as good or better. With fewer than
    `MIN_REGIME_DAYS` scored promotion days the regular weights serve both.
    """
    everyone = [m for m in _model_columns(cv) if m not in INTERMITTENT_MODELS]
    if not everyone or cv.empty:
        return {}
    scored = cv[cv["observed"].fillna(False).astype(bool)].dropna(subset=everyone)
    if scored.empty:
        return {"regular": {everyone[0]: 1.0}, "promo": {everyone[0]: 1.0}}
    scale = _scale(history, scored)

    def score(frame: pd.DataFrame, prediction: pd.Series) -> float:
        error = (prediction - frame["y"]).abs()
        if metric == "wape":
            return float(error.sum() / max(frame["y"].abs().sum(), 1e-9))
        per_series = error.groupby([frame["unique_id"], frame["cutoff"]]).mean()
        return float((per_series / scale.reindex(per_series.index)).replace(np.inf, np.nan).mean())

    ranked = sorted(everyone, key=lambda m: score(scored, scored[m]))
    if len(ranked) == 1:
        return {"regular": {ranked[0]: 1.0}, "promo": {ranked[0]: 1.0}}
    best, second = ranked[:2]
    grid = np.round(np.linspace(0, 1, 11), 2)

    def blend(frame: pd.DataFrame) -> dict[str, float]:
        losses = [score(frame, w * frame[best] + (1 - w) * frame[second]) for w in grid]
        weight = float(grid[int(np.argmin(losses))])
        return {best: weight, second: round(1 - weight, 2)}

    promo = scored["promo"].fillna(0) > 0
    regular = blend(scored[~promo])
    weights = {"regular": regular, "promo": blend(scored[promo]) if promo.sum() >= MIN_REGIME_DAYS else regular}
    used = {m for regime in weights.values() for m, w in regime.items() if w > 0}
    if len(used) == 1:  # the blend chose one model outright: call the forecast by that model's name
        only = used.pop()
        return {"regular": {only: 1.0}, "promo": {only: 1.0}}
    return weights


def _scale(history: pd.DataFrame, scored: pd.DataFrame) -> pd.Series:
    """MASE denominators per (unique_id, cutoff) from the observed history up to each cutoff."""
    frame = history.sort_values(["unique_id", "ds"])
    step = (frame["units"] - frame.groupby("unique_id")["units"].shift(SEASON)).abs().where(frame["observed"])
    frame = frame.assign(step=step)[["unique_id", "ds", "step"]]
    cutoffs = scored[["unique_id", "cutoff"]].drop_duplicates()
    merged = cutoffs.merge(frame, on="unique_id")
    merged = merged[merged["ds"] <= merged["cutoff"]]
    scale = merged.groupby(["unique_id", "cutoff"])["step"].mean()
    return scale.where(scale > 0)


def _add_combination(frame: pd.DataFrame, weights: dict[str, dict[str, float]]) -> pd.DataFrame:
    members = list(weights.get("regular", {}))
    if len(members) < 2 or not all(m in frame for m in members):
        return frame
    frame = frame.copy()
    promo = frame["promo"].fillna(0) > 0
    regular = sum(w * frame[m] for m, w in weights["regular"].items())
    frame[COMBINATION] = regular.where(~promo, sum(w * frame[m] for m, w in weights["promo"].items()))
    return frame


def _score(cv: pd.DataFrame, history: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    """Per (series, model, cutoff) metrics of every candidate, with their native intervals where they have them."""
    if cv.empty:
        return pd.DataFrame(columns=["unique_id", *KEY, "model", "cutoff", "days", "volume", "wape", "mase", "bias",
                                     "coverage_80", "coverage_95"])
    rows = []
    for model in _model_columns(cv):
        part = cv[["unique_id", "ds", "cutoff", "y", "observed"]].assign(model=model, forecast=cv[model])
        for level in LEVELS:
            for side, bound in (("lo", "lower"), ("hi", "upper")):
                column = f"{model}-{side}-{level}"
                part[f"{bound}_{level}"] = cv[column].clip(lower=0) if column in cv else np.nan
        rows.append(part.dropna(subset=["forecast"]))
    return _metrics(pd.concat(rows, ignore_index=True), history, info)


def _metrics(long: pd.DataFrame, history: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    """`backtest_metrics` of a long frame keyed by unique_id (history: unique_id, ds, units, observed)."""
    keys = info[["unique_id", *KEY]]
    long = long.merge(keys, on="unique_id").rename(columns={"ds": "date"})
    long["observed"] = long["observed"].fillna(False).astype(bool)
    hist = history.merge(keys, on="unique_id").rename(columns={"ds": "date"})
    return backtest_metrics(long, hist).merge(keys, on=KEY)


def _per_series(scores: pd.DataFrame, metric: str) -> pd.DataFrame:
    """unique_id x model: the mean of the windows' metric."""
    return scores.pivot_table(index="unique_id", columns="model", values=metric, aggfunc="mean")


def _choose(scores: pd.DataFrame, info: pd.DataFrame, settings: ForecastSettings,
            weights: dict[str, dict[str, float]]) -> pd.DataFrame:
    """unique_id, model: the combination (or the best whole-catalogue model), unless one model is clearly better."""
    members = list(weights.get("regular", {}))
    default = COMBINATION if len(members) > 1 else next(iter(members), None)
    modelled = info.loc[info["path"].isin(["backtested", "forecast_only"]), ["unique_id"]].copy()
    if default is None:  # only intermittent methods were asked for
        default = next(m for m in settings.model_list if m in INTERMITTENT_MODELS)
    modelled["model"] = default
    if not scores.empty:
        table = _per_series(scores, settings.metric)
        reference = table[default] if default in table else table.min(axis=1)
        best = table.idxmin(axis=1, skipna=True)
        best_value = table.min(axis=1, skipna=True)
        clearly = best_value < (1 - settings.selection_margin) * reference
        # the intermittent methods have no forecast for smooth series, which keep the default
        override = best[clearly & best.notna()]
        no_default = reference.isna() & best.notna()
        override = pd.concat([override, best[no_default]])
        modelled = modelled.set_index("unique_id")
        modelled.loc[override.index, "model"] = override
        modelled = modelled.reset_index()
    modelled["interval"] = "conformal"
    return modelled


def _native_ok(scores: pd.DataFrame) -> set[str]:
    """Models whose own intervals covered within 5 points of nominal at both levels in the backtest."""
    if scores.empty:
        return set()
    coverage = scores.groupby("model")[["coverage_80", "coverage_95"]].mean()
    good = (coverage["coverage_80"].sub(0.80).abs() <= 0.05) & (coverage["coverage_95"].sub(0.95).abs() <= 0.05)
    return set(coverage.index[good]) & set(NATIVE_INTERVALS)


def _chosen(frame: pd.DataFrame, choice: pd.DataFrame) -> pd.DataFrame:
    """One forecast column per row: the chosen model's (native intervals carried along).

    On promotion days a series whose chosen model cannot see promotions takes the combination's forecast.
    """
    if frame.empty:
        return pd.DataFrame(columns=["unique_id", "ds", "forecast", "model", "promo"])
    merged = frame.merge(choice[["unique_id", "model"]], on="unique_id")
    out = merged[[c for c in ("unique_id", "ds", "cutoff", "y", "observed", "promo", "model") if c in merged]].copy()
    out["forecast"] = np.nan
    for level in LEVELS:
        out[f"native_lower_{level}"] = np.nan
        out[f"native_upper_{level}"] = np.nan
    for model, rows in merged.groupby("model").groups.items():
        if model not in merged:
            continue
        out.loc[rows, "forecast"] = merged.loc[rows, model]
        for level in LEVELS:
            for side, bound in (("lo", "lower"), ("hi", "upper")):
                column = f"{model}-{side}-{level}"
                if column in merged:
                    out.loc[rows, f"native_{bound}_{level}"] = merged.loc[rows, column].clip(lower=0)
    blind = out["promo"].fillna(0).gt(0) & ~out["model"].isin([COMBINATION, GLOBAL_MODEL])
    if COMBINATION in merged and blind.any():  # a model that cannot see promotions does not forecast their days
        out.loc[blind, "forecast"] = merged.loc[blind, COMBINATION]
        out.loc[blind, [c for c in out.columns if c.startswith("native_")]] = np.nan
    missing = out["forecast"].isna()  # a model that failed for this series: the combination's members fill in
    if missing.any():
        fallback = merged[[c for c in _model_columns(merged)]].mean(axis=1)
        out.loc[missing, "forecast"] = fallback[missing]
    return out.dropna(subset=["forecast"])


def _conformal(chosen_cv: pd.DataFrame, choice: pd.DataFrame,
               native: set[str]) -> tuple[dict[str, float], pd.DataFrame]:
    """Quantiles of the scaled residuals per promotion flag, and the cross-fitted backtest with its intervals."""
    if chosen_cv.empty:
        return _default_quantiles(), chosen_cv
    scored = chosen_cv[chosen_cv["observed"].fillna(False).astype(bool)].copy()
    scored["z"] = (scored["y"] - scored["forecast"]) / np.sqrt(scored["forecast"].clip(lower=MIN_SCALE))
    scored["group"] = np.where(scored["promo"].fillna(0) > 0, "promo", "regular")
    quantiles = _quantiles(scored)
    crossfit = []
    for cutoff in scored["cutoff"].unique():
        others = scored[scored["cutoff"] != cutoff]
        window = chosen_cv[chosen_cv["cutoff"] == cutoff]
        crossfit.append(_intervals(window, _quantiles(others) if len(others) else quantiles, choice, native))
    return quantiles, pd.concat(crossfit, ignore_index=True)


def _quantiles(scored: pd.DataFrame) -> dict[str, float]:
    quantiles = {}
    everything = scored["z"]
    for group in ("promo", "regular"):
        z = scored.loc[scored["group"] == group, "z"]
        z = z if len(z) >= 200 else everything
        for level in LEVELS:
            tail = (100 - level) / 200
            quantiles[f"{group}_lo_{level}"] = float(z.quantile(tail))
            quantiles[f"{group}_hi_{level}"] = float(z.quantile(1 - tail))
    return quantiles


def _default_quantiles() -> dict[str, float]:
    """Poisson-like widths for a run with nothing to learn them from (no series with enough history)."""
    z = {80: 1.2816, 95: 1.96}
    return {f"{group}_{side}_{level}": (-1 if side == "lo" else 1) * z[level]
            for group in ("promo", "regular") for side in ("lo", "hi") for level in LEVELS}


def _intervals(frame: pd.DataFrame, quantiles: dict[str, float], choice: pd.DataFrame,
               native: set[str]) -> pd.DataFrame:
    """lower/upper per level: forecast + sqrt(forecast) * z-quantile, or the model's own when it is calibrated."""
    frame = frame.copy()
    root = np.sqrt(frame["forecast"].clip(lower=MIN_SCALE))
    group = np.where(frame["promo"].fillna(0) > 0, "promo", "regular")
    use_native = frame["model"].isin(native) if "model" in frame else pd.Series(False, index=frame.index)
    if "native_upper_80" in frame:
        use_native &= frame["native_upper_80"].notna()
    for level in LEVELS:
        lo = pd.Series(group, index=frame.index).map(lambda g, lv=level: quantiles[f"{g}_lo_{lv}"])
        hi = pd.Series(group, index=frame.index).map(lambda g, lv=level: quantiles[f"{g}_hi_{lv}"])
        lower = (frame["forecast"] + root * lo).clip(lower=0).clip(upper=frame["forecast"])
        upper = (frame["forecast"] + root * hi).clip(lower=frame["forecast"])
        if f"native_lower_{level}" in frame:
            lower = lower.where(~use_native, frame[f"native_lower_{level}"])
            upper = upper.where(~use_native, frame[f"native_upper_{level}"])
        frame[f"lower_{level}"], frame[f"upper_{level}"] = lower, upper
    if use_native.any():
        choice.loc[choice["model"].isin(native), "interval"] = "native"
    return frame.drop(columns=[c for c in frame.columns if c.startswith("native_")])


def _borrow(info: pd.DataFrame, history: pd.DataFrame, chosen: pd.DataFrame, features: pd.DataFrame,
            origin: pd.Timestamp, h: int, quantiles: dict[str, float]) -> pd.DataFrame:
    """Forecasts of series too young to model, from their peers (category in store, then category, then store)."""
    young = info[info["path"] == "borrowed"]
    if young.empty:
        return pd.DataFrame(columns=["unique_id", "ds", "forecast", "model"])
    observed = history[history["observed"]]
    recent = observed[observed["date"] > origin - pd.Timedelta(days=28)]
    rates = recent.groupby("unique_id")["units"].mean().rename("rate")
    own = observed.groupby("unique_id").agg(own=("units", "mean"), days=("units", "size"))
    peers = info[info["path"].isin(["backtested", "forecast_only"])].merge(rates, on="unique_id")
    shape = chosen.merge(peers[["unique_id", "rate"]], on="unique_id")
    shape = shape[shape["rate"] > 0]
    shape["relative"] = shape["forecast"] / shape["rate"]
    shape = shape.merge(info[["unique_id", *KEY, "category"]], on="unique_id")
    targets = young.merge(own, on="unique_id", how="left").fillna({"own": 0.0, "days": 0})
    days = pd.DataFrame({"ds": pd.date_range(origin + pd.Timedelta(days=1), periods=h, freq="D")})
    parts = []
    for level in (["store_id", "category"], ["category"], ["store_id"], []):
        if targets.empty:
            break
        prior = _peer_prior(peers, level)
        profile = (shape.groupby([*level, "ds"])["relative"].mean().reset_index() if level
                   else shape.groupby("ds")["relative"].mean().reset_index())
        matched = targets.merge(prior, on=level) if level else targets.merge(prior, how="cross")
        matched = matched.dropna(subset=["peer_rate"])
        if level or len(profile):
            rows = matched.merge(profile, on=level) if level else matched.merge(profile, how="cross")
        else:
            rows = matched.merge(days, how="cross").assign(relative=1.0)
        parts.append(rows)
        targets = targets[~targets["unique_id"].isin(matched["unique_id"])]
    if len(targets):  # nothing at all to borrow from: the series' own mean, flat
        parts.append(targets.assign(peer_rate=targets["own"], prior_days=1.0).merge(days, how="cross")
                     .assign(relative=1.0))
    borrowed = pd.concat([part for part in parts if len(part)], ignore_index=True)
    rate = ((borrowed["days"] * borrowed["own"] + borrowed["prior_days"] * borrowed["peer_rate"])
            / (borrowed["days"] + borrowed["prior_days"]))
    borrowed["forecast"] = (rate * borrowed["relative"]).clip(lower=0)
    borrowed["model"] = "borrowed"
    promo = features.merge(info[["unique_id", *KEY]], on=KEY)[["unique_id", "date", "promo"]]
    borrowed = borrowed[["unique_id", "ds", "forecast", "model"]].merge(
        promo.rename(columns={"date": "ds"}), on=["unique_id", "ds"], how="left")
    choice = pd.DataFrame({"unique_id": young["unique_id"], "model": "borrowed", "interval": "conformal"})
    return _intervals(borrowed, quantiles, choice, set()).drop(columns="promo")


def _peer_prior(peers: pd.DataFrame, level: list[str]) -> pd.DataFrame:
    """Per peer group: the peers' typical daily rate and how many days of a new series' own sales it is worth.

    A gamma prior on a Poisson rate, fitted by moments: mean m = the peers' median rate, strength m / variance of
    the peers' rates (in days), within [1, `MAX_PRIOR_DAYS`]. Peers that all sell alike make a strong prior;
    a category that mixes slow and fast movers says little, and the new series' own days soon dominate.
    """
    grouped = peers.groupby(level)["rate"] if level else peers.assign(_all=0).groupby("_all")["rate"]
    prior = pd.DataFrame({"peer_rate": grouped.median(), "variance": grouped.var()})
    prior["prior_days"] = (prior["peer_rate"] / prior["variance"]).fillna(MAX_PRIOR_DAYS).clip(1, MAX_PRIOR_DAYS)
    prior = prior.reset_index().drop(columns=["variance"])
    return prior.drop(columns=["_all"]) if not level else prior


def _zeros(info: pd.DataFrame, origin: pd.Timestamp, h: int) -> pd.DataFrame:
    """Series that never sold a unit: forecast 0, interval 0 -- shown, not dropped."""
    empty = info.loc[info["path"] == "no_demand", ["unique_id"]]
    days = pd.DataFrame({"ds": pd.date_range(origin + pd.Timedelta(days=1), periods=h, freq="D")})
    frame = empty.merge(days, how="cross")
    for column in ("forecast", "lower_80", "upper_80", "lower_95", "upper_95"):
        frame[column] = 0.0
    frame["model"] = "no_demand"
    return frame


def _closures(forecasts: pd.DataFrame, history: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    """Zero the horizon days on which the store was closed on the same calendar day of every past year."""
    stores = history.merge(info[["unique_id", "store_id"]].rename(columns={"store_id": "_store"}), on="unique_id")
    days = stores.groupby(["_store", "date"], as_index=False)["closed"].all()
    days["month_day"] = days["date"].dt.strftime("%m-%d")
    always = days.groupby(["_store", "month_day"], as_index=False)["closed"].all()
    always = always[always["closed"]]
    if always.empty:
        return forecasts
    frame = forecasts.merge(info[["unique_id", "store_id"]].rename(columns={"store_id": "_store"}), on="unique_id")
    frame["month_day"] = frame["ds"].dt.strftime("%m-%d")
    frame = frame.merge(always, on=["_store", "month_day"], how="left")
    closed = frame["closed"].eq(True)
    for column in ("forecast", "lower_80", "upper_80", "lower_95", "upper_95"):
        frame.loc[closed, column] = 0.0
    return frame.drop(columns=["_store", "month_day", "closed"])


def _backtest_table(scores: pd.DataFrame, crossfit: pd.DataFrame, choice: pd.DataFrame, history: pd.DataFrame,
                    info: pd.DataFrame) -> pd.DataFrame:
    """Every candidate's per-window metrics plus the chosen forecast's (as model `automl`), one frame."""
    keys = info[["unique_id", *KEY]]
    parts = [scores]
    if not crossfit.empty:
        parts.append(_metrics(crossfit.assign(model=CHOSEN), history, info))
    table = pd.concat(parts, ignore_index=True)
    selected = choice.merge(keys, on="unique_id")[[*KEY, "model"]].assign(selected=True)
    table = table.merge(selected, on=[*KEY, "model"], how="left")
    table["selected"] = table["selected"].eq(True) | table["model"].eq(CHOSEN)
    return table[list(BACKTEST_COLUMNS)]
