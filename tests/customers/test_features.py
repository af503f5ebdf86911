"""Person features and key links on a hand-made warehouse, checked against values computed by hand."""

from datetime import date, datetime, timedelta

import duckdb
import pandas as pd
import pytest

from shelfwise.customers.features import category_slug, person_features
from shelfwise.customers.links import LinkSettings, person_keys
from shelfwise.privacy.keys import Keys
from shelfwise.privacy.pseudonyms import pseudonym_sql

KEYS = Keys.from_secret(b"k" * 32, "test")
AS_OF = date(2026, 3, 31)


def _warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    KEYS.install(con)
    con.execute("""
CREATE TABLE transactions (transaction_id VARCHAR, timestamp TIMESTAMP, amount DOUBLE, customer_id VARCHAR,
                           card_token VARCHAR, store_id VARCHAR, product_id VARCHAR);
INSERT INTO transactions VALUES
  -- Ana (records C1 and C2, one person): Saturday 10h at the cinema during a sale, with the app
  ('T1', '2026-03-07 10:30', 100.0, 'C1', 'cardA', 'S1', NULL),
  -- Wednesday 19h, card A without the app; two lines of one receipt at the toy store
  ('T2', '2026-03-11 19:05', 30.0, NULL, 'cardA', 'S2', NULL),
  ('T2', '2026-03-11 19:05', 20.0, NULL, 'cardA', 'S2', NULL),
  -- Sunday 13h with her second record, card B
  ('T3', '2026-03-15 13:00', 50.0, 'C2', 'cardB', 'S2', NULL),
  -- after the as-of date: ignored
  ('T4', '2026-04-02 13:00', 999.0, 'C1', 'cardA', 'S1', NULL),
  -- a card never shown with a loyalty id: its own person
  ('T5', '2026-03-20 15:00', 40.0, NULL, 'cardZ', 'S1', NULL);
CREATE TABLE stores (store_id VARCHAR, format VARCHAR);
INSERT INTO stores VALUES ('S1', 'Cinema'), ('S2', 'Infantil & Brinquedos');
CREATE TABLE campaigns (campaign_id VARCHAR, start_date DATE, end_date DATE, type VARCHAR, discount_pct DOUBLE,
                        product_ids VARCHAR[], store_ids VARCHAR[]);
INSERT INTO campaigns VALUES ('SALE', '2026-03-06', '2026-03-08', 'discount', 20, NULL, ['S1']),
                             ('PARTNER', '2026-03-01', '2026-03-31', 'partnership', 0, NULL, []);
CREATE TABLE subscriptions (customer_id VARCHAR, package VARCHAR, start_date DATE);
INSERT INTO subscriptions VALUES ('C2', 'Stream', '2026-03-20'), ('C1', 'Later', '2026-04-10');
CREATE TABLE customers (customer_id VARCHAR, age_band VARCHAR, consent_marketing BOOLEAN, created_at TIMESTAMP);
INSERT INTO customers VALUES ('C1', '25-34', false, '2025-01-01'), ('C2', '25-34', true, '2025-06-01');
""")
    token = pseudonym_sql("token", "'C1'")
    con.execute(f"""
CREATE TABLE visits (timestamp TIMESTAMP, visitor_id VARCHAR, source VARCHAR, store_id VARCHAR, dwell_minutes DOUBLE);
INSERT INTO visits SELECT '2026-03-07 10:00', {token}, 'app', 'S1', NULL;
""")
    return con


def _resolved() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["C1", "C2"], "person_id": ["P1", "P1"]})


def test_cards_and_app_visits_follow_the_loyalty_id_and_a_lone_card_is_a_person():
    con = _warehouse()
    keys = person_keys(con, _resolved(), LinkSettings())
    by_key = keys.set_index(["kind", "key"])["person_id"]
    assert by_key[("card", "cardA")] == "P1" and by_key[("card", "cardB")] == "P1"
    assert by_key[("card", "cardZ")].startswith("K")
    assert keys.query("kind == 'visitor'")["person_id"].tolist() == ["P1"]
    assert keys.query("kind == 'card' and key == 'cardA'")["strength"].item() == 2, "T1 and T4 carry C1"


