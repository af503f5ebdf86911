"""Tombstones: the pseudonyms of erased people, and what every table does with rows that carry one.

An erasure keeps only pseudonyms (of the customer id, CPF, e-mail, phone and card tokens), never a raw value, so
that re-ingesting an old export cannot bring the person back: every load runs the same rules as the erasure
itself, on its own rows, before it commits. One set of rules for both keeps them from drifting apart.

What "removing a person" means per table: their customer records, subscriptions, consent events and anything
derived about them (any other table with a customer_id) are deleted; their receipt lines stay, dissociated (no
customer id, no card token), because sales totals are not personal data and must still add up; Wi-Fi/app
visits go when their device pseudonym is tombstoned (an app check-in records the loyalty id as the device, so an
erasure buries the pseudonyms of the person's ids as devices too).
"""

from __future__ import annotations

import duckdb

from shelfwise.privacy.pseudonyms import pseudonym_sql
from shelfwise.schema import TABLES


def _erased(kind: str, value: str) -> str:
    return f"{value} IN (SELECT pseudonym FROM privacy_tombstones WHERE kind = '{kind}')"


def _erased_customer(column: str = "customer_id") -> str:
    """An erased customer's id: tombstoned as an id, or an id that is the pseudonym of an erased CPF or e-mail."""
    return (f"({_erased('customer', pseudonym_sql('customer', column))} OR {_erased('document', column)} "
            f"OR {_erased('email', column)})")


_RULES: dict[str, str] = {
    "customers": "DELETE FROM customers WHERE ({erased_customer} OR {document} OR {email} OR {phone})",
    "transactions": "UPDATE transactions SET customer_id = NULL, card_token = NULL WHERE ({erased_customer} OR {card})",
    "subscriptions": "DELETE FROM subscriptions WHERE {erased_customer}",
    "visits": "DELETE FROM visits WHERE {visitor}",
}


PERSON_KEYS = "person_keys"
"""Identity resolution's map of customer ids, cards and devices to persons (see `shelfwise.customers.links`)."""

_ERASED_PERSON = (
    f"person_id IN (SELECT person_id FROM {PERSON_KEYS} WHERE (kind = 'customer' AND {_erased_customer('key')}) "
    f"OR (kind IN ('card', 'visitor') AND {_erased('token', 'key')}))"
)
"""Rows about a person derived by identity resolution (segments, values, offer scores) carry only a person id."""


def _statement(table: str, by_person: bool = False) -> str:
    if by_person:
        return f'DELETE FROM "{table}" WHERE {_ERASED_PERSON}'
    template = _RULES.get(table, f'DELETE FROM "{table}" WHERE {{erased_customer}}')
    return template.format(
        erased_customer=_erased_customer(), document=_erased("document", "document"),
        email=_erased("email", "email"), phone=_erased("phone", "phone"), card=_erased("token", "card_token"),
        visitor=_erased("token", "visitor_id"),
    )


def tables_with_people(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every warehouse table that can hold a row about a person: the contract's, and any with a customer_id."""
    derived = [r[0] for r in con.execute(
        "SELECT DISTINCT table_name FROM duckdb_columns() WHERE database_name = current_database() AND "
        "schema_name = 'main' AND column_name = 'customer_id' ORDER BY 1"
    ).fetchall()]
    return list(dict.fromkeys([*_RULES, *(t for t in derived if t not in TABLES or t in _RULES)]))


def tables_of_persons(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables about resolved persons that carry no customer id (segments, values, offer scores).

    `person_keys` says whose each person id is, so it comes last.
    """
    found = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' "
        "AND column_name IN ('customer_id', 'person_id') GROUP BY ALL "
        "HAVING list(column_name) = ['person_id'] ORDER BY 1").fetchall()]
    return [*(t for t in found if t != PERSON_KEYS), PERSON_KEYS] if PERSON_KEYS in found else []


def apply_tombstones(
    con: duckdb.DuckDBPyConnection, tables: list[str] | None = None, load_id: str | None = None
) -> dict[str, int]:
    """Remove (or dissociate) rows of erased people; with `load_id`, only that load's rows. Rows touched per table."""
    if not con.execute("SELECT count(*) FROM privacy_tombstones").fetchone()[0]:
        return {}
    touched = {}
    by_person = tables_of_persons(con) if tables is None else []
    for table in [*by_person, *(tables if tables is not None else tables_with_people(con))]:
        if table not in _RULES and table in TABLES:
            continue
        statement = _statement(table, table in by_person)
        if load_id is not None:
            statement += " AND _load_id = ?"
        count = con.execute(statement, [load_id] if load_id is not None else []).fetchone()[0]
        if count:
            touched[table] = count
    return touched


def bury(con: duckdb.DuckDBPyConnection, pseudonyms: dict[str, set[str]], request_id: str) -> int:
    """Record tombstones (kind -> pseudonyms); returns how many were new."""
    rows = [(p, kind, request_id) for kind, values in pseudonyms.items() for p in sorted(values) if p]
    before = con.execute("SELECT count(*) FROM privacy_tombstones").fetchone()[0]
    con.executemany(
        "INSERT INTO privacy_tombstones SELECT ?, ?, ?, now() WHERE NOT EXISTS "
        "(SELECT 1 FROM privacy_tombstones WHERE pseudonym = ? AND kind = ?)",
        [(p, k, r, p, k) for p, k, r in rows],
    )
    return con.execute("SELECT count(*) FROM privacy_tombstones").fetchone()[0] - before


def is_buried(con: duckdb.DuckDBPyConnection, kind: str, pseudonyms: list[str | None]) -> list[bool]:
    """Whether each pseudonym is tombstoned (for rows that never reach a table, e.g. rejected ones)."""
    buried = {r[0] for r in con.execute(
        "SELECT pseudonym FROM privacy_tombstones WHERE kind = ? AND pseudonym IN (SELECT unnest(?))",
        [kind, [p for p in pseudonyms if p]],
    ).fetchall()}
    return [p in buried for p in pseudonyms]


def erased_customers(
    con: duckdb.DuckDBPyConnection, stored_ids: list[str | None], customer_pseudonyms: list[str | None]
) -> list[bool]:
    """`_erased_customer` for ids that never reach a table: tombstoned as an id, or being an erased CPF or e-mail.

    `stored_ids` are the ids as the warehouse keeps them, `customer_pseudonyms` their pseudonyms as ids.
    """
    checks = (is_buried(con, "customer", customer_pseudonyms), is_buried(con, "document", stored_ids),
              is_buried(con, "email", stored_ids))
    return [any(flags) for flags in zip(*checks, strict=True)]
