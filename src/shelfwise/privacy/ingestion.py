"""What a load does with personal data, so that none of it reaches the warehouse in clear.

- Free text (feedback.text) has its CPFs, CNPJs, e-mails and phones masked in the parse itself, and identifiers
  are written as pseudonyms, birth dates as age bands (`columns`).
- Customer records' raw personal values are sealed into the vault before the load commits (`seal_customers`);
  the vault is written first so that a failure can leave a sealed record without analytics rows (harmless: the
  next load replaces it), never analytics rows without their record.
- Rejected rows of tables with personal data keep their original content sealed in the vault; the quarantine
  table gets them with personal values replaced by `[vault]` (`seal_rejects`).
- Rows of erased people are not loaded (`tombstones.apply_tombstones`), nor quarantined.
- Consent as the file states it is recorded as events per purpose; a revocation made by request stands against
  later files, which cannot prove when the consent they show was given (`record_consent`).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass

import duckdb

from shelfwise.config import Settings
from shelfwise.privacy.columns import stored_sql
from shelfwise.privacy.detect import mask_text
from shelfwise.privacy.outbound import name_index_rows
from shelfwise.privacy.pseudonyms import Pseudonymiser
from shelfwise.privacy.tombstones import apply_tombstones, erased_customers, is_buried
from shelfwise.privacy.vault import SEALED_COLUMNS, SealedPerson, Vault
from shelfwise.schema import TABLES, Table, Treatment
from shelfwise.workspace import Workspace

VAULT_MARK = "[vault]"
CONSENT_PURPOSES = ("marketing_contact", "partner_offer")
"""Purposes whose consent the customers' consent_marketing column states."""


