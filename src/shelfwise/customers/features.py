"""Behaviour per person: how often, how much, when, where, what, on sale or not, and how long they stay.

One row per person, computed in DuckDB from the warehouse's receipts, footfall, subscriptions and customer records,
as of a date (nothing after it is read, so the offer model can be trained on the past and checked on what followed).
The columns are the vocabulary the segmentation, the personas and the offer model speak, so they are documented
here once (`FEATURE_DOCS`) and in the README.

A receipt belongs to the person of its loyalty id when it has one, else to the person of its card (see `links`).
A receipt is a transaction id: line-level files (one row per item) and receipt-level files give the same receipts.
The category of a purchase is its product's category when the line names a product, else its store's format (a mall
knows the tenant, not the item). A receipt is "on promotion" when a price campaign (a discount, a coupon, a bundle,
or any campaign with a discount) covered its store and day -- and its product, for line-level files.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import duckdb
import pandas as pd

from shelfwise.warehouse.core import has_table

FEATURE_DOCS: dict[str, str] = {
    "receipts": "receipts up to the as-of date",
    "active_days": "distinct days with a purchase",
    "spend_total": "money spent (R$)",
    "avg_ticket": "spend per receipt (R$)",
    "receipts_per_month": "receipts per 30.4 days of tenure (a month at least)",
    "recency_days": "days from the last purchase to the as-of date",
    "tenure_days": "days from the first purchase (or sign-up, if earlier) to the as-of date",
    "weekend_share": "share of receipts on Saturday or Sunday",
    "hour_morning_share": "share of receipts before 12h",
    "hour_lunch_share": "share of receipts from 12h to 13:59",
    "hour_afternoon_share": "share of receipts from 14h to 17:59",
    "hour_evening_share": "share of receipts from 18h",
    "favourite_store_share": "share of receipts in the person's most used store",
    "stores_visited": "distinct stores bought from",
    "cat_<slug>_share": "share of spend per product category, or per store format when lines name no product",
    "promo_share": "share of receipts made under a price campaign covering their store and day (and product)",
    "visit_days": "distinct days the person was seen in footfall (app check-in, Wi-Fi, entrance)",
    "avg_dwell_minutes": "mean minutes per footfall session that reports a dwell time",
    "app_share": "share of receipts that carry the loyalty id (the app or card was shown)",
    "subscriptions_active": "partner packages taken up by the as-of date",
    "age_years": "age in years, the middle of the record's age band",
    "consent_marketing": "the person's latest customer record accepts marketing (never a clustering feature)",
}

_AGE_BAND_MIDDLE = {"<18": 16.0, "18-24": 21.0, "25-34": 30.0, "35-44": 40.0, "45-54": 50.0, "55-64": 60.0,
                    "65+": 70.0}


def category_slug(name: str) -> str:
    """`Eletrônicos & Games` -> `eletronicos_games`: a column-safe name for a category."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text).strip("_") or "other"


def person_features(con: duckdb.DuckDBPyConnection, keys: str, as_of: date) -> pd.DataFrame:
    """One row of behaviour per person with a receipt on or before `as_of`.

    `keys` names a table or view of `person_keys` (kind, key, person_id) on the connection, which must hold
    `transactions` and may hold `stores`, `products`, `campaigns`, `visits`, `subscriptions` and `customers`.
    """
    lines, categories_sql, receipts_sql = _receipts_sql(con, keys)
    con.execute(lines, [as_of])
    try:
        con.execute(categories_sql)
        if has_table(con, "campaigns"):
            con.execute(_PROMO_DAYS_SQL)
            con.execute(_PROMO_RECEIPTS_SQL)
        else:
            con.execute("CREATE OR REPLACE TEMP TABLE promo_receipt AS SELECT NULL::VARCHAR AS transaction_id LIMIT 0")
        con.execute(receipts_sql)
        frame = con.execute(_BEHAVIOUR_SQL, [as_of, as_of, as_of]).df()
        categories = _category_shares(con)
        extras = [_visits(con, keys, as_of), _subscriptions(con, keys, as_of), _customers(con, keys)]
    finally:
        for name in ("person_line", "person_receipt", "receipt_category", "promo_day", "promo_receipt"):
            con.execute(f"DROP TABLE IF EXISTS {name}")
    frame = frame.merge(categories, on="person_id", how="left")
    for extra in extras:
        frame = frame.merge(extra, on="person_id", how="left")
    share_columns = [c for c in frame.columns if c.startswith("cat_")]
    frame[share_columns] = frame[share_columns].fillna(0.0)
    for column in ("visit_days", "subscriptions_active"):
        frame[column] = frame[column].fillna(0).astype("int64")
    return frame.sort_values("person_id", ignore_index=True)


