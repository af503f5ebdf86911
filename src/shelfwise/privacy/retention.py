"""Retention: rows past their table's period (`[privacy.retention]`) are purged, and the storage compacted.

Dated tables lose the rows older than their period (receipt lines, visits, feedback, subscriptions by start date;
quarantine by when it was written, in the warehouse and sealed in the vault). Customers are counted from their last
sign of life — the record's creation, a receipt or a subscription — and an expired customer is removed by the same
rules as an erasure (`tombstones`), through tombstones that are lifted again afterwards: retention is not an
erasure request, so the person may come back with a new file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from shelfwise.privacy import audit
from shelfwise.privacy.pseudonyms import pseudonym_sql
from shelfwise.privacy.tombstones import apply_tombstones
from shelfwise.privacy.vault import Vault
from shelfwise.schema import TABLES
from shelfwise.workspace import Workspace


@dataclass
class Purge:
    """What a retention run removed (or would remove, on a dry run)."""

    today: date
    dry_run: bool
    rows_by_table: dict[str, int] = field(default_factory=dict)
    cutoffs: dict[str, date] = field(default_factory=dict)
    sealed_rows: int = 0
    vault_records: int = 0


def _dated(table: str) -> str | None:
    if table == "subscriptions":
        return "start_date"
    return TABLES[table].date_column if table in TABLES else None


_LAST_ACTIVITY = """
SELECT c.customer_id FROM customers c
LEFT JOIN (SELECT customer_id, max(CAST("timestamp" AS DATE)) AS d FROM transactions GROUP BY 1) t USING (customer_id)
LEFT JOIN (SELECT customer_id, max(start_date) AS d FROM subscriptions GROUP BY 1) s USING (customer_id)
WHERE NOT c._placeholder AND greatest(CAST(c.created_at AS DATE), t.d, s.d) < ?
"""


def purge_expired(workspace: Workspace, *, today: date | None = None, dry_run: bool = False,
                  actor: str | None = None) -> Purge:
    """Remove what outlived its retention period; compact the storage when anything went."""
    purge = Purge(today=today or date.today(), dry_run=dry_run)
    periods = {t: d for t, d in workspace.settings.privacy.retention.items() if d > 0}
    vault = Vault(workspace)
    expired_customers: list[str] = []
    with workspace.warehouse.connect(write=True, purpose="privacy retention") as con:
        vault.keys.install(con)
        con.execute("BEGIN TRANSACTION")
        for table, days in periods.items():
            cutoff = purge.today - timedelta(days=days)
            purge.cutoffs[table] = cutoff
            if table == "customers":
                expired_customers = [r[0] for r in con.execute(_LAST_ACTIVITY, [cutoff]).fetchall()]
                continue
            column = "quarantined_at" if table == "quarantine" else _dated(table)
            if column is None:
                continue
            sql = f'FROM "{table}" WHERE CAST("{column}" AS DATE) < ?'
            count = con.execute(f"SELECT count(*) {sql}", [cutoff]).fetchone()[0]
            if count and not dry_run:
                con.execute(f"DELETE {sql}", [cutoff])
            if count:
                purge.rows_by_table[table] = count
        if expired_customers:
            purge.rows_by_table["customers"] = len(expired_customers)
            if not dry_run:
                con.execute(
                    f"INSERT INTO privacy_tombstones SELECT DISTINCT {pseudonym_sql('customer', 'id')}, 'customer', "
                    "'retention', now() FROM (SELECT unnest(?) AS id)", [expired_customers])
                for table, count in apply_tombstones(con).items():
                    if table != "customers":
                        purge.rows_by_table[f"{table} (of expired customers)"] = count
                con.execute("DELETE FROM privacy_tombstones WHERE request_id = 'retention'")
        con.execute("ROLLBACK" if dry_run else "COMMIT")
    if not dry_run:
        if "quarantine" in purge.cutoffs:
            with vault.connect(write=True) as vcon:
                purge.sealed_rows = vcon.execute("DELETE FROM quarantined WHERE CAST(stored_at AS DATE) < ?",
                                                 [purge.cutoffs["quarantine"]]).fetchone()[0]
        purge.vault_records = vault.delete(expired_customers)[0] if expired_customers else 0
        if purge.rows_by_table or purge.sealed_rows:
            workspace.warehouse.compact()
            vault.database.compact()
    audit.record(workspace.audit_path, "privacy.retention", actor=actor, dry_run=dry_run,
                 rows_by_table=purge.rows_by_table, sealed_rows=purge.sealed_rows, vault_records=purge.vault_records)
    return purge
