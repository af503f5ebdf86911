"""Forecast accuracy as the analyst reads it: WAPE, MASE, bias and interval coverage, per series and model.

Written out rather than taken from `utilsforecast.losses`, because every figure must skip the days that were not
observations (closed store days, sold-out days, see `series`) and MASE's scale must come from each backtest
window's own training history; both are one grouped pass here.

- WAPE = Σ|y − ŷ| / Σ|y| — the share of volume missed; undefined (NaN) when nothing sold.
- MASE = mean|y − ŷ| / mean|y_t − y_{t−7}| over the training days: below 1 beats a weekly seasonal naive.
- bias = Σ(ŷ − y) / Σ|y| — positive means over-forecasting (excess stock), negative under (stock-outs).
- coverage_80 / coverage_95 — the share of actuals inside the 80% / 95% intervals (NaN for a model without one).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEASON = 7
KEY = ["store_id", "product_id"]


def seasonal_scale(history: pd.DataFrame, cutoffs: pd.DataFrame, keys: list[str] = KEY) -> pd.DataFrame:
    """Per series (`keys`) and cutoff: the mean absolute weekly difference of the observed history up to the cutoff.

    Running sums per series, read at each cutoff: one pass over the history, however many cutoffs.
    """
    frame = history.sort_values([*keys, "date"])
    step = (frame["units"] - frame.groupby(keys)["units"].shift(SEASON)).abs().where(frame["observed"])
    running = frame[[*keys, "date"]].assign(total=step.fillna(0), count=step.notna().astype(np.int64))
    running[["total", "count"]] = running.groupby(keys)[["total", "count"]].cumsum()
    wanted = cutoffs[[*keys, "cutoff"]].drop_duplicates()
    wanted = wanted.assign(cutoff=pd.to_datetime(wanted["cutoff"])).sort_values("cutoff")
    running = running.assign(date=pd.to_datetime(running["date"]).astype(wanted["cutoff"].dtype)).sort_values("date")
    read = pd.merge_asof(wanted, running, left_on="cutoff", right_on="date", by=keys)
    read["scale"] = read["total"] / read["count"].where(read["count"] > 0)
    return read[[*keys, "cutoff", "scale"]]


def backtest_metrics(backtest: pd.DataFrame, history: pd.DataFrame | None, keys: list[str] = KEY,
                     scale: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (series, model, cutoff) of a long backtest frame.

    `backtest` columns: the series `keys`, model, cutoff, date, y, forecast, lower_80, upper_80, lower_95,
    upper_95, observed. `scale` is `seasonal_scale`'s frame when the caller already has it (a forecast run scores
    the same windows three times), else it is read from `history`.
    """
    scored = backtest[backtest["observed"]].copy()
    scored["abs_error"] = (scored["y"] - scored["forecast"]).abs()
    scored["error"] = scored["forecast"] - scored["y"]
    scored["abs_y"] = scored["y"].abs()
    for level in (80, 95):  # a model without an interval has no coverage, not a coverage of 0
        inside = scored["y"].between(scored[f"lower_{level}"], scored[f"upper_{level}"]).astype(float)
        scored[f"in_{level}"] = inside.where(scored[f"upper_{level}"].notna())
    grouped = scored.groupby([*keys, "model", "cutoff"], as_index=False).agg(
        abs_error=("abs_error", "sum"), mean_abs_error=("abs_error", "mean"), error=("error", "sum"),
        volume=("abs_y", "sum"), coverage_80=("in_80", "mean"), coverage_95=("in_95", "mean"), days=("y", "size"))
    if scale is None:
        scale = seasonal_scale(history, grouped[[*keys, "cutoff"]].drop_duplicates(), keys=keys)
    grouped = grouped.merge(scale[[*keys, "cutoff", "scale"]], on=[*keys, "cutoff"], how="left")
    volume = grouped["volume"].where(grouped["volume"] > 0)
    grouped["wape"] = grouped["abs_error"] / volume
    grouped["mase"] = grouped["mean_abs_error"] / grouped["scale"].where(grouped["scale"] > 0)
    grouped["bias"] = grouped["error"] / volume
    return grouped[[*keys, "model", "cutoff", "days", "volume", "wape", "mase", "bias", "coverage_80", "coverage_95"]]


def pooled(metrics: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Volume-weighted WAPE and bias, mean MASE and coverage, over groups (category, store, model...)."""
    weighted = metrics.assign(abs_error=metrics["wape"] * metrics["volume"], error=metrics["bias"] * metrics["volume"])
    out = weighted.groupby(by, as_index=False).agg(
        abs_error=("abs_error", "sum"), error=("error", "sum"), volume=("volume", "sum"), mase=("mase", "mean"),
        coverage_80=("coverage_80", "mean"), coverage_95=("coverage_95", "mean"))
    out["wape"] = out["abs_error"] / out["volume"].where(out["volume"] > 0)
    out["bias"] = out["error"] / out["volume"].where(out["volume"] > 0)
    return out[[*by, "volume", "wape", "mase", "bias", "coverage_80", "coverage_95"]]
