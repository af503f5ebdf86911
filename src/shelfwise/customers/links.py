"""Receipts and visits attached to persons: the cards and devices behind a person, found from what they did.

Identity resolution (`identity`) links customer records by what the records say. Most receipts carry no loyalty id,
only a payment token, and footfall carries only device ids, so a person's behaviour is reached through evidence of
use:

- a card token belongs to the person whose loyalty id appears on its receipts (the person seen most often with it,
  when a card was shared);
- an app check-in's visitor id is the pseudonym of a loyalty id (the source writes the loyalty id);
- a Wi-Fi device or a car plate belongs to the person whose receipts fall inside its sessions again and again --
  once is chance in a busy mall, a repeated, dominant co-occurrence is a habit;
- a card never seen with a loyalty id is a shopper of its own ("card-only" person), since nothing says whose it is.

All of it is set-based SQL over the warehouse's pseudonymised tables: no raw identifier is needed, and the keys are
the pseudonyms the warehouse already holds. Nothing here exists in a library (Splink compares records by their
fields; these links come from co-occurrence of events), hence the module.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from shelfwise.privacy.pseudonyms import pseudonym_sql
from shelfwise.warehouse.core import has_table


@dataclass(frozen=True)
class LinkSettings:
    """How strong the evidence of use must be before a card or a device is taken as a person's.

    Attributes:
        min_device_matches: sessions of a device that must contain one of the person's receipts.
        min_device_share: share of the device's sessions that must contain one of the person's receipts.
        device_dominance: how many times more matching sessions the chosen person needs than the runner-up.
        session_minutes: how long after a session starts a receipt still counts as made during it, when the source
            gives no dwell time (Wi-Fi controllers often do not); a given dwell time is used as it is, at least
            `min_session_minutes`, at most `max_session_minutes`.
    """

    min_device_matches: int = 3
    min_device_share: float = 0.2
    device_dominance: float = 2.0
    session_minutes: float = 60.0
    min_session_minutes: float = 45.0
    max_session_minutes: float = 240.0


KEY_COLUMNS = ["kind", "key", "person_id", "evidence", "strength"]
"""`person_keys`: kind (customer, card, visitor), the key as the warehouse holds it, the person, how the link was
made (record, receipts, app, co-occurrence, own) and its strength (receipts or sessions that support it)."""


def person_keys(con: duckdb.DuckDBPyConnection, identity: pd.DataFrame, settings: LinkSettings) -> pd.DataFrame:
    """Every customer record, card token and visitor id the warehouse holds, with the person it belongs to.

    `identity` maps customer_id -> person_id (the resolved records). The connection must hold `transactions` and
    may hold `visits`; it needs the workspace keys installed (`Keys.install`) to read app check-ins, whose visitor id
    is the pseudonym of a loyalty id.
    """
    con.register("resolved_records", identity[["customer_id", "person_id"]])
    try:
        con.execute(_CARDS_SQL)
        frames = [con.execute("SELECT 'customer' AS kind, customer_id AS key, person_id, 'record' AS evidence, "
                              "1 AS strength FROM resolved_records").df(),
                  con.execute("SELECT 'card' AS kind, card_token AS key, person_id, evidence, strength "
                              "FROM card_person").df()]
        if has_table(con, "visits"):
            frames.append(_visitor_rows(con, settings))
    finally:
        con.unregister("resolved_records")
        for name in ("card_person", "app_visitor", "receipt_person", "device_session"):
            con.execute(f"DROP TABLE IF EXISTS {name}")
    keys = pd.concat(frames, ignore_index=True)[KEY_COLUMNS]
    keys["strength"] = keys["strength"].astype("int64")
    return keys


_CARDS_SQL = """
CREATE OR REPLACE TEMP TABLE card_person AS
WITH seen AS (       -- receipts where a card and a loyalty id appear together
    SELECT t.card_token, r.person_id, count(DISTINCT t.transaction_id) AS receipts
    FROM transactions t JOIN resolved_records r ON r.customer_id = t.customer_id
    WHERE t.card_token IS NOT NULL GROUP BY ALL
), best AS (
    SELECT card_token, person_id, receipts FROM seen
    QUALIFY row_number() OVER (PARTITION BY card_token ORDER BY receipts DESC, person_id) = 1
), cards AS (SELECT DISTINCT card_token FROM transactions WHERE card_token IS NOT NULL)
SELECT c.card_token,
       coalesce(b.person_id, 'K' || left(c.card_token, 15)) AS person_id,   -- a card-only shopper
       CASE WHEN b.person_id IS NULL THEN 'own' ELSE 'receipts' END AS evidence,
       coalesce(b.receipts, 0) AS strength
FROM cards c LEFT JOIN best b USING (card_token)
"""


def _visitor_rows(con: duckdb.DuckDBPyConnection, settings: LinkSettings) -> pd.DataFrame:
    """Visitor ids: app check-ins by their loyalty id, other devices by repeated co-occurrence with receipts.

    Built as temporary tables step by step: as one nested query DuckDB re-evaluated the keyed hash per join pair.
    """
    length = (f"least(greatest(coalesce(dwell_minutes, {settings.session_minutes}), {settings.min_session_minutes}),"
              f" {settings.max_session_minutes})")
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE app_visitor AS
WITH loyalty AS (SELECT person_id, {pseudonym_sql('token', 'customer_id')} AS visitor_id FROM resolved_records)
SELECT DISTINCT v.visitor_id, min(l.person_id) OVER (PARTITION BY v.visitor_id) AS person_id
FROM visits v JOIN loyalty l USING (visitor_id) WHERE v.source = 'app'
""")
    con.execute("""
CREATE OR REPLACE TEMP TABLE receipt_person AS
SELECT DISTINCT t.transaction_id, t.timestamp, coalesce(r.person_id, c.person_id) AS person_id
FROM transactions t
LEFT JOIN resolved_records r ON r.customer_id = t.customer_id
LEFT JOIN card_person c ON c.card_token = t.card_token
WHERE coalesce(r.person_id, c.person_id) IS NOT NULL
""")
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE device_session AS
SELECT visitor_id, timestamp AS starts, timestamp + to_minutes(CAST({length} AS BIGINT)) AS ends
FROM visits WHERE source <> 'app' AND visitor_id NOT IN (SELECT visitor_id FROM app_visitor)
""")
    return con.execute(f"""
WITH together AS (   -- sessions of a device holding a receipt of the person
    SELECT s.visitor_id, p.person_id, count(DISTINCT s.starts) AS matches
    FROM device_session s JOIN receipt_person p ON p.timestamp BETWEEN s.starts AND s.ends
    GROUP BY ALL
), ranked AS (
    SELECT t.*, d.sessions,
           row_number() OVER (PARTITION BY t.visitor_id ORDER BY t.matches DESC, t.person_id) AS place,
           lead(t.matches) OVER (PARTITION BY t.visitor_id ORDER BY t.matches DESC, t.person_id) AS runner_up
    FROM together t JOIN (SELECT visitor_id, count(*) AS sessions FROM device_session GROUP BY ALL) d
    USING (visitor_id)
)
SELECT 'visitor' AS kind, visitor_id AS key, person_id, 'app' AS evidence, 1 AS strength FROM app_visitor
UNION ALL
SELECT 'visitor', visitor_id, person_id, 'co-occurrence', matches FROM ranked
WHERE place = 1 AND matches >= {settings.min_device_matches}
  AND matches >= {settings.min_device_share} * sessions
  AND matches >= {settings.device_dominance} * coalesce(runner_up, 0)
""").df()
