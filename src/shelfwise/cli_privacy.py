"""`shelfwise privacy ...` and `shelfwise audit verify`: the privacy commands, thin over `shelfwise.privacy`.

A person is named by exactly one of --document (CPF/CNPJ), --email, --phone or --customer-id. The value typed is
never printed back, logged or stored: everything the commands record refers to the person by pseudonym.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from shelfwise.cli import EXIT_BUSY, EXIT_FAILED, WorkspaceOption, _fail, _open, console
from shelfwise.messages import say
from shelfwise.warehouse import WarehouseBusyError

privacy_app = typer.Typer(help="LGPD: data-subject requests, consent, contact exports, retention, record of "
                          "processing / LGPD: solicitações de titulares, consentimento, retenção, registro.",
                          no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log / O log de auditoria encadeado.", no_args_is_help=True)
ACTOR = "cli"

Document = Annotated[str | None, typer.Option("--document", help="CPF or CNPJ, with or without punctuation.")]
Email = Annotated[str | None, typer.Option("--email", help="E-mail address.")]
Phone = Annotated[str | None, typer.Option("--phone", help="Phone number, any punctuation.")]
CustomerId = Annotated[str | None, typer.Option("--customer-id", help="Customer id as the source has it.")]
Received = Annotated[
    datetime | None, typer.Option("--received", help="When the request arrived (default: now); the answer time "
                                  "is measured from it.", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%d/%m/%Y"])
]
Purpose = Annotated[str, typer.Option("--purpose", help="analytics, marketing_contact or partner_offer.")]


def _person(document: str | None, email: str | None, phone: str | None, customer_id: str | None) -> tuple[str, str]:
    given = [(k, v) for k, v in (("document", document), ("email", email), ("phone", phone),
                                  ("customer_id", customer_id)) if v]
    if len(given) != 1:
        _fail("name the person with exactly one of --document, --email, --phone, --customer-id", 2)
    return given[0]


@privacy_app.command("export")
def export_person(
    document: Document = None, email: Email = None, phone: Phone = None, customer_id: CustomerId = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the answer (default: artifacts/privacy/"
                                             "access/<request>).")] = None,
    received: Received = None, workspace: WorkspaceOption = None,
) -> None:
    """Everything held about a person (LGPD Art. 18): JSON and a readable HTML page."""
    from shelfwise.privacy.requests import access

    ws = _open(workspace)
    kind, value = _person(document, email, phone, customer_id)
    try:
        answer = access(ws, kind, value, out_dir=out, received_at=received, actor=ACTOR)
    except WarehouseBusyError as error:
        _fail(error, EXIT_BUSY)
    lang = ws.settings.workspace.language
    console.print(say("privacy.access", lang, request=answer.request_id, status=answer.status,
                      tables=", ".join(answer.summary["tables_held"]) or "-",
                      answered=f"{answer.answered_at:%Y-%m-%d %H:%M}", due=f"{answer.due_at:%Y-%m-%d}"), markup=False)
    for file in answer.files:
        console.print(f"  {file}", markup=False, highlight=False)


@privacy_app.command("erase")
def erase_person(
    document: Document = None, email: Email = None, phone: Phone = None, customer_id: CustomerId = None,
    received: Received = None, yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Erase a person everywhere (vault, tables, files), compact the storage, keep a tombstone, write a receipt."""
    from shelfwise.privacy.requests import erase

    ws = _open(workspace)
    lang = ws.settings.workspace.language
    kind, value = _person(document, email, phone, customer_id)
    if not yes and not typer.confirm(say("privacy.erase_confirm", lang)):
        raise typer.Exit(1)
    try:
        answer = erase(ws, kind, value, received_at=received, actor=ACTOR)
    except WarehouseBusyError as error:
        _fail(error, EXIT_BUSY)
    summary = answer.summary
    console.print(say("privacy.erased", lang, request=answer.request_id, status=answer.status,
                      records=summary["records_in_vault"], rows=sum(summary["rows_by_table"].values()),
                      files=len(summary["files"]), tombstones=summary["tombstones"]), markup=False)
    console.print(f"  {answer.files[0]}", markup=False, highlight=False)
    if answer.status == "not_found":
        raise typer.Exit(EXIT_FAILED)


