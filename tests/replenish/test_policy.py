"""The replenishment policy against hand-computed cases, bad input, the demo's planted truth and properties."""

from __future__ import annotations

import math
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shelfwise.replenish import REASONS, REPLENISHMENT_COLUMNS, UNKNOWN_SUPPLIER, plan_replenishment
from shelfwise.replenish.policy import Z80, Z95, daily_sigma, round_up_to_case, safety_factor

SNAPSHOT = pd.Timestamp("2026-10-31")
DAY1 = SNAPSHOT + pd.Timedelta(days=1)  # the first horizon day
Z_095 = 1.6448536269514722  # Phi^-1(0.95)


def forecast(store="S1", product="P1", daily=10.0, sigma=10.0, days=28, start=DAY1, interval="95"):
    """A series with the given daily mean(s) and a symmetric normal interval of the given sd."""
    mean = np.broadcast_to(np.asarray(daily, dtype=float), (days,))
    frame = pd.DataFrame({"store_id": store, "product_id": product,
                          "date": pd.date_range(start, periods=days), "forecast": mean})
    for level, z in (("95", Z95), ("80", Z80)):
        on = interval == level
        frame[f"lower_{level}"] = mean - z * sigma if on else np.nan
        frame[f"upper_{level}"] = mean + z * sigma if on else np.nan
    return frame


def stock(rows=(("S1", "P1", 40.0, np.nan),), date=SNAPSHOT):
    return pd.DataFrame([{"store_id": s, "product_id": p, "on_hand": h, "on_order": o, "date": date}
                         for s, p, h, o in rows])


def products(rows=(("P1", "F1", 3, 12),)):
    return pd.DataFrame([{"product_id": p, "supplier_id": f, "lead_time_days": lt, "case_pack": c,
                          "unit_cost": 2.5, "name": f"Produto {p}", "category": "mercearia"}
                         for p, f, lt, c in rows])


def suppliers(rows=(("F1", 5),)):
    return pd.DataFrame([{"supplier_id": f, "name": f"Fornecedor {f}", "email": f"{f.lower()}@example.com",
                          "lead_time_days": lt} for f, lt in rows])


def plan(fc=None, st_=None, pr=None, su=None, **kwargs):
    fc = forecast() if fc is None else fc
    return plan_replenishment(fc, stock() if st_ is None else st_, products() if pr is None else pr,
                              suppliers() if su is None else su, **kwargs)


def one(result, product="P1", store="S1"):
    t = result.table
    return t[(t["store_id"] == store) & (t["product_id"] == product)].iloc[0]


# --- the hand-computed case of the issue -------------------------------------------------------------------

def test_hand_case_constant_forecast():
    row = one(plan())
    # forecast 10/day, sigma 10/day (95% interval 10 ± 1.96*10), L = 3, R = 7 -> P = 10
    # D_P = 10 * 10 = 100; sd_P = sqrt(10 * 10^2) = 31.6228; z(0.95) = 1.644854 -> SS = 52.0148
    # S = 100 + 52.0148 = 152.0148; IP = 40 + 0 -> S - IP = 112.0148 -> 9.33 cases of 12 -> 10 cases = 120
    # D_L = 30; sd_L = sqrt(3) * 10 = 17.3205 -> reorder point = 30 + 1.644854 * 17.3205 = 58.4897
    assert row["demand_over_protection"] == pytest.approx(100.0)
    assert row["sd_over_protection"] == pytest.approx(31.6228, abs=1e-4)
    assert row["safety_stock"] == pytest.approx(52.0148, abs=1e-4)
    assert row["order_up_to"] == pytest.approx(152.0148, abs=1e-4)
    assert row["reorder_point"] == pytest.approx(58.4897, abs=1e-4)
    assert row["inventory_position"] == 40
    assert row["suggested_order"] == 120
    assert row["case_pack"] == 12
    assert row["below_reorder_point"]
    # cover 40 / 10 = 4 days; stock-out: 40 - 10k <= 0 first at k = 4 -> 04/11
    assert row["days_of_cover"] == pytest.approx(4.0)
    assert row["stockout_date"] == pd.Timestamp("2026-11-04")
    # IP 40 >= D_L 30: the position covers the lead time
    assert not row["cover_shorter_than_lead_time"]
    assert row["position_cover_days"] == pytest.approx(4.0)
    assert row["supplier_id"] == "F1"
    assert row["lead_time_days"] == 3 and row["lead_time_source"] == "product" and not row["lead_time_assumed"]
    assert row["notes"] == ""


