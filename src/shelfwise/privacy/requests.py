"""Data-subject requests (LGPD Art. 18): access (everything held about a person) and erasure.

A request names the person by CPF, e-mail, phone or customer id. The person is every customer record reachable from
it through a shared CPF, e-mail or phone (the same person registered twice), plus the records identity resolution
has put under the same person when that table exists; their card tokens come from their receipts.

Both kinds are recorded in `privacy_requests` with when they were received and answered (Art. 19 asks for 15 days,
`[privacy] answer_days`), and audited under the subject's pseudonym — the raw identifier given on the command line
is never written anywhere.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from shelfwise.config import CONFIG_FILE
from shelfwise.privacy import audit
from shelfwise.privacy.pseudonyms import Pseudonymiser
from shelfwise.privacy.scrub import Mentions, fold, scrub_files
from shelfwise.privacy.tombstones import PERSON_KEYS, apply_tombstones, bury, tables_with_people
from shelfwise.privacy.vault import Vault
from shelfwise.warehouse.core import has_table
from shelfwise.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

IDENTIFIER_KINDS = ("document", "email", "phone", "customer_id")


class SubjectNotFound(LookupError):
    """No record of the person in the vault, the warehouse or the quarantine."""


@dataclass
class Subject:
    """One person as the workspace knows them."""

    kind: str
    pseudonym: str
    customer_ids: set[str] = field(default_factory=set)
    pseudonyms: dict[str, set[str]] = field(default_factory=dict)
    records: pd.DataFrame | None = None
    quarantined: list[tuple[str, int | None, dict]] = field(default_factory=list)
    mentions: Mentions = field(default_factory=lambda: Mentions(None))
    """Their identifiers, to find them in text and files."""
    in_records: Mentions = field(default_factory=lambda: Mentions(None))
    """The same and their record ids as JSON strings, to find rejected rows that carry only an id."""

    @property
    def known(self) -> bool:
        """Whether the workspace holds anything of the person."""
        return bool(self.customer_ids or self.quarantined)


@contextmanager
def opened_subject(
    workspace: Workspace, kind: str, value: str, *, purpose: str, actor: str | None = None
) -> Iterator[tuple[duckdb.DuckDBPyConnection, Vault, Subject]]:
    """The warehouse (written), the vault and the person, for one request: the way every request starts."""
    vault = Vault(workspace)
    with workspace.warehouse.connect(write=True, purpose="privacy request") as con:
        vault.keys.install(con)
        yield con, vault, find_subject(con, vault, kind, value, purpose=purpose, actor=actor)


def new_request_id(kind: str) -> str:
    """`erase-20261123T101500-1a2b3c`."""
    return f"{kind}-{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def find_subject(
    con: duckdb.DuckDBPyConnection, vault: Vault, kind: str, value: str, *, purpose: str, actor: str | None = None
) -> Subject:
    """Everything that identifies the person named by `kind` = `value` (`con` has the keys installed)."""
    if kind not in IDENTIFIER_KINDS:
        raise ValueError(f"unknown identifier '{kind}'; expected one of {', '.join(IDENTIFIER_KINDS)}")
    pseudonymise = Pseudonymiser(vault.keys)
    id_kind = "customer" if kind == "customer_id" else kind
    subject = Subject(kind=kind, pseudonym=pseudonymise.one(id_kind, value) or "")
    if kind == "customer_id":
        ids = {pseudonymise.customer_id(value.strip())}
    else:  # records with the identifier, and an id that is the identifier itself (customers keyed by CPF)
        ids = vault.customer_ids(kind, [subject.pseudonym])
        ids |= {r[0] for r in con.execute(f'SELECT customer_id FROM customers WHERE "{kind}" = ? OR customer_id = ?',
                                          [subject.pseudonym, subject.pseudonym]).fetchall()}
    ids = _linked(con, vault, ids)
    subject.customer_ids = {i for i in ids if i}
    subject.records = vault.read_people(subject.customer_ids, purpose=purpose, actor=actor)
    found = subject.records
    subject.pseudonyms = {
        "customer": {p for p in pseudonymise("customer", sorted(subject.customer_ids)) if p},
        **{c: {p for p in pseudonymise(c, found[c].dropna().tolist()) if p} for c in ("document", "email", "phone")},
        # card tokens of their receipts, and their loyalty ids as app check-ins record them (visitor_id)
        "token": {r[0] for r in con.execute(
            "SELECT DISTINCT card_token FROM transactions WHERE customer_id IN (SELECT unnest(?)) AND "
            "card_token IS NOT NULL", [sorted(subject.customer_ids)]).fetchall()}
        | {p for p in pseudonymise("token", sorted(subject.customer_ids)) if p}
        | _resolved_devices(con, subject.customer_ids),
    }
    if kind in ("document", "email", "phone"):
        subject.pseudonyms[kind].add(subject.pseudonym)
    subject.mentions = _mentions(pseudonymise, found, kind, value)
    subject.in_records = _mentions(pseudonymise, found, kind, value, subject.customer_ids)
    quarantined = vault.read_quarantined(purpose=purpose, actor=actor)
    subject.quarantined = [
        (row.load_id, None if row.line != row.line else int(row.line), row.content)
        for row in quarantined.itertuples()
        if subject.in_records.found(json.dumps(row.content, ensure_ascii=False))
    ]
    return subject


def _resolved_devices(con: duckdb.DuckDBPyConnection, customer_ids: set[str]) -> set[str]:
    """Cards and devices identity resolution attached to the person (a Wi-Fi device seen around their receipts)."""
    if not has_table(con, PERSON_KEYS):
        return set()
    return {r[0] for r in con.execute(
        f"SELECT key FROM {PERSON_KEYS} WHERE kind IN ('card', 'visitor') AND person_id IN (SELECT person_id FROM "
        f"{PERSON_KEYS} WHERE kind = 'customer' AND key IN (SELECT unnest(?)))", [sorted(customer_ids)]).fetchall()}


def _normal(pseudonymise: Pseudonymiser, kind: str, value: str) -> str:
    return value.strip() if kind == "customer_id" else (pseudonymise.normalised(kind, value) or value)


def _linked(con: duckdb.DuckDBPyConnection, vault: Vault, ids: set[str]) -> set[str]:
    """The records sharing a CPF, e-mail or phone with these, transitively, and their resolved persons' records."""
    for _ in range(10):
        found = vault.pseudonyms_of(ids)
        grown = set(ids)
        for column in ("document", "email", "phone"):
            grown |= vault.customer_ids(column, found[column].dropna().tolist())
        if has_table(con, "customer_identity"):
            grown |= {r[0] for r in con.execute(
                "SELECT customer_id FROM customer_identity WHERE person_id IN (SELECT person_id FROM "
                "customer_identity WHERE customer_id IN (SELECT unnest(?)))", [sorted(grown)]).fetchall()}
        if grown == ids:
            break
        ids = grown
    return ids


