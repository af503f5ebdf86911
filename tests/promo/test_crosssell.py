"""Cross-sell on real DuckDB files with planted truth: receipts whose pairs, lifts and segments are known."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from shelfwise.promo.crosssell import (
    RECOMMENDATION_COLUMNS,
    RECOMMENDATIONS_DDL,
    RULE_COLUMNS,
    association_rules,
    basket_items,
    recommendations,
)
from shelfwise.runs import store_rows

BACKGROUND = [f"B{i:02d}" for i in range(1, 21)]
PLANTED_LIFT = {("X1", "Y1"): 0.6 / 0.05, ("X2", "Y2"): 0.5 / 0.10}
SEGMENT_LIFT = 0.5 / 0.10  # S1 -> S2, only among segment A's receipts

TRANSACTIONS_DDL = """
CREATE TABLE transactions (transaction_id VARCHAR, timestamp TIMESTAMP, amount DOUBLE, customer_id VARCHAR,
                           card_token VARCHAR, store_id VARCHAR, product_id VARCHAR, quantity DOUBLE,
                           payment_method VARCHAR)
"""
KEYS_DDL = ("CREATE TABLE person_keys (run_id VARCHAR, kind VARCHAR, key VARCHAR, person_id VARCHAR, "
            "evidence VARCHAR, strength BIGINT)")
SEGMENTS_DDL = ("CREATE TABLE customer_segments (run_id VARCHAR, person_id VARCHAR, segment_id BIGINT, "
                "segment_name VARCHAR, segment_name_en VARCHAR)")


def _followers(rng: np.random.Generator, leader: np.ndarray, given: float, base: float) -> np.ndarray:
    """Y with P(Y | X) = given and P(Y) = base: P(Y | not X) solves the mixture."""
    otherwise = (base - leader.mean() * given) / (1 - leader.mean())
    return rng.random(len(leader)) < np.where(leader, given, otherwise)


def supermarket_receipts(seed: int = 0, n_receipts: int = 15_000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Receipts (one column per product, True if bought) and their owners, from planted probabilities.

    Every receipt holds a bag (BAG), so none is empty and independence is not bent by dropping empty receipts.
    """
    rng = np.random.default_rng(seed)
    owner = np.where(rng.random(n_receipts) < 0.2, -1, rng.integers(0, 600, n_receipts))  # -1: anonymous
    segment_a = (owner >= 0) & (owner < 300)
    items = {"BAG": np.ones(n_receipts, dtype=bool)}
    items |= {name: rng.random(n_receipts) < 0.08 for name in BACKGROUND}
    items["X1"] = rng.random(n_receipts) < 0.05
    items["Y1"] = _followers(rng, items["X1"], 0.6, 0.05)
    items["X2"] = rng.random(n_receipts) < 0.08
    items["Y2"] = _followers(rng, items["X2"], 0.5, 0.10)
    items["S1"] = rng.random(n_receipts) < 0.10
    items["S2"] = rng.random(n_receipts) < 0.10
    items["S2"][segment_a] = _followers(rng, items["S1"][segment_a], 0.5, 0.10)
    matrix = pd.DataFrame(items, index=pd.Index([f"T{i:06d}" for i in range(n_receipts)], name="transaction_id"))
    owners = pd.DataFrame({"transaction_id": matrix.index, "owner": owner,
                           "by_card": rng.random(n_receipts) < 0.5}, index=matrix.index)
    return matrix, owners