def person_lines_sql(keys: str) -> str:
    """Receipt lines with their person: the loyalty id's person, else the card's; lines of nobody known left out."""
    return f"""
SELECT coalesce(kc.person_id, kk.person_id) AS person_id, t.transaction_id, t.timestamp, t.amount, t.store_id,
       t.product_id, t.customer_id IS NOT NULL AND kc.person_id IS NOT NULL AS identified
FROM transactions t
LEFT JOIN {keys} kc ON kc.kind = 'customer' AND kc.key = t.customer_id
LEFT JOIN {keys} kk ON kk.kind = 'card' AND kk.key = t.card_token
WHERE coalesce(kc.person_id, kk.person_id) IS NOT NULL"""


def _receipts_sql(con: duckdb.DuckDBPyConnection, keys: str) -> tuple[str, str, str]:
    """person_line (lines of identified people up to as-of, `?`), then receipt_category, then person_receipt."""
    has_products = has_table(con, "products", "category")
    has_stores = has_table(con, "stores", "format")
    category = " coalesce(" + ", ".join(
        (["nullif(trim(p.category), '')"] if has_products else [])
        + (["nullif(trim(s.format), '')"] if has_stores else []) + ["NULL"]) + ")"
    joins = ((" LEFT JOIN products p ON p.product_id = l.product_id" if has_products else "")
             + (" LEFT JOIN stores s ON s.store_id = l.store_id" if has_stores else ""))
    lines = f"CREATE OR REPLACE TEMP TABLE person_line AS {person_lines_sql(keys)} AND CAST(t.timestamp AS DATE) <= ?"
    categories = (f"CREATE OR REPLACE TEMP TABLE receipt_category AS SELECT l.person_id, {category} AS category, "
                  f"sum(l.amount) AS amount FROM person_line l {joins} GROUP BY ALL")
    receipts = """
CREATE OR REPLACE TEMP TABLE person_receipt AS
SELECT l.person_id, l.transaction_id, min(l.timestamp) AS timestamp, sum(l.amount) AS amount,
       any_value(l.store_id) AS store_id, bool_or(l.identified) AS identified,
       l.transaction_id IN (SELECT transaction_id FROM promo_receipt) AS on_promo
FROM person_line l GROUP BY l.person_id, l.transaction_id"""
    return lines, categories, receipts


_PROMO_DAYS_SQL = """
CREATE OR REPLACE TEMP TABLE promo_day AS   -- NULL store or product: the campaign covers them all
SELECT DISTINCT d.day, s.store_id, p.product_id
FROM campaigns c,
     LATERAL (SELECT CAST(unnest(generate_series(c.start_date, c.end_date, INTERVAL 1 DAY)) AS DATE) AS day) d,
     LATERAL (SELECT unnest(CASE WHEN len(coalesce(c.store_ids, [])) = 0 THEN [NULL] ELSE c.store_ids END)
              AS store_id) s,
     LATERAL (SELECT unnest(CASE WHEN len(coalesce(c.product_ids, [])) = 0 THEN [NULL] ELSE c.product_ids END)
              AS product_id) p
WHERE c.start_date <= c.end_date
  AND (coalesce(c.discount_pct, 0) > 0 OR lower(c.type) IN ('discount', 'coupon', 'bundle'))
"""
"""The (day, store, product) cells a price campaign covered; a partnership or a display is no price incentive."""

_PROMO_RECEIPTS_SQL = """
CREATE OR REPLACE TEMP TABLE promo_receipt AS
SELECT DISTINCT l.transaction_id FROM person_line l JOIN promo_day p ON p.day = CAST(l.timestamp AS DATE)
WHERE (p.store_id IS NULL OR p.store_id = l.store_id)
  AND (p.product_id IS NULL OR l.product_id IS NULL OR p.product_id = l.product_id)
"""