def test_table_has_the_columns_of_the_issue_first_and_nothing_else_undocumented():
    issue = ["store_id", "product_id", "supplier_id", "on_hand", "on_order", "lead_time_days", "review_period_days",
             "demand_over_protection", "safety_stock", "reorder_point", "order_up_to", "suggested_order",
             "case_pack", "days_of_cover", "stockout_date", "cover_shorter_than_lead_time", "lead_time_assumed",
             "notes"]
    table = plan().table
    assert list(table.columns) == list(REPLENISHMENT_COLUMNS)
    assert list(table.columns[: len(issue)]) == issue


def test_the_table_writes_to_duckdb_with_sql_types():
    table = plan(st_=stock([("S1", "P1", 40.0, np.nan)]), fc=pd.concat([forecast(), forecast(product="P2")]),
                 pr=products([("P1", "F1", 3, 12)])).table
    con = duckdb.connect()
    con.register("frame", table)
    con.execute("CREATE TABLE replenishment AS SELECT * FROM frame")
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = 'replenishment'").fetchall())
    assert types["suggested_order"] == "BIGINT" and types["cover_shorter_than_lead_time"] == "BOOLEAN"
    assert types["store_id"] == "VARCHAR" and types["stockout_date"].startswith("TIMESTAMP")
    nulls = con.execute("SELECT suggested_order, cover_shorter_than_lead_time FROM replenishment "
                        "WHERE product_id = 'P2'").fetchone()
    assert nulls == (None, None)  # P2 has no stock snapshot


# --- intervals and the safety factor ----------------------------------------------------------------------

def test_safety_factor_is_the_normal_quantile():
    assert safety_factor(0.95) == pytest.approx(Z_095)
    assert safety_factor(0.5) == 0.0


def test_sigma_from_the_80_interval_when_the_95_one_is_missing():
    # 80% interval 10 ± 1.28155 * 4 -> sigma 4
    sigma = daily_sigma(forecast(sigma=4.0, days=1, interval="80"))
    assert sigma.iloc[0] == pytest.approx(4.0)


def test_sigma_from_the_upper_half_when_the_lower_bound_was_clipped_at_zero():
    # true sd 3 around a mean of 2: lower 2 - 5.88 clipped to 0, upper 2 + 5.88 = 7.88
    # full width / 3.92 = 2.01 would understate; the upper half 5.88 / 1.96 = 3 is kept
    frame = forecast(daily=2.0, sigma=3.0, days=1)
    frame["lower_95"] = 0.0
    assert daily_sigma(frame).iloc[0] == pytest.approx(3.0)


def test_no_interval_reads_as_zero_spread_and_is_noted():
    fc = forecast(interval="none")
    result = plan(fc)
    row = one(result)
    # no spread -> SS = 0, S = D_P = 100; IP = 40 -> 60 -> 5 cases of 12 = 60
    assert row["safety_stock"] == 0 and row["order_up_to"] == pytest.approx(100)
    assert row["suggested_order"] == 60
    assert "no_interval" in row["notes"] and result.counts["no_interval"] == 1


# --- rounding to the case pack -----------------------------------------------------------------------------

@pytest.mark.parametrize(("on_hand", "case_pack", "expected"), [
    (76.0, 12, 24),     # S = 100 (service level 0.5 -> SS = 0): need 24 = exactly 2 cases
    (75.5, 12, 36),     # need 24.5 -> 3 cases
    (99.0, 12, 12),     # need 1 -> a whole case
    (100.0, 12, 0),     # IP = S: nothing
    (130.0, 12, 0),     # IP above S: nothing, never negative
    (76.5, None, 24),   # no case pack -> 1 unit: ceil(23.5) = 24
    (76.5, 0, 24),      # case pack 0 -> 1
])
def test_rounding_up_to_the_case_pack(on_hand, case_pack, expected):
    row = one(plan(st_=stock([("S1", "P1", on_hand, np.nan)]), pr=products([("P1", "F1", 3, case_pack)]),
                   service_level=0.5))
    assert row["order_up_to"] == pytest.approx(100.0)
    assert row["suggested_order"] == expected
    assert row["case_pack"] == (case_pack or 1)
    assert ("case_pack_assumed" in row["notes"]) == (not case_pack)


