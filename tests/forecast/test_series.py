"""The demand history: closed days, censored days, returns and new SKUs, on hand-made files and the demo's truth."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from shelfwise.forecast.series import classify, demand_history
from shelfwise.ingest import ingest_files
from shelfwise.workspace import init_workspace

SALES = """data;loja;produto;qtd
01/03/2026;L1;A;5
02/03/2026;L1;A;7
02/03/2026;L1;B;1
04/03/2026;L1;A;-2
05/03/2026;L1;A;6
05/03/2026;L1;NOVO;3
06/03/2026;L1;A;4
"""
STOCK = """data;loja;produto;estoque
05/03/2026;L1;A;0
"""


@pytest.fixture
def history(tmp_path) -> pd.DataFrame:
    ws = init_workspace(tmp_path / "ws")
    (tmp_path / "vendas.csv").write_text(SALES, encoding="utf-8")
    (tmp_path / "estoque.csv").write_text(STOCK, encoding="utf-8")
    ingest_files(ws, [tmp_path / "vendas.csv", tmp_path / "estoque.csv"], today=date(2026, 3, 10))
    with ws.warehouse.connect() as con:
        return demand_history(con)


def test_the_history_tells_closed_censored_returns_and_new_series_apart(history):
    a = history[history["product_id"] == "A"].set_index("date")
    # 03/03: no row of any product in the store -> closed, not observed, filled (no earlier same weekday -> 0)
    assert bool(a.loc[pd.Timestamp("2026-03-03"), "closed"]) and not a.loc[pd.Timestamp("2026-03-03"), "observed"]
    # 04/03: a return of 2 is no negative demand
    assert a.loc[pd.Timestamp("2026-03-04"), "units"] == 0 and a.loc[pd.Timestamp("2026-03-04"), "observed"]
    # 05/03: sold 6 and ended with no stock -> censored, demand at least 6
    assert bool(a.loc[pd.Timestamp("2026-03-05"), "censored"]) and a.loc[pd.Timestamp("2026-03-05"), "units"] >= 6
    # B sold once on 02/03: its series runs to the last sales day with zeros; NOVO starts on its first sale
    b = history[history["product_id"] == "B"]
    assert list(b["date"]) == list(pd.date_range("2026-03-02", "2026-03-06")) and b["units"].sum() == 1
    assert history.loc[history["product_id"] == "NOVO", "date"].min() == pd.Timestamp("2026-03-05")
    classes = classify(history).set_index("product_id")["demand_class"]
    assert classes["NOVO"] == "insufficient" and classes["B"] == "insufficient"


@pytest.fixture(scope="module")
def demo(forecast_demo):
    return forecast_demo


def test_the_demo_history_finds_the_planted_closed_and_censored_days(demo):
    with demo.workspace.warehouse.connect() as con:
        history = demand_history(con)
    truth = pd.read_parquet(demo.truth_dir / "sales_expected.parquet")
    truth["date"] = pd.to_datetime(truth["date"]).astype("datetime64[us]")
    history["date"] = history["date"].astype("datetime64[us]")
    merged = truth.merge(history, on=["date", "store_id", "product_id"], suffixes=("_truth", ""))
    assert len(merged) >= 0.95 * len(truth)
    for flag in ("closed", "censored"):
        planted = merged[f"{flag}_truth"].astype(bool)
        assert planted.sum() > 100
        assert (planted & merged[flag]).sum() >= 0.99 * planted.sum(), flag
    assert not merged.loc[merged["closed_truth"].astype(bool), "observed"].any()
    classes = classify(history)["demand_class"].value_counts()
    assert classes.get("smooth", 0) > 200 and classes.get("intermittent", 0) + classes.get("lumpy", 0) > 20
