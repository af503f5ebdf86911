"""Prediction intervals that hold: conformal, from the backtest residuals of the forecast the run chose.

Residuals are scaled as count data, z = (y - f) / sqrt(max(f, 0.5)), so that one set of quantiles gives a slow
mover and a best seller intervals of their own width; quantiles are pooled separately for promotion and regular
days (a promotion day is harder to call). The coverage reported for the backtest is cross-fitted -- each window's
intervals come from the other windows' residuals -- so it is what a user will get, not an in-sample figure. A
chosen model whose own intervals were calibrated in the backtest keeps them (`selection.calibrated_natives`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shelfwise.forecast.candidates import LEVELS

MIN_SCALE = 0.5
"""The smallest forecast the residual scale sqrt(f) is taken at (a forecast of 0 still has some spread)."""
MIN_GROUP_RESIDUALS = 200
"""Residuals a regime needs for quantiles of its own; below that it takes the pooled ones."""
NORMAL_Z = {80: 1.2816, 95: 1.96}


def conformal_quantiles(chosen_cv: pd.DataFrame, native: set[str]) -> tuple[dict[str, float], pd.DataFrame]:
    """Quantiles of the scaled residuals per regime, and the cross-fitted backtest with its intervals."""
    if chosen_cv.empty:
        return _default_quantiles(), chosen_cv
    scored = chosen_cv[chosen_cv["observed"].fillna(False).astype(bool)].copy()
    scored["z"] = (scored["y"] - scored["forecast"]) / np.sqrt(scored["forecast"].clip(lower=MIN_SCALE))
    scored["group"] = _regime(scored)
    quantiles = _quantiles(scored)
    crossfit = []
    for cutoff in scored["cutoff"].unique():
        others = scored[scored["cutoff"] != cutoff]
        window = chosen_cv[chosen_cv["cutoff"] == cutoff]
        crossfit.append(add_intervals(window, _quantiles(others) if len(others) else quantiles, native))
    return quantiles, pd.concat(crossfit, ignore_index=True)


def add_intervals(frame: pd.DataFrame, quantiles: dict[str, float], native: set[str]) -> pd.DataFrame:
    """lower/upper per level: forecast + sqrt(forecast) * z-quantile, or the model's own when it is calibrated."""
    frame = frame.copy()
    root = np.sqrt(frame["forecast"].clip(lower=MIN_SCALE))
    promo = _regime(frame) == "promo"
    use_native = frame["model"].isin(native) if "model" in frame else pd.Series(False, index=frame.index)
    if "native_upper_80" in frame:
        use_native &= frame["native_upper_80"].notna()
    for level in LEVELS:
        lo = np.where(promo, quantiles[f"promo_lo_{level}"], quantiles[f"regular_lo_{level}"])
        hi = np.where(promo, quantiles[f"promo_hi_{level}"], quantiles[f"regular_hi_{level}"])
        lower = (frame["forecast"] + root * lo).clip(lower=0).clip(upper=frame["forecast"])
        upper = (frame["forecast"] + root * hi).clip(lower=frame["forecast"])
        if f"native_lower_{level}" in frame:
            lower = lower.where(~use_native, frame[f"native_lower_{level}"])
            upper = upper.where(~use_native, frame[f"native_upper_{level}"])
        frame[f"lower_{level}"], frame[f"upper_{level}"] = lower, upper
    return frame.drop(columns=[c for c in frame.columns if c.startswith("native_")])


def _regime(frame: pd.DataFrame) -> np.ndarray:
    return np.where(frame["promo"].fillna(0) > 0, "promo", "regular")


def _quantiles(scored: pd.DataFrame) -> dict[str, float]:
    quantiles = {}
    everything = scored["z"]
    for group in ("promo", "regular"):
        z = scored.loc[scored["group"] == group, "z"]
        z = z if len(z) >= MIN_GROUP_RESIDUALS else everything
        for level in LEVELS:
            tail = (100 - level) / 200
            quantiles[f"{group}_lo_{level}"] = float(z.quantile(tail))
            quantiles[f"{group}_hi_{level}"] = float(z.quantile(1 - tail))
    return quantiles


def _default_quantiles() -> dict[str, float]:
    """Poisson-like widths for a run with nothing to learn them from (no series with enough history)."""
    return {f"{group}_{side}_{level}": (-1 if side == "lo" else 1) * NORMAL_Z[level]
            for group in ("promo", "regular") for side in ("lo", "hi") for level in LEVELS}
