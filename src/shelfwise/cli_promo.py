"""`shelfwise promo` (measure, plan), `abtest` and `crosssell`: thin shells over the promotion capabilities."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from shelfwise.cli import EXIT_FAILED, WorkspaceOption, _fail, _open, _print_frame, _spinner, console
from shelfwise.messages import number, say
from shelfwise.pipelines.promo import NoCampaignsError, PromoRun, run_promo

promo_app = typer.Typer(help="Measure what each promotion earned, and plan the next one.",
                        invoke_without_command=True, no_args_is_help=False)


@promo_app.callback()
def promo(ctx: typer.Context, workspace: WorkspaceOption = None,
          output_format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table") -> None:
    """Measure every campaign against its counterfactual baseline and store `promo_lift`."""
    if ctx.invoked_subcommand is not None:
        return
    ws = _open(workspace)
    lang = ws.settings.workspace.language
    with _spinner() as describe:
        describe(say("promo.running", lang))
        try:
            run = run_promo(ws)
        except NoCampaignsError as error:
            _fail(error, EXIT_FAILED)
    print_promo(run, lang, output_format)


def print_promo(run: PromoRun, lang: str, output_format: str = "table") -> None:
    """The campaigns' figures, then the counted ones that could not be measured and the overlaps."""
    table = run.result.table
    totals = table[table["level"] == "campaign"]
    measured = totals[totals["status"] == "ok"].sort_values("start_date")
    console.print(say("promo.done", lang, run=run.run_id, measured=len(measured), skipped=len(totals) - len(measured),
                      level=number(100 * run.result.level, lang)))
    _print_frame(_readable(measured, lang, run.result.level) if output_format == "table" else measured,
                 output_format)
    for status, n in sorted(run.result.counts.items()):
        if status != "ok":
            console.print(say("promo.counted", lang, n=n, why=say(f"promo.status.{status}", lang)))
    for row in totals[totals["overlaps_with"].notna()].itertuples():
        console.print(say("promo.overlap", lang, campaign=row.campaign_id, others=row.overlaps_with))


def _readable(measured: pd.DataFrame, lang: str, level: float) -> pd.DataFrame:
    """A narrow view for the terminal: lift with its interval in one column, units and net ROI."""
    def signed(v: float) -> str:
        return ("+" if v >= 0 else "") + number(v, lang, 0)

    pt = lang == "pt"
    return pd.DataFrame({
        "id": measured["campaign_id"],
        "campanha" if pt else "campaign": measured["name"].str.slice(0, 24),
        "início" if pt else "start": pd.to_datetime(measured["start_date"]).dt.strftime(
            "%d/%m/%y" if pt else "%Y-%m-%d"),
        f"lift % [{number(100 * level, lang)}%]": [f"{signed(v)} [{signed(lo)}, {signed(hi)}]" for v, lo, hi in
                         measured[["lift_pct", "lift_low", "lift_high"]].itertuples(index=False)],
        "un. incr." if pt else "incr. units": measured["incremental_units"].map(lambda v: number(v, lang)),
        "ROI líq." if pt else "net ROI": measured["roi_net"].map(lambda v: number(v, lang, 2) if pd.notna(v) else "–"),
    })


def _ids(text: str | None) -> list[str] | None:
    """A comma- or semicolon-separated list of ids; None when not given."""
    if not text:
        return None
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