@dataclass
class IngestPrivacy:
    """The privacy side of one ingestion run: keys installed on the connection, the vault, the consent rules."""

    workspace: Workspace
    vault: Vault
    pseudonymise: Pseudonymiser

    @classmethod
    def open(cls, workspace: Workspace, con: duckdb.DuckDBPyConnection) -> IngestPrivacy:
        """Install the keyed hash on the warehouse connection."""
        vault = Vault(workspace)
        vault.keys.install(con)
        privacy = cls(workspace, vault, Pseudonymiser(vault.keys))
        privacy.settle(con)  # records left pending by a load interrupted before it could confirm them
        return privacy

    def settle(self, con: duckdb.DuckDBPyConnection) -> None:
        """Confirm the vault records of the loads the warehouse committed; drop those of loads it did not."""
        pending = self.vault.pending_loads()
        if pending:
            committed = {r[0] for r in con.execute(
                "SELECT load_id FROM loads WHERE status = 'loaded' AND load_id IN (SELECT unnest(?))",
                [sorted(pending)]).fetchall()}
            self.vault.settle(committed)

    @property
    def settings(self) -> Settings:
        """The workspace's settings."""
        return self.workspace.settings

    def seal_customers(self, con: duckdb.DuckDBPyConnection, stage: str, load_id: str, file: str) -> int:
        """Seal the raw personal values of the staged customer records that will be stored."""
        pseudonyms = ", ".join(stored_sql(TABLES["customers"].column(c), f'"{c}"') for c in SEALED_COLUMNS)
        raw = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in SEALED_COLUMNS)
        customer_id = stored_sql(TABLES["customers"].column("customer_id"), "customer_id")
        rows = con.execute(
            f"SELECT {customer_id}, {pseudonyms}, {raw} FROM {stage} WHERE NOT _bad AND customer_id IS NOT NULL"
        ).fetchall()
        width = len(SEALED_COLUMNS)
        people = [
            SealedPerson(row[0], dict(zip(SEALED_COLUMNS, row[1:1 + width], strict=True)),
                         dict(zip(SEALED_COLUMNS, row[1 + width:], strict=True)))
            for row in rows
        ]
        buried = self._buried_people(con, people)
        kept = [p for p, gone in zip(people, buried, strict=True) if not gone]
        keys: dict[str, list[str]] = {}
        names = {p.customer_id: p.raw["name"] for p in kept if p.raw.get("name")}
        for customer_id, pseudonym in name_index_rows(self.pseudonymise, names):
            keys.setdefault(customer_id, []).append(pseudonym)
        kept = [dataclasses.replace(p, name_keys=tuple(keys.get(p.customer_id, ()))) for p in kept]
        return self.vault.store_people(kept, load_id=load_id, file=file)

    def _buried_people(self, con: duckdb.DuckDBPyConnection, people: list[SealedPerson]) -> list[bool]:
        ids = [p.customer_id for p in people]
        checks = [erased_customers(con, ids, self.pseudonymise("customer", ids))]
        for column in ("document", "email", "phone"):
            checks.append(is_buried(con, column, [p.pseudonyms.get(column) for p in people]))
        return [any(flags) for flags in zip(*checks, strict=True)] if people else []

    def seal_rejects(
        self, con: duckdb.DuckDBPyConnection, table: Table, header_columns: dict[str, str],
        rows: list[tuple[str, int | None, str, str, str]], file: str,
    ) -> tuple[list[tuple[str, int | None, str, str, str]], int]:
        """Quarantine rows (load_id, line, column, reason, raw JSON) fit to keep: personal values sealed away.

        `header_columns` maps each file header to its canonical column. Returns the rows to write and how many
        rows of erased people were left out.
        """
        if not rows:
            return [], 0
        personal = {h for h, c in header_columns.items() if table.column(c).personal}
        masked_headers = {h for h in personal if table.column(header_columns[h]).personal.treatment == Treatment.MASKED}
        holds_people = bool(table.personal_columns)
        kept, sealed, erased = [], [], 0
        contents = [json.loads(raw) if raw else {} for *_, raw in rows]
        buried = self._buried_rejects(con, table, header_columns, contents)
        for (load_id, line, column, reason, raw), content, gone in zip(rows, contents, buried, strict=True):
            if gone:
                erased += 1
                continue
            safe = {key: _safe_value(key, value, header_columns, personal - masked_headers, holds_people)
                    for key, value in content.items()}
            safe_reason = _safe_reason(reason, personal - masked_headers, content, safe)
            if safe != content or safe_reason != reason:
                sealed.append((load_id, table.name, file, line, {"raw": content, "reason": reason}))
            kept.append((load_id, line, column, safe_reason,
                         raw if safe == content else json.dumps(safe, ensure_ascii=False)))
        self.vault.store_quarantined(sealed)
        return kept, erased

    def _buried_rejects(
        self, con: duckdb.DuckDBPyConnection, table: Table, header_columns: dict[str, str], contents: list[dict]
    ) -> list[bool]:
        pseudonymise = self.pseudonymise
        flags = [False] * len(contents)
        for header, canonical in header_columns.items():
            column = table.column(canonical)
            if canonical == "customer_id":  # kept as the warehouse keeps it: an id that is a CPF is its pseudonym
                ids = [pseudonymise.customer_id(c[header]) if isinstance(c.get(header), str) else None
                       for c in contents]
                found = erased_customers(con, ids, pseudonymise("customer", ids))
                flags = [a or b for a, b in zip(flags, found, strict=True)]
                continue
            kind = column.personal.identifier if column.personal and column.personal.identifier in (
                "document", "email", "phone", "token") else None
            if kind is None:
                continue
            values = [c.get(header) if isinstance(c.get(header), str) else None for c in contents]
            found = is_buried(con, kind, pseudonymise(kind, values))
            flags = [a or b for a, b in zip(flags, found, strict=True)]
        return flags

    def forget_erased(self, con: duckdb.DuckDBPyConnection, table: Table, load_id: str) -> int:
        """Drop (or dissociate) this load's rows of erased people; how many."""
        return sum(apply_tombstones(con, [table.name], load_id).values())

    def record_consent(self, con: duckdb.DuckDBPyConnection, load_id: str) -> int:
        """Consent and legal-basis events from a customers load; how many were recorded."""
        bases = self.settings.privacy.legal_basis
        by_consent = [p for p in CONSENT_PURPOSES if bases.get(p) == "consent"]
        other = [p for p in bases if p not in by_consent]
        before = con.execute("SELECT count(*) FROM consent_events").fetchone()[0]
        if by_consent:
            con.execute(
                f"""
                INSERT INTO consent_events (customer_id, purpose, granted, legal_basis, source, reference, recorded_at)
                SELECT c.customer_id, p.purpose, c.consent_marketing, 'consent', 'file', ?, now()
                FROM customers c CROSS JOIN (SELECT unnest(?) AS purpose) p
                LEFT JOIN ({latest_consent_sql()}) l ON l.customer_id = c.customer_id AND l.purpose = p.purpose
                WHERE c._load_id = ? AND c.consent_marketing IS NOT NULL
                  AND l.granted IS DISTINCT FROM c.consent_marketing
                  AND NOT (coalesce(l.source = 'request' AND NOT l.granted, false))
                """,
                [load_id, by_consent, load_id],
            )
        if other:
            con.execute(
                f"""
                INSERT INTO consent_events (customer_id, purpose, granted, legal_basis, source, reference, recorded_at)
                SELECT c.customer_id, p.purpose, true, p.basis, 'file', ?, now()
                FROM customers c CROSS JOIN (SELECT unnest(?) AS purpose, unnest(?) AS basis) p
                LEFT JOIN ({latest_consent_sql()}) l ON l.customer_id = c.customer_id AND l.purpose = p.purpose
                WHERE c._load_id = ? AND l.legal_basis IS DISTINCT FROM p.basis
                """,
                [load_id, other, [bases[p] for p in other], load_id],
            )
        return con.execute("SELECT count(*) FROM consent_events").fetchone()[0] - before


