"""Consent per purpose, and the one way contact data leaves the workspace: an export filtered at that moment.

Consent lives in `consent_events` (who, purpose, granted or not, legal basis, source, when); the current state is
the latest event. A change made here (a person writing in to revoke) is honoured by the next export at once —
exports read the events when they run, never a copy made by an earlier run — and, unlike a file, it stands until
changed here again (see `ingestion.IngestPrivacy.record_consent`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from shelfwise.privacy import audit
from shelfwise.privacy.ingestion import latest_consent_sql
from shelfwise.privacy.requests import opened_subject
from shelfwise.privacy.vault import Vault
from shelfwise.warehouse.export import export_table
from shelfwise.workspace import Workspace

PURPOSES = ("analytics", "marketing_contact", "partner_offer")
CONTACT_COLUMNS = ("customer_id", "name", "email", "phone")


class ConsentError(ValueError):
    """A purpose or identifier the workspace does not know."""


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ConsentError(f"unknown purpose '{purpose}'; expected one of: {', '.join(PURPOSES)}")


def set_consent(
    workspace: Workspace, kind: str, value: str, purpose: str, *, granted: bool, actor: str | None = None,
) -> int:
    """Record a grant or revocation for every record of the person; how many records it covered."""
    _check_purpose(purpose)
    with opened_subject(workspace, kind, value, purpose=f"consent change ({purpose})", actor=actor) as (
            con, _, subject):
        ids = sorted(subject.customer_ids)
        if ids:
            con.execute(
                "INSERT INTO consent_events (customer_id, purpose, granted, legal_basis, source, reference, "
                "recorded_at) SELECT unnest(?), ?, ?, ?, 'request', ?, ?",
                [ids, purpose, granted, workspace.settings.privacy.legal_basis[purpose], actor or "", datetime.now()],
            )
    audit.record(workspace.audit_path, "privacy.consent", actor=actor, subject=subject.pseudonym,
                 identified_by=kind, purpose=purpose, granted=granted, records=len(ids))
    return len(ids)


def consented_sql(purpose: str, legal_basis: str) -> str:
    """SQL of the customer ids that may be used for `purpose` now.

    Consent granted when consent is the purpose's basis; and, whatever the basis, nobody who objected by request
    (Art. 18 §2) — under any of their records: a revocation follows the person's CPF, e-mail and phone, so a new
    record of the same person in a later file does not bring the consent back.
    """
    latest = latest_consent_sql()
    objected = (f"SELECT c.customer_id, c.document, c.email, c.phone FROM ({latest}) l JOIN customers c "
                f"USING (customer_id) WHERE l.purpose = '{purpose}' AND l.source = 'request' AND NOT l.granted")
    allowed = "SELECT c.customer_id FROM customers c WHERE NOT c._placeholder"
    if legal_basis == "consent":
        allowed += (f" AND c.customer_id IN (SELECT customer_id FROM ({latest}) l "
                    f"WHERE l.purpose = '{purpose}' AND l.granted)")
    return (f"{allowed} AND NOT EXISTS (SELECT 1 FROM ({objected}) o WHERE o.customer_id = c.customer_id "
            "OR o.document = c.document OR o.email = c.email OR o.phone = c.phone)")


def export_contacts(
    workspace: Workspace, purpose: str, out: Path, fmt: str = "csv", *, actor: str | None = None,
    customer_ids: list[str] | None = None,
) -> int:
    """Write the contact data (name, e-mail, phone) of the people who may be contacted for `purpose` now.

    `customer_ids` narrows the list (e.g. the targets of an offer); consent is still checked for each.
    """
    _check_purpose(purpose)
    basis = workspace.settings.privacy.legal_basis[purpose]
    vault = Vault(workspace)
    with workspace.warehouse.connect(purpose="privacy contacts") as con:
        allowed = {r[0] for r in con.execute(consented_sql(purpose, basis)).fetchall()}
    if customer_ids is not None:
        allowed &= set(customer_ids)
    people = vault.read_people(sorted(allowed), purpose=f"contact export ({purpose})", actor=actor)
    contacts = people[list(CONTACT_COLUMNS)]
    scratch = duckdb.connect()
    scratch.register("frame", contacts)
    scratch.execute("CREATE TABLE contacts AS SELECT * FROM frame")
    rows = export_table(scratch, "contacts", fmt, out)
    scratch.close()
    audit.record(workspace.audit_path, "privacy.contacts", actor=actor, purpose=purpose, legal_basis=basis,
                 rows=rows, file=out.name)
    return rows