@promo_app.command("plan")
def plan(
    products: Annotated[str, typer.Option("--products", help="Product ids, comma-separated.")],
    discount: Annotated[float, typer.Option("--discount", help="Discount in percent.")],
    start: Annotated[datetime, typer.Option("--start", formats=["%Y-%m-%d", "%d/%m/%Y"], help="First day.")],
    days: Annotated[int, typer.Option("--days", help="How many days it runs.")],
    stores: Annotated[str | None, typer.Option("--stores", help="Store ids, comma-separated (default: all that "
                                                                "sell the products).")] = None,
    cost: Annotated[float | None, typer.Option("--cost", help="What the campaign costs, for its ROI.")] = None,
    kind: Annotated[str, typer.Option("--type", help="discount, display, coupon, bundle or partnership.")]
    = "discount",
    save: Annotated[bool, typer.Option("--save", help="Add the plan to campaigns, so the next forecast reads it.")]
    = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Predict a planned campaign's lift, units, revenue and ROI from the measured history."""
    from shelfwise.pipelines.promo import PlanInputError, plan_campaign
    from shelfwise.promo.planning import NotEnoughHistory, PlanError, describe

    ws = _open(workspace)
    lang = ws.settings.workspace.language
    with _spinner() as step:
        step(say("promo.planning", lang))
        try:
            run = plan_campaign(ws, products=_ids(products) or [], stores=_ids(stores), discount_pct=discount,
                                start=start.date(), days=days, cost=cost, kind=kind, save=save)
        except NotEnoughHistory as error:
            _fail(error.message(lang), EXIT_FAILED)
        except (PlanError, PlanInputError, NoCampaignsError) as error:
            _fail(error, EXIT_FAILED)
    for line in describe(run.summary, run.support, lang):
        console.print(line, markup=False, highlight=False)
    if run.support.get("cells_left_out"):
        console.print(say("promo.cells_left_out", lang, n=run.support["cells_left_out"]))
    if run.campaign_id:
        console.print(say("promo.saved", lang, campaign=run.campaign_id))


def abtest(
    units_csv: Annotated[Path | None, typer.Argument(help="CSV of units: group, outcome and optionally a "
                                                          "pre-period column.")] = None,
    campaign: Annotated[str | None, typer.Option("--campaign", help="Read a campaign as a store experiment: its "
                                                                    "stores against the others.")] = None,
    pre_days: Annotated[int, typer.Option(help="Days before the campaign used by CUPED.")] = 28,
    confidence: Annotated[float, typer.Option(help="Confidence level of the intervals.")] = 0.95,
    workspace: WorkspaceOption = None,
) -> None:
    """Analyse an A/B test: Welch and bootstrap intervals, P(treatment beats control), CUPED; store the result."""
    from shelfwise.pipelines.promo import run_abtest
    from shelfwise.promo.abtest import describe

    ws = _open(workspace)
    lang = ws.settings.workspace.language
    try:
        run = run_abtest(ws, units_csv=units_csv, campaign=campaign, pre_days=pre_days, confidence=confidence)
    except ValueError as error:  # UnitsFileError, ExperimentInputError and the analysis' own refusals
        _fail(error, EXIT_FAILED)
    for line in describe(run.result, lang):
        console.print(line, markup=False, highlight=False)
    console.print(say("abtest.stored", lang, run=run.run_id))


def sample_size(
    baseline_mean: Annotated[float, typer.Option(help="Mean outcome per unit without treatment.")],
    effect: Annotated[float, typer.Option(help="Smallest effect worth detecting (relative: 0.05 = 5%).")],
    baseline_sd: Annotated[float | None, typer.Option(help="Standard deviation per unit (not needed for a "
                                                            "0/1 outcome).")] = None,
    absolute: Annotated[bool, typer.Option(help="The effect is in outcome units, not relative.")] = False,
    binary: Annotated[bool, typer.Option(help="The outcome is 0/1 (a conversion).")] = False,
    power: Annotated[float, typer.Option(help="Power wanted.")] = 0.8,
    alpha: Annotated[float, typer.Option(help="Two-sided significance level.")] = 0.05,
    ratio: Annotated[float, typer.Option(help="Treatment units per control unit.")] = 1.0,
    pre_correlation: Annotated[float, typer.Option(help="Correlation with a pre-period (CUPED shrinks the "
                                                        "sample by 1 - rho²).")] = 0.0,
) -> None:
    """Units per group an experiment needs to detect an effect."""
    from shelfwise.messages import default_language
    from shelfwise.promo.abtest import sample_size as size

    lang = default_language()
    try:
        needed = size(baseline_mean=baseline_mean, baseline_sd=baseline_sd, minimum_detectable_effect=effect,
                      relative=not absolute, alpha=alpha, power=power, ratio=ratio, binary=binary,
                      cuped_correlation=pre_correlation)
    except ValueError as error:
        _fail(error, EXIT_FAILED)
    console.print(say("abtest.size", lang, treatment=number(needed.n_treatment, lang),
                      control=number(needed.n_control, lang), power=number(100 * power, lang),
                      alpha=number(100 * alpha, lang, 1)))


def crosssell(
    top: Annotated[int, typer.Option(help="Companions kept per item and segment.")] = 5,
    item: Annotated[str, typer.Option(help="product, store or auto (product when receipts name products).")]
    = "auto",
    basket: Annotated[str, typer.Option(help="For store items: 'shopper' (everything a shopper bought) or 'day'.")]
    = "shopper",
    workspace: WorkspaceOption = None,
    output_format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
) -> None:
    """People who buy X also buy Y: association rules from receipts, overall and per segment."""
    from shelfwise.pipelines.promo import run_crosssell

    ws = _open(workspace)
    lang = ws.settings.workspace.language
    with _spinner() as step:
        step(say("crosssell.running", lang))
        try:
            run = run_crosssell(ws, top_n=top, item=item, store_basket=basket)
        except ValueError as error:
            _fail(error, EXIT_FAILED)
    found = run.recommendations
    console.print(say("crosssell.done", lang, run=run.run_id, rows=len(found), baskets=found.attrs.get("baskets", 0)))
    if found.empty:
        console.print(found.attrs.get("reason", ""), markup=False)
        return
    shown = found[["scope", "segment", "item_name", "recommended_name", "lift", "confidence", "baskets", "rank"]]
    _print_frame(shown.round({"lift": 2, "confidence": 3}), output_format)