def receipt_lines(matrix: pd.DataFrame, owners: pd.DataFrame) -> pd.DataFrame:
    """Line-level transactions: the bought items, plus service lines (no product), returns and re-scans."""
    bought = matrix.stack().loc[lambda s: s].index.to_frame(index=False, name=["transaction_id", "product_id"])
    service = pd.DataFrame({"transaction_id": matrix.index[::10], "product_id": None})
    # a Y1 handed back on X1 receipts without Y1: counted as a purchase it would push P(Y1 | X1) to 1
    returned = matrix.index[matrix["X1"] & ~matrix["Y1"]]
    returns = pd.DataFrame({"transaction_id": returned, "product_id": "Y1", "quantity": -1.0})
    rescans = bought[bought["product_id"] == "X2"]
    lines = pd.concat([bought.assign(quantity=1.0), service.assign(quantity=1.0), returns, rescans.assign(
        quantity=1.0)], ignore_index=True).merge(owners, left_on="transaction_id", right_index=True,
                                                 suffixes=("", "_"))
    person = lines["owner"].map(lambda o: f"{o:04d}")  # ids of the person's loyalty record and card
    known = lines["owner"] >= 0
    number = lines["transaction_id"].str[1:].astype(int)
    return pd.DataFrame({
        "transaction_id": lines["transaction_id"],
        "timestamp": pd.Timestamp("2026-01-01 08:00") + pd.to_timedelta(number, unit="min"),
        "amount": 10.0 * lines["quantity"], "customer_id": ("C" + person).where(known & ~lines["by_card"]),
        "card_token": ("K" + person).where(known & lines["by_card"]), "store_id": "001",
        "product_id": lines["product_id"], "quantity": lines["quantity"], "payment_method": "Pix"})


def load_people(con: duckdb.DuckDBPyConnection, persons: int, segment_of: dict[str, str]) -> None:
    """person_keys and customer_segments as the identity and segment steps store them (two segment runs)."""
    ids = [f"{i:04d}" for i in range(persons)]
    keys = pd.DataFrame({"kind": ["customer"] * persons + ["card"] * persons,
                         "key": [f"C{i}" for i in ids] + [f"K{i}" for i in ids],
                         "person_id": [f"P{i}" for i in ids] * 2, "evidence": "test", "strength": 1})
    con.execute(KEYS_DDL)
    store_rows(con, "person_keys", "20260101T000000-identity-test", keys)
    con.execute(SEGMENTS_DDL)
    names = pd.Series([segment_of.get(i, "Poucos dados") for i in ids])
    latest = pd.DataFrame({"person_id": [f"P{i}" for i in ids], "segment_name": names,
                           "segment_id": names.map({"A": 0, "B": 1}).fillna(-2).astype("int64")})
    store_rows(con, "customer_segments", "20260102T000000-segment-new", latest.assign(segment_name_en=names))
    store_rows(con, "customer_segments", "20250101T000000-segment-old",
               latest.assign(segment_name="Old", segment_id=0, segment_name_en="Old"))


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    """A supermarket warehouse: 15,000 receipts, 600 persons in segments A (0-299) and B (300-589)."""
    matrix, owners = supermarket_receipts()
    con = duckdb.connect(tmp_path_factory.mktemp("market") / "w.duckdb")
    con.execute(TRANSACTIONS_DDL)
    con.register("lines", receipt_lines(matrix, owners))
    con.execute("INSERT INTO transactions SELECT * FROM lines")
    con.unregister("lines")
    # persons 590-599 are left unclassified (segment_id -2): their receipts count in the overall rules only
    load_people(con, 600, {f"{i:04d}": "A" if i < 300 else "B" for i in range(590)})
    con.execute("CREATE TABLE products (product_id VARCHAR, name VARCHAR)")
    con.execute("INSERT INTO products SELECT unnest(?), 'Produto ' || unnest(?)", [list(matrix), list(matrix)])
    yield con, matrix, owners
    con.close()


def _oracle_lift(matrix: pd.DataFrame, x: str, y: str) -> float:
    both = (matrix[x] & matrix[y]).sum()
    return both / matrix[x].sum() / matrix[y].mean()


def test_basket_items_counts_what_it_leaves_out(market):
    con, matrix, _ = market
    baskets = basket_items(con)
    assert baskets.attrs["item_kind"] == "product"
    assert baskets.attrs["baskets"] == len(matrix)
    assert len(baskets) == matrix.to_numpy().sum()  # one row per bought item: re-scans deduplicated
    assert baskets.attrs["return_lines"] == (matrix["X1"] & ~matrix["Y1"]).sum()
    assert baskets.attrs["lines_without_item"] == len(matrix.index[::10])
    assert set(baskets.dropna(subset=["segment"])["segment"]) == {"A", "B"}  # the latest run, classified only


