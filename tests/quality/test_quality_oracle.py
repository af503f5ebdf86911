"""The SQL of the series checks agrees with a plain pandas implementation on random data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shelfwise.quality import Thresholds

from .warehouses import of, quality

LIMITS = Thresholds(max_series_findings=1000)


@pytest.fixture
def random_sales(workspace):
    rng = np.random.default_rng(11)
    frames = []
    for store in ("A", "B", "C"):
        for product in ("p1", "p2", "p3", "p4"):
            days = pd.date_range("2024-01-01", periods=90, freq="D")
            keep = rng.random(len(days)) > rng.uniform(0.02, 0.3)  # intermittent days, as exports are
            level = rng.uniform(0.5, 40)
            units = rng.poisson(level, len(days)).astype(float)
            spikes = rng.random(len(days)) < 0.04
            units[spikes] *= rng.uniform(5, 30)
            units[rng.random(len(days)) < 0.02] *= -1  # a few returns
            frames.append(pd.DataFrame({"date": days.date, "product_id": product, "units": units,
                                        "store_id": store})[keep])
    sales = pd.concat(frames, ignore_index=True)
    with workspace.warehouse.connect(write=True) as con:
        con.register("generated", sales)
        con.execute("INSERT INTO sales (date, product_id, units, store_id) SELECT * FROM generated")
    return workspace, sales


def pandas_outliers(sales: pd.DataFrame, t: Thresholds) -> dict[str, int]:
    out = {}
    for (store, product), g in sales[sales["units"] >= 0].groupby(["store_id", "product_id"]):
        if len(g) < t.outlier_min_days:
            continue
        median = g["units"].median()
        mad = (g["units"] - median).abs().median()
        limit = max(t.outlier_mads * 1.4826 * mad, t.outlier_min_deviation, t.outlier_min_relative * abs(median))
        n = int(((g["units"] - median).abs() > limit).sum())
        if n:
            out[f"store_id={store}, product_id={product}"] = n
    return out


def pandas_gaps(sales: pd.DataFrame) -> dict[str, tuple[int, int]]:
    out = {}
    for (store, product), g in sales.groupby(["store_id", "product_id"]):
        days = pd.to_datetime(pd.Series(sorted(set(g["date"]))))
        steps = days.diff().dt.days.dropna() - 1
        if steps.sum() > 0:
            out[f"store_id={store}, product_id={product}"] = (int(steps.sum()), int(steps.max()))
    return out


def test_outliers_match_a_pandas_median_and_mad(random_sales):
    ws, sales = random_sales
    expected = pandas_outliers(sales, LIMITS)
    found = {r["series"]: r["affected_rows"] for r in of(quality(ws, thresholds=LIMITS), "outliers")}
    assert expected and found == expected


def test_gaps_match_a_pandas_walk_over_the_days(random_sales):
    ws, sales = random_sales
    expected = pandas_gaps(sales)
    rows = of(quality(ws, thresholds=LIMITS), "series_gaps")
    long = {k: v for k, v in expected.items() if v[1] >= LIMITS.gap_warning_days}
    short = [v for v in expected.values() if v[1] < LIMITS.gap_warning_days]
    assert {r["series"]: r["affected_rows"] for r in rows if r["severity"] == "warning"} == {
        k: v[0] for k, v in long.items()}
    info = [r for r in rows if r["severity"] == "info"]
    assert [r["affected_rows"] for r in info] == ([sum(v[0] for v in short)] if short else [])
