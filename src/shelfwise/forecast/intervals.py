"""Prediction intervals that hold: conformal, from the backtest residuals of the forecast the run chose.

Residuals are scaled as count data, z = (y - f) / sqrt(max(f, 0.5)), and their quantiles are taken separately for
each cell of a taxonomy (Mondrian conformal prediction): the kind of day (`features.day_regime`: a promotion or a
holiday is harder to call than a regular day) times the band of the forecast's own level (up to `LEVEL_BANDS`
bands of equal size, split at the quantiles of the backtest's forecasts; one band below `LEVEL_BANDS` x
`MIN_GROUP_RESIDUALS` residuals). The sqrt scale alone assumes Poisson noise, under which variance grows like the
mean; real demand is overdispersed, so one set of quantiles gave slow movers intervals too wide and best sellers
intervals too narrow (5,000 synthetic series: 80% intervals covered 98% and 74%). A cell with fewer than
`MIN_GROUP_RESIDUALS` residuals takes its kind of day's pooled quantiles, and a kind with fewer takes everyone's.

The coverage reported for the backtest is cross-fitted -- each window's intervals come from the other windows'
residuals -- so it is what a user will get, not an in-sample figure. A chosen model whose own intervals were
calibrated in the backtest keeps them (`selection.calibrated_natives`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shelfwise.forecast.candidates import LEVELS
from shelfwise.forecast.features import REGIMES, regime_of

MIN_SCALE = 0.5
"""The smallest forecast the residual scale sqrt(f) is taken at (a forecast of 0 still has some spread)."""
MIN_GROUP_RESIDUALS = 200
"""Residuals a cell needs for quantiles of its own; below that it takes its regime's, then everyone's."""
LEVEL_BANDS = 4
"""Bands of the forecast's level, split at the quantiles of the backtest's forecasts."""
NORMAL_Z = {80: 1.2816, 95: 1.96}


@dataclass(frozen=True)
class ConformalQuantiles:
    """The scaled-residual quantiles per (regime, level band) and the forecast levels that separate the bands.

    Attributes:
        edges: the forecast levels between consecutive bands (empty: one band).
        z: (regime, band, level) -> (lower, upper) quantile of z.
    """

    edges: tuple[float, ...] = ()
    z: dict[tuple[str, int, int], tuple[float, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        """Flat, as `runs.metrics` keeps them: `regular_band0_lo_80` ... and the band edges `edge_0` ..."""
        flat = {f"edge_{i}": edge for i, edge in enumerate(self.edges)}
        for (regime, band, level), (lo, hi) in self.z.items():
            flat[f"{regime}_band{band}_lo_{level}"], flat[f"{regime}_band{band}_hi_{level}"] = lo, hi
        return flat


def conformal_quantiles(chosen_cv: pd.DataFrame, native: set[str]) -> tuple[ConformalQuantiles, pd.DataFrame]:
    """Quantiles of the scaled residuals per cell, and the cross-fitted backtest with its intervals."""
    if chosen_cv.empty:
        return _default_quantiles(), chosen_cv
    scored = chosen_cv[chosen_cv["observed"].fillna(False).astype(bool)].copy()
    if scored.empty:  # every backtest day closed or sold out: nothing to learn widths from
        return _default_quantiles(), add_intervals(chosen_cv, _default_quantiles(), native)
    scored["z"] = (scored["y"] - scored["forecast"]) / np.sqrt(scored["forecast"].clip(lower=MIN_SCALE))
    edges = _band_edges(scored["forecast"])
    quantiles = _quantiles(scored, edges)
    crossfit = []
    for cutoff in scored["cutoff"].unique():
        others = scored[scored["cutoff"] != cutoff]
        window = chosen_cv[chosen_cv["cutoff"] == cutoff]
        crossfit.append(add_intervals(window, _quantiles(others, edges) if len(others) else quantiles, native))
    return quantiles, pd.concat(crossfit, ignore_index=True)


def add_intervals(frame: pd.DataFrame, quantiles: ConformalQuantiles, native: set[str]) -> pd.DataFrame:
    """lower/upper per level: forecast + sqrt(forecast) * z-quantile of its cell, or the model's own when calibrated."""
    frame = frame.copy()
    root = np.sqrt(frame["forecast"].clip(lower=MIN_SCALE))
    regime, band = regime_of(frame), _band(frame["forecast"], quantiles.edges)
    use_native = frame["model"].isin(native) if "model" in frame else pd.Series(False, index=frame.index)
    if "native_upper_80" in frame:
        use_native &= frame["native_upper_80"].notna()
    for level in LEVELS:
        lo, hi = np.zeros(len(frame)), np.zeros(len(frame))
        for (cell_regime, cell_band, cell_level), (q_lo, q_hi) in quantiles.z.items():
            if cell_level == level:
                rows = (regime == cell_regime) & (band == cell_band)
                lo[rows], hi[rows] = q_lo, q_hi
        lower = (frame["forecast"] + root * lo).clip(lower=0).clip(upper=frame["forecast"])
        upper = (frame["forecast"] + root * hi).clip(lower=frame["forecast"])
        if f"native_lower_{level}" in frame:
            lower = lower.where(~use_native, frame[f"native_lower_{level}"])
            upper = upper.where(~use_native, frame[f"native_upper_{level}"])
        frame[f"lower_{level}"], frame[f"upper_{level}"] = lower, upper
    return frame.drop(columns=[c for c in frame.columns if c.startswith("native_")])


def _band(forecast: pd.Series, edges: tuple[float, ...]) -> np.ndarray:
    """The level band of each forecast (bands closed on the right, see `_band_edges`)."""
    return np.digitize(forecast.to_numpy(dtype=float), edges, right=True)


def _band_edges(forecast: pd.Series) -> tuple[float, ...]:
    """Forecast levels that split the backtest's forecasts into `LEVEL_BANDS` equal parts (ties merge bands).

    Bands are closed on the right (`_band`), so a mass of zero forecasts is a band of its own.
    """
    if len(forecast) < LEVEL_BANDS * MIN_GROUP_RESIDUALS:
        return ()
    edges = forecast.quantile(np.arange(1, LEVEL_BANDS) / LEVEL_BANDS).to_numpy(dtype=float)
    return tuple(float(e) for e in np.unique(edges))


def _quantiles(scored: pd.DataFrame, edges: tuple[float, ...]) -> ConformalQuantiles:
    regime, band = regime_of(scored), _band(scored["forecast"], edges)
    z = scored["z"].to_numpy(dtype=float)
    table = {}
    for cell_regime in REGIMES:
        in_regime = regime == cell_regime
        pooled = z[in_regime] if in_regime.sum() >= MIN_GROUP_RESIDUALS else z
        for cell_band in range(len(edges) + 1):
            cell = z[in_regime & (band == cell_band)]
            cell = cell if len(cell) >= MIN_GROUP_RESIDUALS else pooled
            for level in LEVELS:
                tail = (100 - level) / 200
                lo, hi = np.quantile(cell, [tail, 1 - tail])
                table[(cell_regime, cell_band, level)] = (float(lo), float(hi))
    return ConformalQuantiles(edges, table)


def _default_quantiles() -> ConformalQuantiles:
    """Poisson-like widths for a run with nothing to learn them from (no series with enough history)."""
    return ConformalQuantiles((), {(regime, 0, level): (-NORMAL_Z[level], NORMAL_Z[level])
                                   for regime in REGIMES for level in LEVELS})