def test_rare_items_are_blanked_but_their_baskets_still_count(market):
    con, matrix, _ = market
    baskets = basket_items(con, min_item_baskets=2_000)  # keeps BAG (all) and nothing else
    assert baskets["basket_id"].nunique() == len(matrix)
    assert set(baskets["item"]) == {"BAG"}
    assert baskets.attrs["rare_items"] == matrix.shape[1] - 1


def test_planted_pairs_are_the_top_rules_with_their_lift(market):
    con, matrix, _ = market
    rules = association_rules(basket_items(con))
    assert list(rules.columns) == RULE_COLUMNS
    top = set(zip(rules["antecedent"].head(4), rules["consequent"].head(4), strict=True))
    assert top == {("X1", "Y1"), ("Y1", "X1"), ("X2", "Y2"), ("Y2", "X2")}
    for (x, y), planted in PLANTED_LIFT.items():
        rule = rules[(rules["antecedent"] == x) & (rules["consequent"] == y)].iloc[0]
        assert rule["lift"] == pytest.approx(planted, rel=0.20)
        assert rule["lift"] == pytest.approx(_oracle_lift(matrix, x, y), rel=1e-9)
        assert rule["baskets_with_both"] == (matrix[x] & matrix[y]).sum()
        assert rule["confidence"] == pytest.approx((matrix[x] & matrix[y]).sum() / matrix[x].sum(), rel=1e-9)


def test_independent_items_have_lift_near_one(market):
    con, _, _ = market
    rules = association_rules(basket_items(con), min_lift=0.0, min_confidence=0.0)
    background = rules[rules["antecedent"].isin(BACKGROUND) & rules["consequent"].isin(BACKGROUND)]
    assert len(background) == len(BACKGROUND) * (len(BACKGROUND) - 1)  # every pair clears 20 baskets
    assert background["lift"].between(0.7, 1.4).all()
    assert background["lift"].median() == pytest.approx(1.0, abs=0.05)
    bag = rules[rules["consequent"] == "BAG"]
    assert np.allclose(bag["lift"], 1.0) and np.allclose(bag["confidence"], 1.0)


def test_an_explicit_min_support_raises_the_floor(market):
    con, matrix, _ = market
    rules = association_rules(basket_items(con), min_support=0.04)
    assert rules.attrs["min_pair_baskets"] == 0.04 * len(matrix)
    assert (rules["support"] >= 0.04).all() and {"X2", "Y2"} <= set(rules["antecedent"])
    assert not ((rules["antecedent"] == "X1") & (rules["consequent"] == "Y1")).any()  # support 0.030: below it


def test_max_len_three_joins_item_ids(market):
    con, _, _ = market
    rules = association_rules(basket_items(con), max_len=3)
    assert {"BAG;X1", "BAG;Y1"} & set(rules["antecedent"])
    assert rules["antecedent"].str.count(";").max() == 1


def test_recommendations_overall_and_per_segment(market):
    con, _, _ = market
    recs = recommendations(con, top_n=3)
    assert list(recs.columns) == RECOMMENDATION_COLUMNS
    overall = recs[recs["scope"] == "all"]
    pairs = set(zip(overall["item_id"], overall["recommended_id"], strict=True))
    assert {("X1", "Y1"), ("Y1", "X1"), ("X2", "Y2"), ("Y2", "X2")} <= pairs
    assert overall.loc[overall["item_id"] == "X1", "recommended_name"].iloc[0] == "Produto Y1"
    assert not recs["item_id"].isin([*BACKGROUND, "BAG"]).any()  # independent items are never recommended
    assert not recs["recommended_id"].isin([*BACKGROUND, "BAG"]).any()
    assert set(recs["segment"].dropna()) == {"A", "B"}
    by_segment = {name: set(zip(group["item_id"], group["recommended_id"], strict=True))
                  for name, group in recs[recs["scope"] == "segment"].groupby("segment")}
    assert ("S1", "S2") in by_segment["A"] and ("S2", "S1") in by_segment["A"]
    assert not {("S1", "S2"), ("S2", "S1")} & by_segment["B"]
    a_rule = recs[(recs["segment"] == "A") & (recs["item_id"] == "S1") & (recs["recommended_id"] == "S2")]
    assert a_rule["lift"].iloc[0] == pytest.approx(SEGMENT_LIFT, rel=0.20)
    assert (recs["lift_lower"] < recs["lift"]).all() and (recs["lift_lower"] > 1).all()
    assert recs.groupby(["scope", "segment", "item_id"], dropna=False)["rank"].max().le(3).all()


