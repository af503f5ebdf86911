"""`shelfwise identity`, `segment`, `value` and `offer`: thin shells over `shelfwise.pipelines.customers`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from shelfwise.cli import EXIT_FAILED, WorkspaceOption, _fail, _open, _print_frame, _reading, _spinner, console
from shelfwise.messages import number, say
from shelfwise.pipelines.customers import (
    DECISIONS,
    IdentityRun,
    NoIdentityError,
    OfferRun,
    SegmentRun,
    ValueRun,
    decide_pair,
    export_offer_contacts,
    require_identity,
    run_identity,
    run_offer,
    run_segment,
    run_value,
)

identity_app = typer.Typer(help="Link customer records, cards and devices into persons.",
                           invoke_without_command=True, no_args_is_help=False)


@identity_app.callback()
def identity(ctx: typer.Context, workspace: WorkspaceOption = None) -> None:
    """Resolve customer records into persons (Splink) and attach their cards and devices."""
    if ctx.invoked_subcommand is not None:
        return
    ws = _open(workspace)
    with _spinner() as describe:
        describe(say("identity.running", ws.settings.workspace.language))
        try:
            run = run_identity(ws)
        except ValueError as error:
            _fail(error, EXIT_FAILED)
    print_identity(run, ws.settings.workspace.language)


def print_identity(run: IdentityRun, lang: str) -> None:
    """Persons found, how cards and devices were attached, and what waits for review."""
    stats = run.stats
    console.print(say("identity.done", lang, run=run.run_id, records=stats.get("records", 0),
                      persons=int(run.identity["person_id"].nunique()), merged=stats.get("pairs_linked", 0),
                      method=stats.get("method", "-")))
    console.print(say("identity.keys", lang, cards=stats.get("card_receipts", 0), own=stats.get("card_own", 0),
                      app=stats.get("visitor_app", 0), devices=stats.get("visitor_co_occurrence", 0)))
    for key in ("invalid_cpfs_ignored", "documents_not_cpf", "excluded_missing_id", "excluded_repeated_id",
                "placeholder_values_ignored", "conflicts"):
        if stats.get(key):
            console.print(say(f"identity.{key}", lang, n=stats[key]))
    console.print(say("identity.review", lang, n=stats.get("review_pairs", 0)))


@identity_app.command("review")
def review(
    workspace: WorkspaceOption = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
) -> None:
    """List the borderline pairs waiting for a decision (ids and which fields agree, never the values)."""
    ws = _open(workspace)
    with _reading(ws) as con:
        try:
            require_identity(con)
        except NoIdentityError as error:
            _fail(error, EXIT_FAILED)
        frame = con.execute("SELECT * EXCLUDE (run_id) FROM identity_review ORDER BY match_probability DESC").df()
    _print_frame(frame.round(3), output_format)


@identity_app.command("decide")
def decide(
    customer_id_l: Annotated[str, typer.Argument(help="One customer id of the pair.")],
    customer_id_r: Annotated[str, typer.Argument(help="The other customer id.")],
    decision: Annotated[str, typer.Argument(help=f"{' or '.join(DECISIONS)}.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Accept (same person) or reject (different persons) a pair; kept for every later run."""
    ws = _open(workspace)
    try:
        decide_pair(ws, customer_id_l, customer_id_r, decision)
    except ValueError as error:
        _fail(error, EXIT_FAILED)
    console.print(say("identity.decided", ws.settings.workspace.language, left=customer_id_l, right=customer_id_r,
                      decision=decision))


def _as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"--as-of: '{text}' is not a date (YYYY-MM-DD)", EXIT_FAILED)


AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Date of the analysis, YYYY-MM-DD (default: the "
                                                 "last day with receipts).")]


def segment(
    workspace: WorkspaceOption = None,
    as_of: AsOfOption = None,
    method: Annotated[str | None, typer.Option(help="kmeans, gmm or hdbscan (default: [segment] method).")] = None,
    k: Annotated[int | None, typer.Option(help="Number of segments (default: chosen automatically).")] = None,
) -> None:
    """Segment persons by behaviour, name the segments as personas, and score RFM alongside."""
    ws = _open(workspace)
    lang = ws.settings.workspace.language
    with _spinner() as describe:
        describe(say("segment.running", lang))
        try:
            run = run_segment(ws, as_of=_as_of(as_of), method=method, k=k)
        except (NoIdentityError, ValueError) as error:
            _fail(error, EXIT_FAILED)
    print_segments(run, lang)