_BEHAVIOUR_SQL = """
WITH person AS (
    SELECT person_id, count(*) AS receipts, count(DISTINCT CAST(timestamp AS DATE)) AS active_days,
           sum(amount) AS spend_total, sum(amount) / count(*) AS avg_ticket,
           date_diff('day', max(CAST(timestamp AS DATE)), CAST(? AS DATE)) AS recency_days,
           date_diff('day', min(CAST(timestamp AS DATE)), CAST(? AS DATE)) AS first_days,
           avg(CAST(dayofweek(timestamp) IN (0, 6) AS DOUBLE)) AS weekend_share,
           avg(CAST(hour(timestamp) < 12 AS DOUBLE)) AS hour_morning_share,
           avg(CAST(hour(timestamp) BETWEEN 12 AND 13 AS DOUBLE)) AS hour_lunch_share,
           avg(CAST(hour(timestamp) BETWEEN 14 AND 17 AS DOUBLE)) AS hour_afternoon_share,
           avg(CAST(hour(timestamp) >= 18 AS DOUBLE)) AS hour_evening_share,
           count(DISTINCT store_id) AS stores_visited,
           avg(CAST(on_promo AS DOUBLE)) AS promo_share, avg(CAST(identified AS DOUBLE)) AS app_share
    FROM person_receipt GROUP BY person_id
), favourite AS (
    SELECT person_id, max(n) AS top FROM (SELECT person_id, store_id, count(*) AS n FROM person_receipt
                                          WHERE store_id IS NOT NULL GROUP BY ALL) GROUP BY person_id
)
SELECT p.person_id, p.receipts, p.active_days, p.spend_total, p.avg_ticket,
       p.receipts / greatest(p.first_days / 30.4, 1.0) AS receipts_per_month, p.recency_days,
       p.first_days AS tenure_days, p.weekend_share, p.hour_morning_share, p.hour_lunch_share,
       p.hour_afternoon_share, p.hour_evening_share, f.top / p.receipts AS favourite_store_share, p.stores_visited,
       p.promo_share, p.app_share, CAST(? AS DATE) AS as_of
FROM person p LEFT JOIN favourite f USING (person_id)
"""


def _category_shares(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """cat_<slug>_share columns: each person's spend per category over their spend, pivoted in DuckDB."""
    names = [r[0] for r in con.execute("SELECT DISTINCT category FROM receipt_category WHERE category IS NOT NULL "
                                       "ORDER BY 1").fetchall()]
    if not names:
        return pd.DataFrame({"person_id": pd.Series(dtype=str)})
    con.register("category_column", pd.DataFrame({"category": names, "feature": [
        f"cat_{category_slug(name)}_share" for name in names]}))
    try:
        return con.execute(
            "PIVOT (SELECT r.person_id, c.feature, r.amount / sum(r.amount) OVER (PARTITION BY r.person_id) AS share "
            "FROM receipt_category r LEFT JOIN category_column c USING (category)) "
            "ON feature USING sum(share) GROUP BY person_id").df().drop(columns=["NULL"], errors="ignore")
    finally:
        con.unregister("category_column")


def _visits(con: duckdb.DuckDBPyConnection, keys: str, as_of: date) -> pd.DataFrame:
    if not has_table(con, "visits"):
        return pd.DataFrame({"person_id": pd.Series(dtype=str), "visit_days": [], "avg_dwell_minutes": []})
    return con.execute(
        f"SELECT k.person_id, count(DISTINCT CAST(v.timestamp AS DATE)) AS visit_days, "
        f"avg(v.dwell_minutes) AS avg_dwell_minutes FROM visits v JOIN {keys} k ON k.kind = 'visitor' "
        "AND k.key = v.visitor_id WHERE CAST(v.timestamp AS DATE) <= ? GROUP BY ALL", [as_of]).df()


def _subscriptions(con: duckdb.DuckDBPyConnection, keys: str, as_of: date) -> pd.DataFrame:
    if not has_table(con, "subscriptions"):
        return pd.DataFrame({"person_id": pd.Series(dtype=str), "subscriptions_active": []})
    return con.execute(
        f"SELECT k.person_id, count(DISTINCT s.package) AS subscriptions_active FROM subscriptions s "
        f"JOIN {keys} k ON k.kind = 'customer' AND k.key = s.customer_id WHERE s.start_date <= ? GROUP BY ALL",
        [as_of]).df()


def _customers(con: duckdb.DuckDBPyConnection, keys: str) -> pd.DataFrame:
    """Age band and marketing consent of the person's latest record (the one the person last signed)."""
    if not has_table(con, "customers", "age_band"):
        return pd.DataFrame({"person_id": pd.Series(dtype=str), "age_years": [], "consent_marketing": []})
    frame = con.execute(
        f"SELECT k.person_id, c.age_band, c.consent_marketing FROM customers c "
        f"JOIN {keys} k ON k.kind = 'customer' AND k.key = c.customer_id "
        "QUALIFY row_number() OVER (PARTITION BY k.person_id ORDER BY c.created_at DESC NULLS LAST, "
        "c.customer_id DESC) = 1").df()
    frame["age_years"] = frame.pop("age_band").map(_AGE_BAND_MIDDLE).astype(float)
    return frame