def test_round_up_to_case_ignores_floating_point_noise():
    got = round_up_to_case(pd.Series([24.000000001, 24.1, -3.0]), pd.Series([12, 12, 12]))
    assert got.tolist() == [24.0, 36.0, 0.0]


# --- lead times ---------------------------------------------------------------------------------------------

def test_lead_time_zero_protects_the_review_period_only():
    row = one(plan(st_=stock([("S1", "P1", 40.0, 8.0)]), pr=products([("P1", "F1", 0, 1)])))
    # L = 0, R = 7 -> P = 7: D_P = 70, SS = 1.644854 * sqrt(7) * 10 = 1.644854 * 26.4575 = 43.5187
    # S = 113.5187; reorder point = D_L + SS_L = 0; IP = 48 -> need 65.5187 -> 66 (case pack 1)
    assert row["demand_over_protection"] == pytest.approx(70)
    assert row["safety_stock"] == pytest.approx(43.5187, abs=1e-4)
    assert row["reorder_point"] == 0
    assert row["suggested_order"] == 66
    # the 8 on order count from day 1: 48 - 10k <= 0 first at k = 5 -> 05/11
    assert row["stockout_date"] == pd.Timestamp("2026-11-05")
    assert not row["cover_shorter_than_lead_time"] and not row["lead_time_assumed"]


def test_missing_lead_time_falls_back_to_the_supplier_then_the_default():
    fc = pd.concat([forecast(product=p) for p in ("PA", "PB", "PC", "PD")])
    st_ = stock([("S1", p, 40.0, 0.0) for p in ("PA", "PB", "PC", "PD")])
    pr = products([("PA", "F1", 3, 1), ("PB", "F1", None, 1), ("PC", "F2", None, 1), ("PD", "F2", -2, 1)])
    result = plan(fc, st_, pr, suppliers([("F1", 5), ("F2", None)]), default_lead_time_days=9)
    got = result.table.set_index("product_id")
    assert got["lead_time_days"].to_dict() == {"PA": 3, "PB": 5, "PC": 9, "PD": 9}
    assert got["lead_time_source"].to_dict() == {"PA": "product", "PB": "supplier", "PC": "default", "PD": "default"}
    assert got["lead_time_assumed"].tolist() == [False, False, True, True]
    assert result.counts["lead_time_from_supplier"] == 1 and result.counts["lead_time_assumed"] == 2
    # PB: L = 5 -> P = 12 -> D_P = 120
    assert got.loc["PB", "demand_over_protection"] == pytest.approx(120)


def test_fractional_lead_time_rounds_up_to_whole_days():
    assert one(plan(pr=products([("P1", "F1", 2.2, 12)])))["lead_time_days"] == 3


# --- bad input --------------------------------------------------------------------------------------------

def test_a_product_without_a_record_is_planned_with_the_unknown_supplier_and_counted():
    result = plan(pr=products([("OTHER", "F1", 3, 12)]), default_lead_time_days=4)
    row = one(result)
    assert row["supplier_id"] == UNKNOWN_SUPPLIER
    assert row["case_pack"] == 1 and row["lead_time_days"] == 4 and row["lead_time_assumed"]
    assert "no_product_record" in row["notes"] and "case_pack_assumed" not in row["notes"]
    assert result.counts["no_product_record"] == 1 and result.counts["lead_time_assumed"] == 1
    # L = 4, R = 7: D_P = 110, SS = 1.644854 * sqrt(11) * 10 = 54.5537; S - IP = 124.5537 -> 125 (case 1)
    assert row["suggested_order"] == 125


def test_a_placeholder_product_counts_as_no_record():
    pr = products([("P1", None, None, None)]).assign(_placeholder=True)
    result = plan(pr=pr)
    assert one(result)["supplier_id"] == UNKNOWN_SUPPLIER
    assert result.counts["no_product_record"] == 1 and result.counts["no_supplier"] == 0


def test_a_product_record_without_supplier_and_a_supplier_without_record_are_counted():
    fc = pd.concat([forecast(product="PA"), forecast(product="PB")])
    st_ = stock([("S1", "PA", 40.0, 0.0), ("S1", "PB", 40.0, 0.0)])
    result = plan(fc, st_, products([("PA", None, 3, 1), ("PB", "F9", 3, 1)]))
    got = result.table.set_index("product_id")["supplier_id"].to_dict()
    assert got == {"PA": UNKNOWN_SUPPLIER, "PB": "F9"}
    assert result.counts["no_supplier"] == 1 and result.counts["supplier_not_found"] == 1