def print_segments(run: SegmentRun, lang: str) -> None:
    """The personas with their size, revenue share and what sets them apart; how k was chosen; who was left out."""
    result = run.segmentation
    console.print(say("segment.done", lang, run=run.run_id, persons=len(run.features), as_of=run.as_of,
                      method=result.method, segments=int(result.profiles["segment_id"].ge(0).sum())))
    local = "pt" if lang == "pt" else "en"
    profiles = result.profiles.rename(columns={f"segment_name_{local}": "segment", f"distinguishing_{local}": "why"})
    _print_frame(profiles[["segment_id", "segment", "size", "share_of_revenue", "why"]].round(3), "table")
    chosen = result.selection[result.selection["chosen"]]
    if len(chosen) and len(result.selection) > 1:
        row = chosen.iloc[0]
        console.print(say("segment.k", lang, k=int(row["k"]), silhouette=row["silhouette"],
                          stability=row["stability"], tried=", ".join(str(int(v)) for v in result.selection["k"])))
    for reason, n in result.excluded.items():
        if n:
            console.print(say("segment.excluded", lang, n=n, reason=reason))


def value(workspace: WorkspaceOption = None, as_of: AsOfOption = None) -> None:
    """Fit BG/NBD and Gamma-Gamma; expected purchases, chance of being active and 12-month value per person."""
    ws = _open(workspace)
    lang = ws.settings.workspace.language
    try:
        run = run_value(ws, as_of=_as_of(as_of))
    except (NoIdentityError, ValueError) as error:
        _fail(error, EXIT_FAILED)
    print_value(run, lang)


def print_value(run: ValueRun, lang: str) -> None:
    """The model's parameters and the value the persons are expected to bring."""
    values = run.values
    params = {f"{m}.{p}": v for m, p, v in run.parameters[["model", "parameter", "value"]].itertuples(index=False)}
    console.print(say("value.done", lang, run=run.run_id, persons=len(values), as_of=run.as_of,
                      total=number(values["value_12m"].sum(), lang, 2),
                      purchases=number(values["expected_purchases_12m"].sum(), lang),
                      alive=values["probability_alive"].mean(), r=params.get("bg_nbd.r", float("nan")),
                      alpha=params.get("bg_nbd.alpha", float("nan")), a=params.get("bg_nbd.a", float("nan")),
                      b=params.get("bg_nbd.b", float("nan"))))
    for note in run.notes:
        console.print(f"  {note}")


def offer(
    package: Annotated[str | None, typer.Option(help="Package to model (default: any package).")] = None,
    workspace: WorkspaceOption = None,
    as_of: AsOfOption = None,
    contacts: Annotated[Path | None, typer.Option(help="Write the contact list of eligible targets to this file "
                                                  "(.csv, .xlsx, .json, .parquet).")] = None,
    deciles: Annotated[int, typer.Option(help="Top score deciles the contact list takes.")] = 3,
) -> None:
    """Score who will take a partner package; only consenting people without it are eligible."""
    ws = _open(workspace)
    lang = ws.settings.workspace.language
    with _spinner() as describe:
        describe(say("offer.running", lang))
        try:
            run = run_offer(ws, package=package, as_of=_as_of(as_of))
        except (NoIdentityError, ValueError) as error:
            _fail(error, EXIT_FAILED)
    print_offer(run, lang)
    if contacts is not None:
        rows = export_offer_contacts(ws, run.run_id, contacts, fmt=contacts.suffix.lstrip(".") or "csv",
                                     deciles=deciles)
        console.print(say("offer.contacts", lang, rows=rows, out=contacts, deciles=deciles))


def print_offer(run: OfferRun, lang: str) -> None:
    """Held-out AUC (or why there is none), lift of the top decile, and how many may be contacted."""
    result = run.result
    if result.auc is not None:
        low, high = result.metrics.get("auc_interval_95") or (float("nan"), float("nan"))
        top = result.lift.iloc[0] if len(result.lift) else None
        console.print(say("offer.auc", lang, run=run.run_id, package=result.package or "*", auc=result.auc, low=low,
                          high=high, lift=top["lift"] if top is not None else float("nan"),
                          split=result.metrics.get("split_date")))
    else:
        console.print(say("offer.no_auc", lang, run=run.run_id, package=result.package or "*",
                          reason=result.auc_reason))
    console.print(say("offer.targets", lang, scored=int(run.targets["score"].notna().sum()),
                      eligible=int(run.targets["eligible"].sum())))
