"""The candidate models and where they run: statsforecast per series, one global LightGBM model (`global_model`).

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

import functools
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
        # the libraries are loaded and set up here, before the statistical models' thread forks its worker processes
        # while the global model runs: a process forked while another thread imports can inherit a held import lock
        import statsforecast.models  # noqa: F401

        import shelfwise.forecast.global_model  # noqa: F401

        _cache_normal_quantiles()
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
        cv, fc = empty_backtest(), pd.DataFrame(columns=["unique_id", "ds"])
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
        """Backtest and forecast of the global model (see `global_model.fit_global_model`)."""
        from shelfwise.forecast.global_model import fit_global_model

        if self.client is None:
            return fit_global_model(panel, future, tested, modelled, h, windows, self.n_jobs)
        panel_ref, future_ref = self.client.scatter([panel, future])
        task = self.client.submit(fit_global_model, panel_ref, future_ref, tested, modelled, h, windows, self.n_jobs,
                                  pure=False)
        return task.result()


def _cache_normal_quantiles() -> None:
    """Make statsforecast compute the normal quantiles of its interval levels once per process, not per interval.

    statsforecast 2.1 builds a frozen scipy distribution for every interval `utils._calculate_intervals` gives
    (`utils._quantiles`, 0.7 ms each, most of it scipy formatting the new object's docstring): 40,000 of them for
    5,000 series, 4 windows and 2 models. The quantiles depend only on the levels and the distribution, so they are
    cached here (a distribution with parameters goes to the original): on those series AutoETS took 20 s instead of
    26 s, and SeasonalNaive 1.6 s instead of 5.5 s, with the same results. statsforecast's worker processes inherit
    the cache where they are forked (Linux up to Python 3.13); where they are spawned (macOS, a Dask worker) they
    compute the quantiles the slow way, with the same result.
    """
    import statsforecast.utils as sf_utils

    original = sf_utils._quantiles
    if getattr(original, "cached_by_shelfwise", False):
        return

    @functools.lru_cache(maxsize=64)
    def cached(level: tuple[float, ...], distribution: str) -> np.ndarray:
        return original(np.asarray(level), distribution=distribution)

    def quantiles(level: Any, distribution: str = "normal", dist_params: Any = None) -> np.ndarray:
        if dist_params is not None:
            return original(level, distribution=distribution, dist_params=dist_params)
        return cached(tuple(np.ravel(level).tolist()), distribution).reshape(np.shape(level)).copy()

    quantiles.cached_by_shelfwise = True  # type: ignore[attr-defined]
    sf_utils._quantiles = quantiles


def with_future_window(frame: pd.DataFrame, h: int, future: pd.DataFrame | None = None) -> pd.DataFrame:
    """`frame` with `h` days after each series' last day, target 0 (never read), as one more backtest window.

    A backtest predicts each window from the actuals before it; its last window is then the forecast. The
    days take their dynamic features from `future` and their static ones from the series' last day. `frame` is
    ordered by series and day, and so is the result.
    """
    last = frame.groupby("unique_id", sort=False).tail(1)
    days = last.loc[last.index.repeat(h)].copy()
    days["ds"] = days["ds"] + pd.to_timedelta(np.tile(np.arange(1, h + 1), len(last)), unit="D")
    days["y"] = 0.0
    if future is not None:
        dynamic = [c for c in future.columns if c in frame.columns and c not in ("unique_id", "ds")]
        days = days.drop(columns=dynamic).merge(future, on=["unique_id", "ds"], how="left")
        days[dynamic] = days[dynamic].fillna(0)
    both = pd.concat([frame, days[frame.columns]], ignore_index=True)
    # each series' new days follow its last one: ordering by series alone, keeping the order within it, suffices
    return both.take(np.argsort(both["unique_id"].to_numpy(), kind="stable")).reset_index(drop=True)


def split_future_window(both: pd.DataFrame, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The backtest rows and the forecast rows (those after each series' last day of `frame`)."""
    last = frame.groupby("unique_id")["ds"].max()
    ahead = pd.to_datetime(both["ds"]).to_numpy() > both["unique_id"].map(last).to_numpy()
    return both[~ahead].reset_index(drop=True), both[ahead].drop(columns="cutoff").reset_index(drop=True)


def empty_backtest() -> pd.DataFrame:
    """A backtest frame of a candidate that ran on no series."""
    return pd.DataFrame(columns=["unique_id", "ds", "cutoff"])


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """The statsforecast output with fixed column names: `<model>`, `<model>-lo-80` ... and no `y`."""
    frame = frame.reset_index() if "unique_id" not in frame.columns else frame
    return frame.drop(columns=[c for c in ("y", "index") if c in frame.columns])
