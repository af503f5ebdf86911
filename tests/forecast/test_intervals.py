"""Conformal intervals on overdispersed counts: nominal coverage for slow movers and best sellers alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shelfwise.forecast.intervals import add_intervals, conformal_quantiles

LEVELS = {"slow": 0.3, "small": 3.0, "medium": 12.0, "fast": 40.0}
"""Planted mean daily demand per kind of series; the noise is negative binomial (size 3: variance m + m²/3)."""
NB_SIZE = 3.0


def draws(rng: np.random.Generator, per_level: int, cutoffs: list[pd.Timestamp], promo_share: float = 0.0
          ) -> pd.DataFrame:
    """A backtest-shaped frame: forecast = the planted mean, y = a negative-binomial draw around it."""
    parts = []
    for series, (kind, mean) in enumerate(LEVELS.items()):
        for cutoff in cutoffs:
            y = rng.negative_binomial(NB_SIZE, NB_SIZE / (NB_SIZE + mean), per_level).astype(float)
            parts.append(pd.DataFrame({
                "unique_id": series, "kind": kind, "cutoff": cutoff,
                "ds": cutoff + pd.to_timedelta(np.arange(1, per_level + 1) % 28 + 1, unit="D"),
                "y": y, "forecast": mean, "observed": True, "model": "combination",
                "regime": np.where(rng.random(per_level) < promo_share, "promo", "regular")}))
    return pd.concat(parts, ignore_index=True)


def coverage(frame: pd.DataFrame, level: int) -> pd.Series:
    inside = frame["y"].between(frame[f"lower_{level}"], frame[f"upper_{level}"])
    return inside.groupby(frame["kind"]).mean()


def test_every_level_of_demand_gets_its_nominal_coverage():
    rng = np.random.default_rng(7)
    cutoffs = list(pd.date_range("2026-01-01", periods=3, freq="28D"))
    backtest = draws(rng, 1500, cutoffs)
    quantiles, crossfit = conformal_quantiles(backtest, native=set())
    assert len(quantiles.edges) >= 2  # the four planted levels fall into bands of their own

    future = add_intervals(draws(rng, 3000, [pd.Timestamp("2026-04-01")]), quantiles, native=set())
    for frame in (future, crossfit):  # held-out draws, and the cross-fitted backtest the run reports
        for level, (low, high) in ((80, (0.75, 0.86)), (95, (0.92, 0.985))):
            by_kind = coverage(frame, level)
            # where counts are large the coverage is the nominal one; a slow mover's counts are so few values
            # (0, 1, 2) that no interval hits 80% exactly: it must not fall short
            assert by_kind[["medium", "fast"]].between(low, high).all(), (level, by_kind.to_dict())
            assert (by_kind[["slow", "small"]] >= low).all(), (level, by_kind.to_dict())
    assert (future["lower_80"] <= future["forecast"]).all() and (future["forecast"] <= future["upper_80"]).all()
    assert (future["lower_95"] <= future["lower_80"]).all() and (future["upper_80"] <= future["upper_95"]).all()


def test_a_mass_of_zero_forecasts_is_a_band_of_its_own():
    rng = np.random.default_rng(3)
    cutoffs = list(pd.date_range("2026-01-01", periods=3, freq="28D"))
    backtest = draws(rng, 1500, cutoffs)
    zeros = backtest[backtest["kind"] == "slow"].assign(kind="zero", forecast=0.0, unique_id=9)
    zeros["y"] = (rng.random(len(zeros)) < 0.05).astype(float)  # a forecast of 0 that sells now and then
    quantiles, _ = conformal_quantiles(pd.concat([backtest, zeros, zeros.assign(unique_id=10)]), native=set())
    assert quantiles.edges[0] == 0.0  # forecasts of exactly 0 sit below the first edge, alone
    held_out = add_intervals(zeros.assign(y=(rng.random(len(zeros)) < 0.05).astype(float)), quantiles, set())
    assert coverage(held_out, 95)["zero"] >= 0.94


def test_no_observed_backtest_day_gives_default_widths_not_a_crash():
    rng = np.random.default_rng(5)
    backtest = draws(rng, 50, list(pd.date_range("2026-01-01", periods=3, freq="28D"))).assign(observed=False)
    quantiles, crossfit = conformal_quantiles(backtest, native=set())
    assert quantiles.edges == ()
    assert crossfit["upper_80"].gt(crossfit["forecast"]).all()
    assert quantiles.as_dict()["regular_band0_hi_80"] == pytest.approx(1.2816)
