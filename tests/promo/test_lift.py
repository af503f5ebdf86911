"""Promotion lift on a planted chain: known baselines and lifts, and every kind of campaign that cannot be measured."""

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from shelfwise.promo.lift import measure_campaigns

N_DAYS, N_STORES, N_PRODUCTS = 500, 6, 12
FIRST = date(2024, 3, 1)


def planted_chain(path, seed: int = 3):
    """Sales with a known expected baseline per cell and campaigns with known lifts (true_lift per cell)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(FIRST, periods=N_DAYS)
    stores = [f"L{s:02d}" for s in range(N_STORES)]
    products = [f"P{p:03d}" for p in range(N_PRODUCTS)]
    categories = np.array(["mercearia"] * 6 + ["bebidas"] * 6)
    level = rng.uniform(4, 30, (N_STORES, N_PRODUCTS))
    weekly = np.array([0.85, 0.8, 0.9, 0.95, 1.1, 1.3, 1.1])[days.dayofweek][:, None]
    phase = rng.uniform(0, 2 * np.pi, N_PRODUCTS)
    yearly = 1 + 0.3 * np.sin(2 * np.pi * np.arange(N_DAYS)[:, None] / 365 + phase[None, :])
    baseline = level[None] * (weekly * yearly)[:, None, :]
    multiplier = np.ones_like(baseline)
    plan = []
    for k in range(10):
        start = 60 + 40 * k
        length = int(rng.integers(7, 15))
        shop = np.sort(rng.choice(N_STORES, 3, replace=False))
        items = np.sort(rng.choice(np.flatnonzero(categories == ("mercearia" if k % 2 else "bebidas")), 3,
                                   replace=False))
        lift = rng.uniform(0.3, 1.2, (len(shop), len(items)))
        multiplier[np.ix_(range(start, start + length), shop, items)] = 1 + lift[None]
        plan.append((f"C{k:02d}", start, length, shop, items, lift))
    expected = baseline * multiplier
    r = 10.0
    units = rng.negative_binomial(r, r / (r + expected))
    d, s, p = np.nonzero(units >= 0)
    promo_cells = multiplier > 1
    price = np.array([10.0 + p_ for p_ in range(N_PRODUCTS)])
    sales = pd.DataFrame({
        "date": days[d], "store_id": np.array(stores)[s], "product_id": np.array(products)[p],
        "units": units[d, s, p].astype(float), "price": np.where(promo_cells[d, s, p], 0.8, 1.0) * price[p],
        "on_promo": promo_cells[d, s, p],
    })
    sales = sales[sales["units"] > 0].assign(revenue=lambda f: f["units"] * f["price"])
    campaigns = [dict(campaign_id=cid, name=f"Campanha {cid}", start_date=days[start].date(),
                      end_date=days[start + length - 1].date(), type="discount", discount_pct=20.0, cost=500.0,
                      product_ids=[products[i] for i in items], store_ids=[stores[i] for i in shop])
                 for cid, start, length, shop, items, _ in plan]
    last = days[-1].date()
    campaigns += [
        dict(campaign_id="X-NOSALES", name="Produto sem vendas", start_date=days[200].date(),
             end_date=days[210].date(), type="discount", discount_pct=10.0, cost=100.0, product_ids=["P999"],
             store_ids=stores[:2]),
        dict(campaign_id="X-REVERSED", name="Datas invertidas", start_date=days[300].date(),
             end_date=days[290].date(), type="discount", discount_pct=10.0, cost=100.0, product_ids=products[:2],
             store_ids=stores[:2]),
        dict(campaign_id="X-EARLY", name="Antes do histórico", start_date=FIRST - timedelta(days=5),
             end_date=FIRST + timedelta(days=3), type="discount", discount_pct=10.0, cost=100.0,
             product_ids=products[:2], store_ids=stores[:2]),
        dict(campaign_id="X-OVERLAP", name="Sobreposta", start_date=days[plan[0][1] + 2].date(),
             end_date=days[plan[0][1] + 5].date(), type="display", discount_pct=5.0, cost=100.0,
             product_ids=[products[plan[0][4][0]]], store_ids=[stores[plan[0][3][0]]]),
        dict(campaign_id="X-LATER", name="Planejada", start_date=last + timedelta(days=10),
             end_date=last + timedelta(days=20), type="discount", discount_pct=25.0, cost=100.0,
             product_ids=products[:3], store_ids=None),
        dict(campaign_id="X-STORE", name="Loja toda", start_date=days[250].date(), end_date=days[255].date(),
             type="partnership", discount_pct=0.0, cost=100.0, product_ids=None, store_ids=stores[:1]),
    ]
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales AS SELECT * FROM sales")
    con.register("frame", pd.DataFrame(campaigns))
    con.execute("""CREATE TABLE campaigns AS SELECT campaign_id, name, CAST(start_date AS DATE) AS start_date,
                   CAST(end_date AS DATE) AS end_date, type, discount_pct, cost,
                   CAST(product_ids AS VARCHAR[]) AS product_ids, CAST(store_ids AS VARCHAR[]) AS store_ids,
                   false AS _placeholder FROM frame""")
    con.execute("CREATE TABLE products AS SELECT * FROM (SELECT unnest($ids) AS product_id, unnest($cats) AS category, "
                "unnest($price) AS unit_price, unnest($cost) AS unit_cost)",
                {"ids": products, "cats": categories.tolist(), "price": price.tolist(), "cost": (price * 0.6).tolist()})
    truth = []
    for cid, start, length, shop, items, lift in plan:
        window = slice(start, start + length)
        for i, s_ in enumerate(shop):
            for j, p_ in enumerate(items):
                truth.append({"campaign_id": cid, "store_id": stores[s_], "product_id": products[p_],
                              "true_lift_pct": 100 * lift[i, j],
                              "expected_baseline_units": baseline[window, s_, p_].sum(),
                              "expected_promo_units": expected[window, s_, p_].sum()})
    truth = pd.DataFrame(truth)
    truth.attrs["baseline"] = baseline
    return con, truth


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    con, truth = planted_chain(tmp_path_factory.mktemp("lift") / "w.duckdb")
    result = measure_campaigns(con)
    con.close()
    return result, truth


def test_recovers_planted_lifts_with_honest_intervals(measured):
    result, truth = measured
    cells = result.table[result.table["level"] == "cell"].merge(truth, on=["campaign_id", "store_id", "product_id"])
    cells = cells[cells["status"] == "ok"]
    assert len(cells) >= 80
    error = (cells["lift_pct"] - cells["true_lift_pct"]).abs()
    oracle = (100 * (cells["actual_units"] / cells["expected_baseline_units"] - 1) - cells["true_lift_pct"]).abs()
    assert error.median() <= 1.35 * oracle.median()
    covered = (cells["lift_low"] <= cells["true_lift_pct"]) & (cells["true_lift_pct"] <= cells["lift_high"])
    assert 0.78 <= covered.mean() <= 0.99
    sums = truth.groupby("campaign_id")[["expected_baseline_units", "expected_promo_units"]].sum()
    true_total = 100 * (sums["expected_promo_units"] / sums["expected_baseline_units"] - 1)
    totals = result.table[(result.table["level"] == "campaign") & result.table["campaign_id"].isin(true_total.index)]
    miss = (totals.set_index("campaign_id")["lift_pct"] - true_total).abs()
    assert miss.median() < 8


def test_unmeasurable_campaigns_are_counted_with_their_reason(measured):
    result, _ = measured
    totals = result.table[result.table["level"] == "campaign"].set_index("campaign_id")
    assert totals.loc["X-NOSALES", "status"] == "no_sales"
    assert totals.loc["X-REVERSED", "status"] == "reversed_dates"
    assert totals.loc["X-EARLY", "status"] == "before_history"
    assert totals.loc["X-LATER", "status"] == "planned"
    assert totals.loc["X-STORE", "status"] == "no_products"
    assert totals.loc["X-OVERLAP", "overlaps_with"] == "C00"
    assert "X-OVERLAP" in totals.loc["C00", "overlaps_with"]
    for status in ("no_sales", "reversed_dates", "before_history", "planned", "no_products"):
        assert result.counts[status] == 1
    not_measured = totals[totals["status"] != "ok"]
    assert not_measured["lift_pct"].isna().all()


def test_money_follows_the_units(measured):
    result, _ = measured
    totals = result.table[(result.table["level"] == "campaign") & (result.table["status"] == "ok")]
    assert (totals["incremental_units"] > 0).all()
    # selling at 80% of the price with a 40% margin: extra units earn less than the discount gives away
    assert (totals["incremental_revenue"] < totals["incremental_units"] * 25).all()
    assert np.allclose(totals["roi_gross"], (totals["incremental_margin"] - totals["cost"]) / totals["cost"])
    assert (totals["roi_net_low"] <= totals["roi_net"]).all() and (totals["roi_net"] <= totals["roi_net_high"]).all()


def test_a_campaign_table_without_sales_is_a_clear_error(tmp_path):
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    con.execute("CREATE TABLE sales (date DATE, store_id VARCHAR, product_id VARCHAR, units DOUBLE, "
                "revenue DOUBLE, price DOUBLE, on_promo BOOLEAN)")
    con.execute("CREATE TABLE campaigns (campaign_id VARCHAR, name VARCHAR, start_date DATE, end_date DATE, "
                "type VARCHAR, discount_pct DOUBLE, cost DOUBLE, product_ids VARCHAR[], store_ids VARCHAR[], "
                "_placeholder BOOLEAN)")
    con.execute("INSERT INTO campaigns VALUES ('A', 'a', DATE '2025-01-01', DATE '2025-01-05', 'discount', 10, 1, "
                "['P1'], ['L1'], false)")
    con.execute("CREATE TABLE products (product_id VARCHAR, category VARCHAR, unit_price DOUBLE, unit_cost DOUBLE)")
    result = measure_campaigns(con)
    assert result.counts == {"no_sales": 1} or set(result.counts) <= {"no_sales", "before_history", "planned"}