@privacy_app.command("consent")
def consent(
    purpose: Purpose,
    grant: Annotated[bool, typer.Option("--grant/--revoke", help="Grant or revoke.")],
    document: Document = None, email: Email = None, phone: Phone = None, customer_id: CustomerId = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Record a consent given or revoked by the person; the next contact export honours it."""
    from shelfwise.privacy.consent import ConsentError, set_consent

    ws = _open(workspace)
    kind, value = _person(document, email, phone, customer_id)
    try:
        records = set_consent(ws, kind, value, purpose, granted=grant, actor=ACTOR)
    except ConsentError as error:
        _fail(error, 2)
    console.print(say("privacy.consent", ws.settings.workspace.language, records=records, purpose=purpose,
                      state="granted" if grant else "revoked"), markup=False)
    if not records:
        raise typer.Exit(EXIT_FAILED)


@privacy_app.command("contacts")
def contacts(
    purpose: Purpose,
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (csv, xlsx, parquet, json).")],
    workspace: WorkspaceOption = None,
) -> None:
    """Export name, e-mail and phone of the people who may be contacted for the purpose now (consent checked)."""
    from shelfwise.privacy.consent import ConsentError, export_contacts
    from shelfwise.warehouse.export import ExportError

    ws = _open(workspace)
    try:
        rows = export_contacts(ws, purpose, out, out.suffix.lstrip(".").lower() or "csv", actor=ACTOR)
    except (ConsentError, ExportError) as error:
        _fail(error, 2)
    console.print(say("export.done", ws.settings.workspace.language, rows=rows, out=out), markup=False)


@privacy_app.command("retention")
def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only report what would be purged.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Purge rows older than each table's retention period ([privacy.retention]) and report it."""
    from shelfwise.privacy.retention import purge_expired

    ws = _open(workspace)
    purge = purge_expired(ws, dry_run=dry_run, actor=ACTOR)
    lang = ws.settings.workspace.language
    console.print(say("privacy.retention_dry" if dry_run else "privacy.retention", lang,
                      rows=sum(purge.rows_by_table.values())), markup=False)
    for table, rows in purge.rows_by_table.items():
        cutoff = purge.cutoffs.get(table.split(" ")[0], purge.cutoffs.get("customers"))
        console.print(f"  {table}: {rows} (< {cutoff})", markup=False, highlight=False)


@privacy_app.command("ropa")
def ropa(
    output_format: Annotated[str, typer.Option("--format", "-f", help="md, html or json.")] = "md",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write (default: print).")] = None,
    language: Annotated[str | None, typer.Option("--language", help="pt or en (default: the workspace's).")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """The record of processing operations (LGPD Art. 37), generated from shelfwise.toml."""
    from shelfwise.privacy.ropa import build_register, render_html, render_json, render_markdown

    ws = _open(workspace)
    renderers = {"md": render_markdown, "html": render_html, "json": render_json}
    if output_format not in renderers:
        _fail(f"--format must be md, html or json, not '{output_format}'", 2)
    text = renderers[output_format](build_register(ws, language=language or ws.settings.workspace.language))
    if out is None:
        console.print(text, markup=False, highlight=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(str(out), markup=False, highlight=False)


@privacy_app.command("requests")
def requests_list(
    workspace: WorkspaceOption = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
) -> None:
    """Data-subject requests with when they were received, answered and due."""
    from shelfwise.cli import _print_frame, _reading
    from shelfwise.warehouse.access import query

    ws = _open(workspace)
    with _reading(ws) as con:
        frame = query(con, "SELECT request_id, kind, subject, received_at, answered_at, due_at, status, "
                      "answered_at <= due_at AS on_time FROM privacy_requests ORDER BY received_at")
    _print_frame(frame, output_format)


@audit_app.command("verify")
def verify(workspace: WorkspaceOption = None) -> None:
    """Check that no entry of the audit log was edited, removed or reordered."""
    from shelfwise.privacy.audit import verify as verify_log

    ws = _open(workspace)
    verdict = verify_log(ws.audit_path)
    lang = ws.settings.workspace.language
    if verdict.ok:
        console.print(say("audit.ok", lang, entries=verdict.entries, head=verdict.head or "-"), markup=False)
        return
    for problem in verdict.problems:
        console.print(problem, markup=False, highlight=False)
    _fail(say("audit.broken", lang, problems=len(verdict.problems), entries=verdict.entries), EXIT_FAILED)