def _mentions(
    pseudonymise: Pseudonymiser, records: pd.DataFrame, kind: str, value: str, ids: set[str] | None = None
) -> Mentions:
    """The person's identifiers as found in their records and as given; with `ids`, also their record ids."""
    extra = {kind: [_normal(pseudonymise, kind, value)]} if kind != "customer_id" else {}
    return Mentions.of(
        documents=[pseudonymise.normalised("document", d) for d in records["document"].dropna()]
        + extra.get("document", []),
        phones=[pseudonymise.normalised("phone", p) for p in records["phone"].dropna()] + extra.get("phone", []),
        emails=[e.strip() for e in records["email"].dropna()] + extra.get("email", []),
        names=records["name"].dropna().tolist(),
        ids=sorted(ids or ()),
    )


def _mentioning_feedback(con: duckdb.DuckDBPyConnection, subject: Subject) -> list[tuple[Any, str]]:
    """(rowid, text) of feedback rows whose text names the person (CPFs and the like were masked at load)."""
    names = [fold(n) for n in subject.records["name"].dropna()] if subject.records is not None else []
    lasts = sorted({n.split()[-1] for n in names if n.split()})
    if not lasts:
        return []
    rows = con.execute(
        "SELECT rowid, text FROM feedback WHERE "
        "list_has_any(regexp_split_to_array(lower(strip_accents(text)), '[^a-z0-9]+'), ?)", [lasts],
    ).fetchall()
    return [(rowid, text) for rowid, text in rows if subject.mentions.found(text)]


@dataclass
class Answer:
    """What a request produced: its record, and where the files are."""

    request_id: str
    kind: str
    subject: str
    received_at: datetime
    answered_at: datetime
    due_at: datetime
    status: str
    summary: dict[str, Any]
    files: list[str] = field(default_factory=list)


def _record(con: duckdb.DuckDBPyConnection, answer: Answer) -> None:
    con.execute(
        "INSERT INTO privacy_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [answer.request_id, answer.kind, answer.subject, answer.received_at, answer.answered_at, answer.due_at,
         answer.status, json.dumps(answer.summary, ensure_ascii=False, default=str)],
    )