def test_a_series_without_stock_is_kept_without_an_order_and_counted():
    result = plan(st_=stock([("S2", "P1", 40.0, 0.0)]))
    row = one(result)
    assert math.isnan(row["on_hand"]) and math.isnan(row["on_order"])
    assert row["suggested_order"] is pd.NA and row["cover_shorter_than_lead_time"] is pd.NA
    assert math.isnan(row["days_of_cover"]) and row["stockout_date"] is pd.NaT
    assert row["order_up_to"] == pytest.approx(152.0148, abs=1e-4)  # the demand side is still there
    assert "no_stock_snapshot" in row["notes"] and result.counts["no_stock_snapshot"] == 1
    # the stock of S2 has no forecast: left out of the table, listed and counted
    assert result.excluded.to_dict("records") == [{"store_id": "S2", "product_id": "P1", "reason": "no_forecast"}]
    assert result.counts["no_forecast"] == 1


def test_a_series_without_stock_can_be_planned_as_if_empty():
    result = plan(st_=stock([("S2", "P1", 40.0, 0.0)]), assume_missing_stock_zero=True)
    row = one(result)
    # IP = 0: S = 152.0148 -> 12.67 cases -> 13 cases = 156; out of stock from day 1
    assert row["inventory_position"] == 0 and row["suggested_order"] == 156
    assert math.isnan(row["on_hand"]) and row["stockout_date"] == DAY1
    assert row["notes"] == "stock_assumed_zero"
    assert result.counts["stock_assumed_zero"] == 1 and result.counts["no_stock_snapshot"] == 0


def test_zero_forecast_gives_no_cover_and_no_crash():
    result = plan(fc=forecast(daily=0.0, sigma=0.0), st_=stock([("S1", "P1", 5.0, 0.0)]))
    row = one(result)
    assert math.isnan(row["days_of_cover"]) and row["stockout_date"] is pd.NaT
    assert row["suggested_order"] == 0 and not row["cover_shorter_than_lead_time"]
    assert row["position_cover_days"] == math.inf
    assert "zero_demand" in row["notes"] and result.counts["zero_demand"] == 1


def test_negative_on_hand_reads_as_zero():
    result = plan(st_=stock([("S1", "P1", -15.0, 0.0)]))
    row = one(result)
    # IP = 0 -> same order as an empty shelf: 156; stock-out on day 1
    assert row["on_hand"] == 0 and row["suggested_order"] == 156 and row["stockout_date"] == DAY1
    assert row["notes"] == "negative_on_hand" and result.counts["negative_on_hand"] == 1


def test_negative_forecast_reads_as_zero_demand():
    row = one(plan(fc=forecast(daily=-3.0, sigma=0.0)))
    assert row["demand_over_protection"] == 0 and "zero_demand" in row["notes"]


def test_rows_without_ids_and_empty_inputs_do_not_crash():
    fc = pd.concat([forecast(), forecast(store=None)])
    assert len(plan(fc).table) == 1
    empty = plan(fc=forecast().iloc[0:0])
    assert empty.table.empty and list(empty.table.columns) == list(REPLENISHMENT_COLUMNS)
    assert empty.counts["no_forecast"] == 1


def test_a_missing_required_column_names_the_column():
    with pytest.raises(ValueError, match=r"stock lacks column.*on_hand"):
        plan(st_=stock().drop(columns="on_hand"))


@pytest.mark.parametrize("kwargs", [{"service_level": 0.3}, {"service_level": 1.0}, {"review_period_days": 0},
                                    {"default_lead_time_days": -1}, {"review_period_days": 2.5}])
def test_parameters_out_of_range_are_refused(kwargs):
    with pytest.raises(ValueError, match=r"must be|out of range"):
        plan(**kwargs)


# --- the horizon -----------------------------------------------------------------------------------------

def test_protection_past_the_horizon_is_extended_with_the_tail_mean():
    # 9 horizon days: 4 days of 10 then 5 of 20; tail = last 7 = 10, 10, 20*5 -> mean 120/7 = 17.1429
    # L = 3, R = 7 -> P = 10: D_P = 40 + 100 + 1 * 17.1429 = 157.1429
    fc = forecast(daily=[10] * 4 + [20] * 5, sigma=0.0, days=9)
    result = plan(fc=fc, service_level=0.5)
    row = one(result)
    assert row["horizon_days"] == 9 and row["horizon_extended"]
    assert row["demand_over_protection"] == pytest.approx(140 + 120 / 7)
    assert result.counts["horizon_extended"] == 1