def test_recommendations_fit_the_recommendations_table(market):
    con, _, _ = market
    recs = recommendations(con, by_segment=False)
    con.execute(RECOMMENDATIONS_DDL)
    store_rows(con, "recommendations", "20260103T000000-crosssell-test", recs)
    assert con.execute("SELECT count(*), count(DISTINCT scope) FROM recommendations").fetchall() == [(len(recs), 1)]


def mall_visits(seed: int = 1, persons: int = 400, days: int = 90) -> pd.DataFrame:
    """Shops visited per person-day (True/False columns); cinema-goers eat at the food court 70% of the time."""
    rng = np.random.default_rng(seed)
    rows = rng.random(persons * days) < 0.3
    n = int(rows.sum())
    shops = {f"M{i:02d}": rng.random(n) < 0.12 for i in range(1, 13)}
    shops["CINEMA"] = rng.random(n) < 0.10
    shops["FOOD"] = rng.random(n) < np.where(shops["CINEMA"], 0.7, 0.08)
    visits = pd.DataFrame(shops)
    visits["person"] = np.flatnonzero(rows) // days
    visits["day"] = np.flatnonzero(rows) % days
    return visits[visits[list(shops)].any(axis=1)].reset_index(drop=True)


@pytest.fixture(scope="module")
def mall(tmp_path_factory):
    """A mall warehouse: one receipt per shop visited, no product ids; persons known by card (some not at all)."""
    visits = mall_visits()
    shops = [c for c in visits.columns if c not in ("person", "day")]
    long = visits.melt(id_vars=["person", "day"], var_name="store_id", value_name="bought")
    long = long[long["bought"]].reset_index(drop=True)
    card = "K" + long["person"].map(lambda p: f"{p:04d}")
    receipts = pd.DataFrame({
        "transaction_id": [f"R{i:06d}" for i in range(len(long))],
        "timestamp": pd.Timestamp("2026-03-01 10:00") + pd.to_timedelta(long["day"], unit="D")
        + pd.to_timedelta(long.index % 500, unit="min"),
        "amount": 50.0, "customer_id": None, "card_token": card, "store_id": long["store_id"], "product_id": None,
        "quantity": None, "payment_method": "Crédito"})
    anonymous = receipts.head(25).assign(transaction_id=lambda f: "A" + f["transaction_id"], card_token=None)
    con = duckdb.connect(tmp_path_factory.mktemp("mall") / "w.duckdb")
    con.execute(TRANSACTIONS_DDL)
    con.register("receipts", pd.concat([receipts, anonymous], ignore_index=True))
    con.execute("INSERT INTO transactions SELECT * FROM receipts")
    con.unregister("receipts")
    con.execute(KEYS_DDL)  # the first 300 cards belong to persons; the rest are cards of nobody known
    con.execute("INSERT INTO person_keys SELECT 'r', 'card', 'K' || lpad(i::VARCHAR, 4, '0'), 'P' || i, 't', 1 "
                "FROM range(300) r(i)")
    con.execute("CREATE TABLE stores AS SELECT unnest(?) AS store_id, 'Loja ' || unnest(?) AS name", [shops, shops])
    yield con, visits, shops
    con.close()