def test_features_match_hand_computed_values():
    con = _warehouse()
    con.register("keys", person_keys(con, _resolved(), LinkSettings()))
    frame = person_features(con, "keys", AS_OF).set_index("person_id")
    ana = frame.loc["P1"]
    assert ana["receipts"] == 3 and ana["active_days"] == 3
    assert ana["spend_total"] == pytest.approx(200.0) and ana["avg_ticket"] == pytest.approx(200 / 3)
    assert ana["recency_days"] == (AS_OF - date(2026, 3, 15)).days
    assert ana["tenure_days"] == (AS_OF - date(2026, 3, 7)).days
    assert ana["weekend_share"] == pytest.approx(2 / 3)
    assert (ana["hour_morning_share"], ana["hour_lunch_share"], ana["hour_evening_share"]) == pytest.approx(
        (1 / 3, 1 / 3, 1 / 3))
    assert ana["promo_share"] == pytest.approx(1 / 3), "the partnership is no price campaign"
    assert ana["app_share"] == pytest.approx(2 / 3)
    assert ana["cat_cinema_share"] == pytest.approx(0.5) and ana["cat_infantil_brinquedos_share"] == pytest.approx(0.5)
    assert ana["favourite_store_share"] == pytest.approx(2 / 3) and ana["stores_visited"] == 2
    assert ana["visit_days"] == 1 and ana["subscriptions_active"] == 1
    assert ana["age_years"] == 30.0 and bool(ana["consent_marketing"]), "the latest record's consent"
    lone = frame.drop(index="P1").iloc[0]
    assert lone["receipts"] == 1 and lone["cat_cinema_share"] == 1.0 and pd.isna(lone["age_years"])


def test_features_as_of_an_earlier_day_read_nothing_after_it():
    con = _warehouse()
    con.register("keys", person_keys(con, _resolved(), LinkSettings()))
    frame = person_features(con, "keys", date(2026, 3, 10)).set_index("person_id")
    assert list(frame.index) == ["P1"] and frame.loc["P1", "receipts"] == 1
    assert frame.loc["P1", "subscriptions_active"] == 0


def test_a_device_that_keeps_appearing_around_one_persons_receipts_is_theirs():
    con = duckdb.connect()
    KEYS.install(con)
    start = datetime(2026, 1, 5, 11)
    rows, sessions = [], []
    for day in range(6):
        when = start + timedelta(days=day)
        rows.append((f"R{day}", when + timedelta(minutes=20), 10.0, "C1", "cardA", "S1", None))
        rows.append((f"Q{day}", when + timedelta(minutes=25), 10.0, None, f"other{day}", "S1", None))
        sessions.append((when, "device-ana", "wifi", None, 40.0))
    sessions.append((start + timedelta(days=30), "device-once", "wifi", None, 40.0))
    rows.append(("R99", start + timedelta(days=30, minutes=10), 10.0, "C1", "cardA", "S1", None))
    con.execute("CREATE TABLE transactions (transaction_id VARCHAR, timestamp TIMESTAMP, amount DOUBLE, "
                "customer_id VARCHAR, card_token VARCHAR, store_id VARCHAR, product_id VARCHAR)")
    con.executemany("INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("CREATE TABLE visits (timestamp TIMESTAMP, visitor_id VARCHAR, source VARCHAR, store_id VARCHAR, "
                "dwell_minutes DOUBLE)")
    con.executemany("INSERT INTO visits VALUES (?, ?, ?, ?, ?)", sessions)
    keys = person_keys(con, pd.DataFrame({"customer_id": ["C1"], "person_id": ["P1"]}), LinkSettings())
    devices = keys.query("kind == 'visitor'").set_index("key")
    assert devices.loc["device-ana", "person_id"] == "P1" and devices.loc["device-ana", "strength"] == 6
    assert "device-once" not in devices.index, "one co-occurrence is chance"


def test_category_slugs_are_column_safe():
    assert category_slug("Eletrônicos & Games") == "eletronicos_games"
    assert category_slug("  ") == "other"