def _due(workspace: Workspace, received_at: datetime) -> datetime:
    return received_at + timedelta(days=workspace.settings.privacy.answer_days)


def access(
    workspace: Workspace, kind: str, value: str, *, out_dir: Path | None = None, received_at: datetime | None = None,
    actor: str | None = None,
) -> Answer:
    """Write everything held about the person (raw, derived, where it came from) as JSON and HTML."""
    received = received_at or datetime.now()
    request_id = new_request_id("access")
    with opened_subject(workspace, kind, value, purpose=f"access request {request_id}", actor=actor) as (
            con, _, subject):
        held = _held(con, subject)
        sources = _sources(con, held)
        consent = _rows(con, "SELECT * FROM consent_events WHERE customer_id IN (SELECT unnest(?)) ORDER BY seq",
                        [sorted(subject.customer_ids)])
        earlier = _rows(con, "SELECT request_id, kind, received_at, answered_at, status FROM privacy_requests "
                        "WHERE subject = ? ORDER BY received_at", [subject.pseudonym])
        answered = datetime.now()
        document = {
            "request": {"id": request_id, "kind": "access", "received_at": received, "answered_at": answered,
                        "due_at": _due(workspace, received), "controller": workspace.settings.privacy.controller,
                        "dpo_contact": workspace.settings.privacy.dpo_contact},
            "subject": {"identified_by": kind, "pseudonym": subject.pseudonym},
            "records_in_vault": _plain(subject.records),
            "tables_held": sorted(t for t, rows in held.items() if rows),
            "tables": held,
            "quarantined_rows": [{"load_id": load, "line": line, **content}
                                 for load, line, content in subject.quarantined],
            "consent": consent,
            "sources": sources,
            "earlier_requests": earlier,
        }
        folder = out_dir or workspace.artifacts / "privacy" / "access" / request_id
        folder.mkdir(parents=True, exist_ok=True)
        json_path, html_path = folder / "dados_pessoais.json", folder / "dados_pessoais.html"
        json_path.write_text(json.dumps(document, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        from shelfwise.privacy.report import access_html

        html_path.write_text(access_html(document, workspace.settings.workspace.language), encoding="utf-8")
        answer = Answer(request_id, "access", subject.pseudonym, received, answered, _due(workspace, received),
                        "answered" if subject.known else "not_found",
                        {"tables_held": document["tables_held"], "records": len(subject.customer_ids),
                         "quarantined_rows": len(subject.quarantined)},
                        [str(json_path), str(html_path)])
        _record(con, answer)
    audit.record(workspace.audit_path, "privacy.access", actor=actor, request_id=request_id,
                 subject=subject.pseudonym, identified_by=kind, status=answer.status,
                 tables_held=document["tables_held"])
    return answer


def _held(con: duckdb.DuckDBPyConnection, subject: Subject) -> dict[str, list[dict]]:
    ids = sorted(subject.customer_ids)
    held: dict[str, list[dict]] = {}
    for table in tables_with_people(con):
        if table == "consent_events":  # it has its own section
            continue
        if table == "visits":
            held[table] = _rows(con, "SELECT * FROM visits WHERE visitor_id IN (SELECT unnest(?)) ORDER BY timestamp",
                                [sorted(subject.pseudonyms.get("token", set()))])
        elif table == "transactions":
            held[table] = _rows(con, "SELECT * FROM transactions WHERE customer_id IN (SELECT unnest(?)) OR "
                                "card_token IN (SELECT unnest(?)) ORDER BY timestamp",
                                [ids, sorted(subject.pseudonyms.get("token", set()))])
        else:
            held[table] = _rows(con, f'SELECT * FROM "{table}" WHERE customer_id IN (SELECT unnest(?))', [ids])
    held["feedback"] = [{"text": text} for _, text in _mentioning_feedback(con, subject)]
    held["quarantine"] = _rows(con, "SELECT * EXCLUDE (id) FROM (SELECT rowid AS id, * FROM quarantine) "
                               "WHERE list_contains(?, id)", [_quarantined_rows(con, subject)])
    return held


def _quarantined_rows(con: duckdb.DuckDBPyConnection, subject: Subject) -> list[int]:
    """Rowids of quarantine rows about the person.

    Those carrying one of their ids, mentioning them in what was kept in clear (a rejected comment that names
    them), or whose sealed original mentions them.
    """
    pairs = {(load, line) for load, line, _ in subject.quarantined}
    rows = con.execute("SELECT rowid, load_id, line, raw, reason, file FROM quarantine").fetchall()
    return [rowid for rowid, load, line, raw, reason, file in rows
            if (load, line) in pairs or subject.in_records.found(f"{raw} {reason} {file}")]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _plain(frame: pd.DataFrame | None) -> list[dict]:
    return [] if frame is None else json.loads(frame.to_json(orient="records", date_format="iso"))


def _sources(con: duckdb.DuckDBPyConnection, held: dict[str, list[dict]]) -> list[dict]:
    loads = sorted({row["_load_id"] for rows in held.values() for row in rows if row.get("_load_id")}
                   | {row["load_id"] for row in held.get("quarantine", []) if row.get("load_id")})
    return _rows(con, "SELECT load_id, table_name, file, file_sha256, finished_at AS loaded_at FROM loads "
                 "WHERE load_id IN (SELECT unnest(?)) ORDER BY finished_at", [loads])


def erase(
    workspace: Workspace, kind: str, value: str, *, received_at: datetime | None = None, actor: str | None = None,
) -> Answer:
    """Remove the person everywhere, compact the storage, keep tombstones, write a receipt."""
    received = received_at or datetime.now()
    request_id = new_request_id("erase")
    with opened_subject(workspace, kind, value, purpose=f"erasure request {request_id}", actor=actor) as (
            con, vault, subject):
        con.execute("BEGIN TRANSACTION")
        tombstones = bury(con, subject.pseudonyms, request_id)
        removed = apply_tombstones(con)
        feedback = _mentioning_feedback(con, subject)
        for rowid, text in feedback:
            con.execute("UPDATE feedback SET text = ? WHERE rowid = ?", [subject.mentions.redact(text), rowid])
        quarantine = con.execute("DELETE FROM quarantine WHERE list_contains(?, rowid)",
                                 [_quarantined_rows(con, subject)]).fetchone()[0]
        for table in ("loads", "quarantine"):  # a file named after the person
            for (file,) in con.execute(f"SELECT DISTINCT file FROM {table}").fetchall():
                if file and subject.mentions.found(file):
                    con.execute(f"UPDATE {table} SET file = ? WHERE file = ?", [subject.mentions.redact(file), file])
        con.execute("COMMIT")
    records, sealed_rows = vault.delete(subject.customer_ids, [(load, line) for load, line, _ in subject.quarantined])
    skip = {p.resolve() for p in (workspace.warehouse.path, workspace.vault_path, workspace.key_path,
                                  workspace.audit_path)}
    skip |= {p.with_name(p.name + suffix) for p in skip for suffix in (".wal", ".lock", ".head", ".head.tmp")}
    skip.add((workspace.root / CONFIG_FILE).resolve())
    files = scrub_files(workspace.root, subject.mentions, skip)
    workspace.warehouse.compact()
    vault.database.compact()
    answered = datetime.now()
    summary = {
        "records_in_vault": records, "sealed_rejected_rows": sealed_rows, "rows_by_table": removed,
        "feedback_texts_redacted": len(feedback), "quarantine_rows": quarantine, "tombstones": tombstones,
        "files": [asdict(f) for f in files], "storage": "warehouse and vault compacted",
    }
    answer = Answer(request_id, "erase", subject.pseudonym, received, answered, _due(workspace, received),
                    "erased" if subject.known else "not_found", summary)
    with workspace.warehouse.connect(write=True, purpose="privacy erase") as con:
        _record(con, answer)
    receipt = workspace.artifacts / "privacy" / "receipts" / f"{request_id}.json"
    receipt.parent.mkdir(parents=True, exist_ok=True)
    receipt.write_text(json.dumps({
        "request_id": request_id, "kind": "erase", "subject_pseudonym": subject.pseudonym, "identified_by": kind,
        "received_at": received, "answered_at": answered, "due_at": answer.due_at,
        "within_deadline": answered <= answer.due_at, "controller": workspace.settings.privacy.controller,
        "dpo_contact": workspace.settings.privacy.dpo_contact, **summary,
        "kept": "tombstones (pseudonyms only) so that re-ingesting old files does not bring the person back; "
                "receipt lines without customer id or card token, for sales totals",
    }, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    answer.files = [str(receipt)]
    audit.record(workspace.audit_path, "privacy.erase", actor=actor, request_id=request_id,
                 subject=subject.pseudonym, identified_by=kind, status=answer.status, records=records,
                 rows_by_table=removed, files=len(files), tombstones=tombstones)
    return answer