def test_days_on_or_before_the_snapshot_or_today_are_dropped():
    fc = forecast(start=SNAPSHOT - pd.Timedelta(days=1), days=30)  # 30/10 to 28/11
    row = one(plan(fc=fc))  # 30/10 and 31/10 dropped: 01/11 is day 1; 40 - 10k <= 0 at k = 4 -> 04/11
    assert row["horizon_days"] == 28 and row["stockout_date"] == pd.Timestamp("2026-11-04")
    row = one(plan(fc=fc, today=date(2026, 11, 2)))  # up to 02/11 dropped: 03/11 is day 1 -> k = 4 is 06/11
    assert row["horizon_days"] == 26 and row["stockout_date"] == pd.Timestamp("2026-11-06")
    assert row["notes"] == "stale_snapshot"


def test_the_latest_snapshot_of_a_series_wins():
    st_ = pd.concat([stock([("S1", "P1", 999.0, 0.0)], date=SNAPSHOT - pd.Timedelta(days=1)), stock()])
    assert one(plan(st_=st_))["on_hand"] == 40


# --- stock-out date and the cover flag ---------------------------------------------------------------------

@pytest.mark.parametrize(("on_order", "lead", "day"), [
    (0.0, 3, 3),    # 25 - 10k: 15, 5, -5 -> day 3
    (10.0, 3, 4),   # the 10 arrive at day 3: 15, 5, 25 + 10 - 30 = 5, -5 -> day 4
    (10.0, 5, 3),   # they arrive at day 5, too late: day 3
    (5.0, 2, 3),    # arrive at day 2: 15, 25 + 5 - 20 = 10, 0 -> day 3 (zero counts as out)
])
def test_stockout_date_with_on_order_arriving_at_the_lead_time(on_order, lead, day):
    row = one(plan(st_=stock([("S1", "P1", 25.0, on_order)]), pr=products([("P1", "F1", lead, 1)])))
    assert row["stockout_date"] == DAY1 + pd.Timedelta(days=day - 1)


def test_cover_shorter_than_lead_time_uses_the_stock_position():
    fc = pd.concat([forecast(product=p) for p in ("PA", "PB", "PC")])
    st_ = stock([("S1", "PA", 30.0, 0.0), ("S1", "PB", 30.0, 30.0), ("S1", "PC", 50.0, 0.0)])
    got = plan(fc, st_, products([(p, "F1", 5, 1) for p in ("PA", "PB", "PC")])).table.set_index("product_id")
    # L = 5 -> D_L = 50, 10/day over the lead time
    # PA: IP 30 -> 3 days < 5: flagged. PB: on hand lasts 3 days too, but 30 more are coming: IP 60 -> 6 days.
    # PC: IP 50 = D_L -> exactly 5 days: not shorter.
    assert got["cover_shorter_than_lead_time"].tolist() == [True, False, False]
    assert got["position_cover_days"].tolist() == pytest.approx([3.0, 6.0, 5.0])
    assert got["days_of_cover"].tolist() == pytest.approx([3.0, 3.0, 5.0])


def test_summary_speaks_portuguese_and_english():
    result = plan(pr=products([("OTHER", "F1", 3, 12)]))
    assert result.summary() == ["produtos sem cadastro (fornecedor desconhecido, embalagem 1): 1",
                                "prazos de entrega assumidos (padrão): 1"]
    assert "lead times assumed (default): 1" in result.summary("en")
    assert all(set(labels) == {"pt", "en"} for labels in REASONS.values())