def test_mall_baskets_are_shopping_days_of_shops(mall):
    con, visits, shops = mall
    baskets = basket_items(con)
    assert baskets.attrs["item_kind"] == "store"
    assert baskets.attrs["baskets"] == len(visits)
    assert baskets.attrs["lines_without_buyer"] == 25
    rules = association_rules(baskets)
    top = set(zip(rules["antecedent"].head(2), rules["consequent"].head(2), strict=True))
    assert top == {("CINEMA", "FOOD"), ("FOOD", "CINEMA")}
    assert rules["lift"].iloc[0] == pytest.approx(_oracle_lift(visits[shops], "CINEMA", "FOOD"), rel=1e-9)


def test_mall_recommendations_without_segments(mall):
    con, _, _ = mall
    recs = recommendations(con)
    assert set(recs["scope"]) == {"all"} and (recs["item_kind"] == "store").all()
    cinema = recs[recs["item_id"] == "CINEMA"].iloc[0]
    assert (cinema["recommended_id"], cinema["recommended_name"], cinema["rank"]) == ("FOOD", "Loja FOOD", 1)
    assert any("overall rules only" in note for note in recs.attrs["notes"])


def test_no_transactions_table_is_a_clear_error(tmp_path):
    con = duckdb.connect(tmp_path / "w.duckdb")
    with pytest.raises(ValueError, match="no `transactions` table"):
        basket_items(con)
    with pytest.raises(ValueError, match="no `transactions` table"):
        recommendations(con)


def test_empty_transactions_give_an_empty_result_with_a_reason(tmp_path):
    con = duckdb.connect(tmp_path / "w.duckdb")
    con.execute(TRANSACTIONS_DDL)
    baskets = basket_items(con)
    assert baskets.empty and "no store baskets" in baskets.attrs["reason"]
    rules = association_rules(baskets)
    assert rules.empty and list(rules.columns) == RULE_COLUMNS and "0 basket" in rules.attrs["reason"]
    recs = recommendations(con)
    assert recs.empty and list(recs.columns) == RECOMMENDATION_COLUMNS and recs.attrs["reason"]


def test_product_baskets_need_product_ids(tmp_path):
    con = duckdb.connect(tmp_path / "w.duckdb")
    con.execute(TRANSACTIONS_DDL)
    con.execute("INSERT INTO transactions VALUES ('1', '2026-01-01', 5, NULL, 'K1', 'S1', NULL, 1, 'Pix')")
    with pytest.raises(ValueError, match="item='store'"):
        basket_items(con, item="product")
    with pytest.raises(ValueError, match="item must be"):
        basket_items(con, item="sku")


def test_a_single_basket_gives_no_rules_and_says_why(tmp_path):
    con = duckdb.connect(tmp_path / "w.duckdb")
    con.execute(TRANSACTIONS_DDL)
    con.execute("INSERT INTO transactions SELECT '1', '2026-01-01', 5, NULL, NULL, '001', 'P' || i, 1, 'Pix' "
                "FROM range(5) r(i)")
    baskets = basket_items(con)
    assert baskets.attrs["baskets"] == 1 and len(baskets) == 5
    rules = association_rules(baskets)
    assert rules.empty and rules.attrs["reason"].startswith("1 basket(s)")
    recs = recommendations(con)
    assert recs.empty and "1 basket(s)" in recs.attrs["reason"]


def test_too_few_multi_item_baskets_give_no_rules():
    single = pd.DataFrame({"basket_id": [f"b{i}" for i in range(60)], "item": "a"})
    pairs = pd.DataFrame({"basket_id": [f"b{i}" for i in range(10)], "item": "b"})
    rules = association_rules(pd.concat([single, pairs]), min_pair_baskets=20)
    assert rules.empty and "no two items are bought together in 20 of the 60 baskets" in rules.attrs["reason"]


def test_rules_check_their_input():
    with pytest.raises(ValueError, match="basket_id"):
        association_rules(pd.DataFrame({"receipt": ["1"], "item": ["a"]}))
    with pytest.raises(ValueError, match="max_len"):
        association_rules(pd.DataFrame({"basket_id": ["1"], "item": ["a"]}), max_len=1)
    with pytest.raises(ValueError, match="min_support"):
        association_rules(pd.DataFrame({"basket_id": ["1"], "item": ["a"]}), min_support=2.0)
