"""The vault: the only place raw personal data is kept, sealed record by record, apart from the analytics tables.

A separate DuckDB file (`[privacy] vault`), so that the warehouse can be copied, shared with a colleague or opened
by any SQL tool without a single name, e-mail, phone or CPF in it. Each customer record's raw personal values are
one AES-256-GCM sealed JSON (see `keys`), authenticated with the record's id, next to the pseudonyms that let the
product find a record by CPF, e-mail or phone without opening anything. Rejected rows of files with personal data
are sealed here too, so that quarantine keeps "nothing lost" without keeping the data in clear.

Reading raw values is the documented way in for identity resolution, contact exports and data-subject requests:
`Vault.read_people` opens records for a stated purpose and appends who read how many, and why, to the audit log.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb

from shelfwise.privacy import audit
from shelfwise.privacy.keys import Keys, load_keys
from shelfwise.schema import TABLES, Treatment
from shelfwise.warehouse import Warehouse
from shelfwise.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

SEALED_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in TABLES["customers"].columns if c.personal and c.personal.treatment == Treatment.VAULT
)
"""The customer columns whose raw values live only here."""

VAULT_DDL = f"""
CREATE TABLE IF NOT EXISTS people (
    customer_id VARCHAR PRIMARY KEY, {", ".join(f"{c}_ps VARCHAR" for c in SEALED_COLUMNS)}, sealed BLOB,
    load_id VARCHAR, file VARCHAR, stored_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS name_index (customer_id VARCHAR, pseudonym VARCHAR);
CREATE TABLE IF NOT EXISTS pending_people AS SELECT * FROM people LIMIT 0;
CREATE TABLE IF NOT EXISTS pending_names (load_id VARCHAR, customer_id VARCHAR, pseudonym VARCHAR);
CREATE TABLE IF NOT EXISTS quarantined (
    load_id VARCHAR, table_name VARCHAR, file VARCHAR, line BIGINT, sealed BLOB, stored_at TIMESTAMP
);
"""


@dataclass(frozen=True)
class SealedPerson:
    """One customer record on its way in: its id, pseudonyms by column, and raw values by column."""

    customer_id: str
    pseudonyms: dict[str, str | None]
    raw: dict[str, str | None]
    name_keys: tuple[str, ...] = ()
    """Pseudonyms of the spellings of the name the outbound guard must catch (see `outbound.name_index_rows`)."""


class Vault:
    """The workspace's vault file, opened under its own lock, always after the warehouse's (never the reverse)."""

    def __init__(self, workspace: Workspace, keys: Keys | None = None) -> None:
        self.workspace = workspace
        self.keys = keys or load_keys(workspace.key_path)
        self.database = Warehouse(path=workspace.vault_path, settings=workspace.settings.warehouse,
                                  timezone=workspace.settings.workspace.timezone)

    @contextmanager
    def connect(self, *, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the vault file (created with its tables on first write)."""
        fresh = not self.workspace.vault_path.exists()
        if fresh and not write:
            with self.database.connect(write=True, purpose="vault") as con:
                con.execute(VAULT_DDL)
        with self.database.connect(write=write, purpose="vault") as con:
            if write:
                con.execute(VAULT_DDL)
            if fresh:
                os.chmod(self.workspace.vault_path, 0o600)
            yield con

    def store_people(self, people: list[SealedPerson], *, load_id: str, file: str) -> int:
        """Seal customer records as pending for their load; `confirm` makes them the records once the load commits.

        The vault cannot share the warehouse's transaction, so a load that fails after sealing must not change what
        the vault answers: its records wait here, and `settle` drops them if the load never committed.
        """
        rows = [
            (p.customer_id, *(p.pseudonyms.get(c) for c in SEALED_COLUMNS),
             self.keys.seal(json.dumps(p.raw, ensure_ascii=False).encode(), p.customer_id), load_id, file)
            for p in people
        ]
        if not rows:
            return 0
        marks = ", ".join("?" * (len(SEALED_COLUMNS) + 4))
        names = [(load_id, p.customer_id, key) for p in people for key in p.name_keys]
        with self.connect(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            con.executemany(f"INSERT INTO pending_people VALUES ({marks}, now())", rows)
            if names:
                con.executemany("INSERT INTO pending_names VALUES (?, ?, ?)", names)
            con.execute("COMMIT")
        return len(rows)

    def settle(self, committed: set[str]) -> None:
        """Make the pending records of committed loads the records (the later record of an id wins); drop the rest."""
        with self.connect(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM pending_people WHERE load_id NOT IN (SELECT unnest(?))", [sorted(committed)])
            con.execute("DELETE FROM pending_names WHERE load_id NOT IN (SELECT unnest(?))", [sorted(committed)])
            con.execute("DELETE FROM name_index WHERE customer_id IN (SELECT customer_id FROM pending_people)")
            con.execute("INSERT OR REPLACE INTO people SELECT * FROM pending_people "
                        "QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY stored_at DESC) = 1")
            con.execute("INSERT INTO name_index SELECT customer_id, pseudonym FROM pending_names")
            con.execute("DELETE FROM pending_people")
            con.execute("DELETE FROM pending_names")
            con.execute("COMMIT")

    def pending_loads(self) -> set[str]:
        """Loads whose records wait for `settle`."""
        if not self.workspace.vault_path.exists():
            return set()
        with self.connect() as con:
            return {r[0] for r in con.execute("SELECT DISTINCT load_id FROM pending_people").fetchall()}

    def store_quarantined(self, rows: Iterable[tuple[str, str, str, int | None, dict]]) -> int:
        """Seal rejected rows' original content: (load_id, table, file, line, content)."""
        sealed = [
            (load_id, table, file, line,
             self.keys.seal(json.dumps(content, ensure_ascii=False).encode(), f"{load_id}:{line}"))
            for load_id, table, file, line, content in rows
        ]
        if sealed:
            with self.connect(write=True) as con:
                con.executemany("INSERT INTO quarantined VALUES (?, ?, ?, ?, ?, now())", sealed)
        return len(sealed)

    def known_names(self) -> set[str]:
        """The name index: pseudonyms of every spelling of a customer's name the outbound guard must mask."""
        with self.connect() as con:
            return {r[0] for r in con.execute("SELECT DISTINCT pseudonym FROM name_index").fetchall()}

    def customer_ids(self, column: str, pseudonyms: Iterable[str]) -> set[str]:
        """Ids of the records whose `column` (document, email, phone...) has one of these pseudonyms."""
        wanted = [p for p in pseudonyms if p]
        if not wanted or column not in SEALED_COLUMNS:
            return set()
        with self.connect() as con:
            rows = con.execute(f"SELECT customer_id FROM people WHERE {column}_ps IN (SELECT unnest(?))",
                               [wanted]).fetchall()
        return {r[0] for r in rows}

    def pseudonyms_of(self, customer_ids: Iterable[str]) -> pd.DataFrame:
        """customer_id and the pseudonym columns of these records (nothing is opened)."""
        with self.connect() as con:
            return con.execute(
                f"SELECT customer_id, {', '.join(f'{c}_ps AS {c}' for c in SEALED_COLUMNS)}, load_id, file, "
                "stored_at FROM people WHERE customer_id IN (SELECT unnest(?)) ORDER BY customer_id",
                [sorted(customer_ids)],
            ).df()

    def read_people(
        self, customer_ids: Iterable[str] | None, *, purpose: str, actor: str | None = None
    ) -> pd.DataFrame:
        """Open records (all when `customer_ids` is None) for a stated purpose; the read is audited.

        Columns: customer_id, the raw personal columns, load_id, file, stored_at.
        """
        with self.connect() as con:
            if customer_ids is None:
                rows = con.execute("SELECT customer_id, sealed, load_id, file, stored_at FROM people "
                                   "ORDER BY customer_id").fetchall()
            else:
                rows = con.execute("SELECT customer_id, sealed, load_id, file, stored_at FROM people WHERE "
                                   "customer_id IN (SELECT unnest(?)) ORDER BY customer_id",
                                   [sorted(customer_ids)]).fetchall()
        opened = [
            {"customer_id": cid, **json.loads(self.keys.open(sealed, cid)), "load_id": load_id, "file": file,
             "stored_at": stored_at}
            for cid, sealed, load_id, file, stored_at in rows
        ]
        audit.record(self.workspace.audit_path, "vault.read", actor=actor, purpose=purpose, records=len(opened))
        import pandas as pd

        columns = ["customer_id", *SEALED_COLUMNS, "load_id", "file", "stored_at"]
        return pd.DataFrame(opened, columns=columns)

    def read_quarantined(self, *, purpose: str, actor: str | None = None) -> pd.DataFrame:
        """Open every sealed rejected row (load_id, table_name, file, line, content); the read is audited."""
        with self.connect() as con:
            rows = con.execute("SELECT load_id, table_name, file, line, sealed FROM quarantined").fetchall()
        opened = [
            (load_id, table, file, line, json.loads(self.keys.open(sealed, f"{load_id}:{line}")))
            for load_id, table, file, line, sealed in rows
        ]
        audit.record(self.workspace.audit_path, "vault.read_quarantine", actor=actor, purpose=purpose,
                     records=len(opened))
        import pandas as pd

        return pd.DataFrame(opened, columns=["load_id", "table_name", "file", "line", "content"])

    def delete(
        self, customer_ids: Iterable[str], quarantined: Iterable[tuple[str, int | None]] = ()
    ) -> tuple[int, int]:
        """Remove records and sealed rejected rows ((load_id, line) pairs); (records, rows) removed."""
        ids = sorted(set(customer_ids))
        pairs = sorted(set(quarantined), key=str)
        with self.connect(write=True) as con:
            people = con.execute("DELETE FROM people WHERE customer_id IN (SELECT unnest(?))", [ids]).fetchone()[0]
            con.execute("DELETE FROM name_index WHERE customer_id IN (SELECT unnest(?))", [ids])
            rows = 0
            for load_id, line in pairs:
                rows += con.execute("DELETE FROM quarantined WHERE load_id = ? AND line IS NOT DISTINCT FROM ?",
                                    [load_id, line]).fetchone()[0]
        return people, rows
