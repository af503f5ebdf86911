"""Backtest metrics against hand-computed values, with unobserved days left out."""

from __future__ import annotations

import pandas as pd
import pytest

from shelfwise.forecast.metrics import backtest_metrics, pooled


def test_metrics_match_hand_computation_and_skip_unobserved_days():
    days = pd.date_range("2026-01-01", periods=21, freq="D")
    # training: a weekly pattern 0..6 repeated, so |y_t - y_{t-7}| = 0 except where we put a 7 on day 15
    units = [d % 7 for d in range(14)] + [7, 1, 2, 3, 4, 5, 6]
    history = pd.DataFrame({"store_id": "L1", "product_id": "A", "date": days, "units": [float(u) for u in units],
                            "observed": True})
    cutoff = days[15]  # training days 1..16: steps at days 8..16 are 0 except day 15: |7 - 0| = 7 -> mean 7/9
    test = pd.DataFrame({
        "store_id": "L1", "product_id": "A", "model": "m", "cutoff": cutoff, "date": days[16:19],
        "y": [2.0, 4.0, 100.0], "forecast": [3.0, 2.0, 0.0], "lower_80": [1.0, 3.0, 0.0], "upper_80": [4.0, 5.0, 1.0],
        "lower_95": [0.0, 0.0, 0.0], "upper_95": [9.0, 9.0, 9.0], "observed": [True, True, False]})
    row = backtest_metrics(test, history).iloc[0]
    # scored days: y = 2, 4 with errors +1, -2: WAPE = 3/6, bias = (1 - 2)/6, MASE = mean(1, 2) / (7/9)
    assert row["days"] == 2 and row["wape"] == pytest.approx(0.5) and row["bias"] == pytest.approx(-1 / 6)
    assert row["mase"] == pytest.approx(1.5 / (7 / 9))
    assert row["coverage_80"] == pytest.approx(1.0) and row["coverage_95"] == pytest.approx(1.0)
    total = pooled(backtest_metrics(test, history), ["model"]).iloc[0]
    assert total["wape"] == pytest.approx(0.5)
