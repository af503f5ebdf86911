"""The candidate models and where they run: statsforecast per series, one global LightGBM model via mlforecast.

Every call goes through `Runner`, which runs the libraries on this machine's cores or, with `[compute] engine =
"dask"`, on a Dask cluster -- statsforecast through its own Fugue backend, the global model as one task on a
worker -- with the same calls and the same results. The choice among the candidates is `selection`'s.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pandas as pd

from shelfwise.config import ComputeSettings

LEVELS = (80, 95)
SEASON = 7
GLOBAL_MODEL = "lightgbm"
INTERMITTENT_MODELS = ("croston", "tsb", "adida", "imapa")
"""Run only on intermittent and lumpy series; they give no interval of their own."""
NATIVE_INTERVALS = ("auto_ets", "seasonal_naive", "auto_theta", "auto_arima", "mstl")
"""The per-series models that give intervals of their own."""

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

    def stats_cv(self, models: list[Any], target: pd.DataFrame, ids: set[int], h: int, windows: int,
                 *, level: bool = True) -> pd.DataFrame:
        """Rolling-origin backtest of `models` on the series `ids`: `windows` windows of `h` days."""
        frame = target[target["unique_id"].isin(ids)]
        if frame.empty:
            return pd.DataFrame(columns=["unique_id", "ds", "cutoff"])
        sf = self._statsforecast(models)
        return _tidy(self._distributed(frame, lambda df: sf.cross_validation(
            df=df, h=h, n_windows=windows, step_size=h, level=list(LEVELS) if level else None)))

    def stats_forecast(self, models: list[Any], target: pd.DataFrame, ids: set[int], h: int,
                       *, level: bool = True) -> pd.DataFrame:
        """Forecast of `models` for the `h` days after each series `ids`' last day."""
        frame = target[target["unique_id"].isin(ids)]
        if frame.empty:
            return pd.DataFrame(columns=["unique_id", "ds"])
        sf = self._statsforecast(models)
        return _tidy(self._distributed(frame, lambda df: sf.forecast(
            df=df, h=h, level=list(LEVELS) if level else None)))

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

