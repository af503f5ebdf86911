"""The candidate models and where they run: statsforecast per series, one global LightGBM model via mlforecast.

Each model is fitted once per series (statsforecast) or once per run (the global model), at the first backtest
origin, and carried forward from there over the later backtest windows and over the horizon: the forecast is
the backtest's last window, placed after the history (`with_future_window`). So the backtest scores exactly
the fitted model that forecasts, and a run costs one fit instead of `windows` + 1. What the forecast loses is
the last `windows` x `horizon` days as training examples for the model's parameters -- not as inputs: the level,
the season and the lags are updated by every day up to the origin. Models without statsforecast's `forward`
(Croston, TSB, ADIDA, IMAPA: a few milliseconds each) are refitted in every window instead. The per-series
statistical models see the last `STAT_FIT_DAYS` days before the first origin (a fit costs time in proportion to
its length, and none of them but MSTL looks further back than a week; with MSTL among them they see everything).
The global model does not learn from series too short to backtest, nor from the last windows x horizon days;
it forecasts them from their own recent days like any other.

Every call goes through `Runner`, which runs the libraries on this machine's cores or, with `[compute] engine =
"dask"`, on a Dask cluster -- statsforecast through its own Fugue backend, the global model as one task on a
worker -- with the same calls and the same results. The choice among the candidates is `selection`'s.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from shelfwise.config import ComputeSettings

LEVELS = (80, 95)
SEASON = 7
GLOBAL_MODEL = "lightgbm"
INTERMITTENT_MODELS = ("croston", "tsb", "adida", "imapa")
"""Run only on intermittent and lumpy series; they give no interval of their own."""
NATIVE_INTERVALS = ("auto_ets", "seasonal_naive", "auto_theta", "auto_arima", "mstl")
"""The per-series models that give intervals of their own."""
LONG_MEMORY = ("mstl",)
"""Per-series models that need more than `STAT_FIT_DAYS` of history (a yearly season)."""
STAT_FIT_DAYS = 364
"""Days of history a per-series statistical model is fitted on (before the first backtest origin)."""

DYNAMIC_FEATURES = ["promo", "discount_pct", "price_ratio", "holiday", "pre_holiday", "black_friday_week",
                    "to_christmas", "day", "dayofweek", "month"]
STATIC_FEATURES = ["store", "category"]


def stat_models(names: list[str]) -> list[Any]:
    """The statsforecast models named, aliased by their `[forecast] models` names."""
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


class Runner:
    """Runs the libraries here (every core) or on a Dask cluster, with the same calls and the same results.

    On a cluster one client serves the whole run; the global model's training frame is scattered to the
    cluster first and trained with the same thread count as a local run would use, so both engines give the same
    model (a worker with fewer cores is oversubscribed rather than given a different model).
    """

    def __init__(self, compute: ComputeSettings) -> None:
        self.compute = compute
        self.n_jobs = compute.n_jobs or os.cpu_count() or 1
        self.client: Any = None

    def __enter__(self) -> Runner:
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

    def stats_models(self, models: list[Any], target: pd.DataFrame, tested: set[int], modelled: set[int], h: int,
                     windows: int, *, level: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Backtest (`windows` windows of `h` days) on the series `tested`, and forecast of the series `modelled`.

        A tested series is fitted once, at its first origin, and carried forward over the windows and the horizon
        (refitted in every window by models without `forward`, or when carrying forward fails); a series too short
        to test is fitted on its whole history.
        """
        sf = self._statsforecast(models)
        levels = list(LEVELS) if level else None
        cv, fc = _empty_cv(), pd.DataFrame(columns=["unique_id", "ds"])
        frame = target[target["unique_id"].isin(tested)]
        if len(frame):
            if not any(getattr(m, "alias", "") in LONG_MEMORY for m in models):
                frame = frame.groupby("unique_id", sort=False).tail(STAT_FIT_DAYS + windows * h)
            extended = with_future_window(frame, h)

            def backtest(refit: bool) -> pd.DataFrame:
                return _tidy(self._distributed(extended, lambda df: sf.cross_validation(
                    df=df, h=h, n_windows=windows + 1, step_size=h, level=levels, refit=refit)))

            if all(hasattr(m, "forward") for m in models):
                try:
                    both = backtest(refit=False)
                except Exception:  # statsforecast has no fallback model for a failed forward step
                    both = backtest(refit=True)  # refitted per window, where a failed fit falls back per series
            else:
                both = backtest(refit=True)
            cv, fc = split_future_window(both, frame)
        short = target[target["unique_id"].isin(modelled - tested)]
        if len(short):
            fc = pd.concat([fc, _tidy(self._distributed(short, lambda df: sf.forecast(df=df, h=h, level=levels)))],
                           ignore_index=True)
        return cv, fc

    def global_model(self, panel: pd.DataFrame, future: pd.DataFrame, tested: set[int], modelled: set[int],
                     h: int, windows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Backtest and forecast of the global model (see `fit_global_model`)."""
        if self.client is None:
            return fit_global_model(panel, future, tested, modelled, h, windows, self.n_jobs)
        panel_ref, future_ref = self.client.scatter([panel, future])
        task = self.client.submit(fit_global_model, panel_ref, future_ref, tested, modelled, h, windows, self.n_jobs,
                                  pure=False)
        return task.result()


def fit_global_model(panel: pd.DataFrame, future: pd.DataFrame, tested: set[int], modelled: set[int], h: int,
                     windows: int, n_jobs: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Backtest and forecast of the global LightGBM model, trained once on the tested series before the first origin.

    Each window (the horizon too) is predicted from the actuals up to its origin. Series too short to test are
    forecast by the same model from their own history; with no series long enough to test, the model is trained
    on everything and only forecasts.
    """
    columns = ["unique_id", "ds", "y", *STATIC_FEATURES, *DYNAMIC_FEATURES]
    frame = panel.loc[panel["unique_id"].isin(modelled), columns]
    cv, fc = _empty_cv(), pd.DataFrame(columns=["unique_id", "ds", GLOBAL_MODEL])
    if frame.empty:  # every series new or without demand (a first month of data): nothing to train on
        return cv, fc
    model = _mlforecast(n_jobs)
    backtested = frame[frame["unique_id"].isin(tested)]
    short = frame[~frame["unique_id"].isin(tested)]
    if len(backtested):
        extended = with_future_window(backtested, h, future)
        both = model.cross_validation(df=extended, n_windows=windows + 1, h=h, step_size=h,
                                      static_features=STATIC_FEATURES, dropna=False, refit=False)
        cv, fc = split_future_window(both[["unique_id", "ds", "cutoff", GLOBAL_MODEL]], backtested)
        model.models_ = model.cv_models_[0]
    else:
        model.fit(frame, static_features=STATIC_FEATURES, dropna=False)
    if len(short):
        ids = short["unique_id"].unique()
        predicted = model.predict(h=h, new_df=short if len(backtested) else None,
                                  X_df=future[future["unique_id"].isin(ids)])
        fc = pd.concat([fc, predicted[["unique_id", "ds", GLOBAL_MODEL]]], ignore_index=True)
    return cv, fc


def with_future_window(frame: pd.DataFrame, h: int, future: pd.DataFrame | None = None) -> pd.DataFrame:
    """`frame` with `h` days after each series' last day, target 0 (never read), as one more backtest window.

    A backtest predicts each window from the actuals before it; its last window is then the forecast. The
    days take their dynamic features from `future` and their static ones from the series' last day.
    """
    last = frame.groupby("unique_id", sort=False).tail(1)
    days = last.loc[last.index.repeat(h)].copy()
    days["ds"] = days["ds"] + pd.to_timedelta(np.tile(np.arange(1, h + 1), len(last)), unit="D")
    days["y"] = 0.0
    if future is not None:
        dynamic = [c for c in future.columns if c in frame.columns and c not in ("unique_id", "ds")]
        days = days.drop(columns=dynamic).merge(future, on=["unique_id", "ds"], how="left")
        days[dynamic] = days[dynamic].fillna(0)
    return pd.concat([frame, days[frame.columns]], ignore_index=True).sort_values(["unique_id", "ds"],
                                                                                   ignore_index=True)


def split_future_window(both: pd.DataFrame, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The backtest rows and the forecast rows (those after each series' last day of `frame`)."""
    last = frame.groupby("unique_id")["ds"].max()
    ahead = pd.to_datetime(both["ds"]).to_numpy() > both["unique_id"].map(last).to_numpy()
    return both[~ahead].reset_index(drop=True), both[ahead].drop(columns="cutoff").reset_index(drop=True)


def _empty_cv() -> pd.DataFrame:
    return pd.DataFrame(columns=["unique_id", "ds", "cutoff"])


def _mlforecast(n_jobs: int) -> Any:
    from lightgbm import LGBMRegressor
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import Combine, ExponentiallyWeightedMean, Offset, RollingMean, SeasonalRollingMean

    regressor = LGBMRegressor(
        objective="tweedie", n_estimators=150, learning_rate=0.1, num_leaves=63, min_child_samples=50,
        subsample=0.8, subsample_freq=1, colsample_bytree=0.8, n_jobs=n_jobs, random_state=0, deterministic=True,
        force_row_wise=True, verbosity=-1)
    return MLForecast(
        models={GLOBAL_MODEL: regressor}, freq="D", lags=[7, 14, 21, 28, 364],
        lag_transforms={
            # the recent level, and slow ones as steady as ETS's (a 28-day mean of counts is too noisy a level)
            7: [RollingMean(7), RollingMean(28), ExponentiallyWeightedMean(0.3), ExponentiallyWeightedMean(0.05),
                ExponentiallyWeightedMean(0.02)],
            28: [RollingMean(28), RollingMean(182), SeasonalRollingMean(season_length=SEASON, window_size=4),
                 SeasonalRollingMean(season_length=SEASON, window_size=12)],
            # a year ago: the level around the target day, and how it moved from the weeks the recent level is read
            # in (the summer ramp of drinks, the December run-up), as a ratio the trees can use at any level
            350: [RollingMean(28), Combine(RollingMean(28), Offset(RollingMean(28), 21), year_ago_ratio)],
            357: [RollingMean(14), Combine(RollingMean(14), Offset(RollingMean(28), 14), year_ago_ratio)]},
        date_features=["dayofyear"], num_threads=1)


def year_ago_ratio(later: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    """How a year-ago level moved, smoothed so slow movers' empty weeks give a finite ratio."""
    return (later + 0.5) / (earlier + 0.5)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """The statsforecast output with fixed column names: `<model>`, `<model>-lo-80` ... and no `y`."""
    frame = frame.reset_index() if "unique_id" not in frame.columns else frame
    return frame.drop(columns=[c for c in ("y", "index") if c in frame.columns])