def _safe_value(
    key: str, value: object, header_columns: dict[str, str], personal: set[str], holds_people: bool
) -> object:
    """A rejected cell as quarantine may show it.

    Personal columns, and in a table about people every column the file has beyond the contract (a second e-mail,
    an RG, a mother's name), go to the vault whole. Elsewhere, CPFs, e-mails and phones are masked in columns
    outside the contract and in customer ids; the contract's other columns stay as they are (a 14-digit EAN is
    not a CNPJ).
    """
    if not isinstance(value, str) or not value.strip():
        return value
    unmapped = key not in header_columns
    if key in personal or (holds_people and (unmapped or key == "line")):
        return VAULT_MARK
    if unmapped or key == "line" or header_columns[key] == "customer_id":
        return mask_text(value)[0]
    return value


_QUOTED = re.compile(r"'[^']*'")
_DATE_OR_NUMBER = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{5,}")


def _safe_reason(reason: str, personal_headers: set[str], content: dict, safe_content: dict) -> str:
    """The reason with the values taken out of the row (`safe_content`) taken out of it too, quoted raw or parsed."""
    parts = []
    for part in reason.split("; "):
        if any(part.startswith(header) for header in personal_headers):
            label, _, rest = part.partition(": ")
            part = f"{label}: {_DATE_OR_NUMBER.sub(VAULT_MARK, _QUOTED.sub(repr(VAULT_MARK), rest))}"
        parts.append(part)
    safe = "; ".join(parts)
    for key, value in content.items():
        if isinstance(value, str) and value.strip() and safe_content.get(key) != value:
            safe = safe.replace(value.strip(), str(safe_content.get(key)))
    return safe


def latest_consent_sql() -> str:
    """SQL of the current state per (customer_id, purpose): the latest event's granted, legal basis and source."""
    return (
        "SELECT customer_id, purpose, arg_max(granted, seq) AS granted, arg_max(legal_basis, seq) AS legal_basis, "
        "arg_max(source, seq) AS source, max(recorded_at) AS since FROM consent_events GROUP BY customer_id, purpose"
    )