def test_demo_snapshot_flags_exactly_the_low_cover_items():
    from shelfwise.demo.catalog import DISPERSION
    from shelfwise.demo.chain import simulate_chain

    chain = simulate_chain(np.random.default_rng(7), date(2026, 10, 31))
    n, pr, stores = chain.n_obs, chain.products, chain.stores
    mean = chain.expected[n: n + 28]  # the planted expected demand as a perfect forecast
    sd = np.sqrt(mean + mean**2 / np.array([DISPERSION[c] for c in pr["category"]]))  # negative binomial
    d, s, p = np.indices(mean.shape).reshape(3, -1)
    fc = pd.DataFrame({"store_id": stores["store_id"].to_numpy()[s], "product_id": pr["product_id"].to_numpy()[p],
                       "date": chain.days[n: n + 28][d], "forecast": mean.ravel(),
                       "lower_95": np.maximum(mean - Z95 * sd, 0).ravel(), "upper_95": (mean + Z95 * sd).ravel()})
    s, p = np.indices(chain.on_hand[n - 1].shape).reshape(2, -1)
    st_ = pd.DataFrame({"store_id": stores["store_id"].to_numpy()[s], "product_id": pr["product_id"].to_numpy()[p],
                        "on_hand": chain.on_hand[n - 1].ravel(), "on_order": chain.on_order[n - 1].ravel(),
                        "date": chain.days[n - 1]})
    table = plan_replenishment(fc, st_, pr, chain.suppliers).table
    flagged = table.loc[table["cover_shorter_than_lead_time"].astype(bool), ["store_id", "product_id"]]
    truth = chain.low_cover[["store_id", "product_id"]]
    assert len(truth) >= 10 and chain.low_cover["planted"].sum() == 10
    assert sorted(map(tuple, flagged.to_numpy())) == sorted(map(tuple, truth.to_numpy()))
    assert (table.loc[flagged.index, "suggested_order"] > 0).all()


# --- properties ---------------------------------------------------------------------------------------------
# Each example plans a batch of up to 8 random series at once (a pandas run costs the same for 1 or 8 rows).

@st.composite
def series(draw, product):
    days = draw(st.integers(1, 21))
    daily = draw(st.lists(st.floats(0, 60, allow_nan=False), min_size=days, max_size=days))
    sigma = draw(st.floats(0, 25, allow_nan=False))
    lead = draw(st.one_of(st.none(), st.integers(0, 14)))
    case_pack = draw(st.one_of(st.none(), st.integers(0, 48)))
    on_hand = draw(st.floats(-20, 800, allow_nan=False))
    on_order = draw(st.one_of(st.just(np.nan), st.floats(0, 300, allow_nan=False)))
    extra = draw(st.floats(0, 500, allow_nan=False))
    return {"daily": daily, "sigma": sigma, "lead": lead, "case_pack": case_pack, "on_hand": on_hand,
            "on_order": on_order, "extra": extra, "product": product}


@st.composite
def batches(draw):
    n = draw(st.integers(1, 8))
    return [draw(series(f"P{i}")) for i in range(n)], draw(st.integers(1, 14))


def run(batch, *, service_level=0.95, more_on_hand=False):
    """Plan every series of the batch in store S1 and, with `more_on_hand`, again in S2 with `extra` more."""
    specs, review = batch
    stores = ["S1", "S2"] if more_on_hand else ["S1"]
    fc = pd.concat([forecast(store=s, product=x["product"], daily=x["daily"], sigma=x["sigma"], days=len(x["daily"]))
                    for x in specs for s in stores])
    rows = [("S1", x["product"], x["on_hand"], x["on_order"]) for x in specs]
    rows += [("S2", x["product"], max(x["on_hand"], 0) + x["extra"], x["on_order"]) for x in specs if more_on_hand]
    pr = products([(x["product"], "F1", x["lead"], x["case_pack"]) for x in specs])
    table = plan(fc, stock(rows), pr, service_level=service_level, review_period_days=review).table
    return table.set_index(["store_id", "product_id"]).sort_index()


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(batches())
def test_the_order_is_a_non_negative_whole_number_of_cases(batch):
    table = run(batch)
    assert (table["case_pack"] >= 1).all()
    assert (table["suggested_order"] >= 0).all()
    assert (table["suggested_order"] % table["case_pack"] == 0).all()


@PROPERTY
@given(batches(), st.floats(0.5, 0.999), st.floats(0.5, 0.999))
def test_a_higher_service_level_never_lowers_safety_stock_or_order(batch, a, b):
    low, high = run(batch, service_level=min(a, b)), run(batch, service_level=max(a, b))
    assert (high["safety_stock"] >= low["safety_stock"]).all()
    assert (high["suggested_order"] >= low["suggested_order"]).all()


@PROPERTY
@given(batches())
def test_more_on_hand_never_raises_the_order(batch):
    table = run(batch, more_on_hand=True)
    more, base = table.loc["S2", "suggested_order"], table.loc["S1", "suggested_order"]
    assert (more <= base).all()
