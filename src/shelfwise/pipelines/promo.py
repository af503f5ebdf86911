"""`shelfwise promo`, `promo plan`, `abtest` and `crosssell` as Python calls that store their tables under runs.

The measurement reads the warehouse and fits in memory; the warehouse is held for writing only to register
the run and store its rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from shelfwise.promo.lift import LiftResult, LiftSettings, measure_campaigns
from shelfwise.promo.panel import CATALOGUE_SQL, NO_CATALOGUE_SQL
from shelfwise.runs import finish_run, start_run, store_rows
from shelfwise.warehouse.core import has_table
from shelfwise.workspace import Workspace

PROMO_DDL = """
CREATE TABLE IF NOT EXISTS promo_lift (
    run_id VARCHAR, campaign_id VARCHAR, level VARCHAR, store_id VARCHAR, product_id VARCHAR, category VARCHAR,
    name VARCHAR,
    type VARCHAR, discount_pct DOUBLE, start_date DATE, end_date DATE, days BIGINT, status VARCHAR,
    overlaps_with VARCHAR, baseline_units DOUBLE, actual_units DOUBLE, incremental_units DOUBLE,
    incremental_low DOUBLE, incremental_high DOUBLE, lift_pct DOUBLE, lift_low DOUBLE, lift_high DOUBLE,
    measured_lift_pct DOUBLE, control_lift_pct DOUBLE, lift_se DOUBLE,
    incremental_revenue DOUBLE, incremental_margin DOUBLE, incremental_margin_low DOUBLE,
    incremental_margin_high DOUBLE, post_promo_dip_units DOUBLE, post_promo_dip_margin DOUBLE,
    cannibalised_units DOUBLE, cannibalised_margin DOUBLE, cost DOUBLE, roi_gross DOUBLE, roi_gross_low DOUBLE,
    roi_gross_high DOUBLE, roi_net DOUBLE, roi_net_low DOUBLE, roi_net_high DOUBLE
);
"""
"""`lift_pct` = incremental ÷ baseline units. `roi_gross` = (incremental margin of the promoted items − cost) ÷
cost; `roi_net` also subtracts the margin lost to the post-promotion dip and to cannibalised items."""


class NoCampaignsError(LookupError):
    """There is nothing to measure: no campaigns or no sales loaded."""


@dataclass(frozen=True)
class PromoRun:
    """A stored promo measurement."""

    run_id: str
    result: LiftResult


def run_promo(workspace: Workspace, settings: LiftSettings | None = None) -> PromoRun:
    """Measure every campaign and store `promo_lift` (one row per campaign, then one per store and product)."""
    settings = settings or LiftSettings()
    with workspace.warehouse.connect(write=False, purpose="promo") as con:
        missing = [t for t in ("campaigns", "sales") if not has_table(con, t)]
        if missing:
            raise NoCampaignsError(f"load {' and '.join(missing)} first: shelfwise ingest FILE --table "
                                   f"{missing[0]}")
        result = measure_campaigns(con, settings)
    parameters = {"post_days": settings.post_days, "min_history_days": settings.min_history_days,
                  "level": settings.level, "placebos_per_campaign": settings.placebos_per_campaign,
                  "season_halfwidths": list(settings.baseline.season_halfwidths)}
    with workspace.warehouse.connect(write=True, purpose="promo") as con:
        con.execute(PROMO_DDL)
        run_id = start_run(con, "promo", parameters)
        store_rows(con, "promo_lift", run_id, result.table)
        finish_run(con, run_id, metrics={"campaigns": result.counts, "calibration": result.calibration})
    return PromoRun(run_id=run_id, result=result)


PLAN_DDL = """
CREATE TABLE IF NOT EXISTS promo_plans (
    run_id VARCHAR, store_id VARCHAR, product_id VARCHAR, category VARCHAR, type VARCHAR, discount_pct DOUBLE,
    start_date DATE, days BIGINT, baseline_units DOUBLE, baseline_source VARCHAR, unit_price DOUBLE,
    unit_cost DOUBLE, lift_pct DOUBLE, lift_low DOUBLE, lift_high DOUBLE, expected_units DOUBLE,
    incremental_units DOUBLE, incremental_units_low DOUBLE, incremental_units_high DOUBLE,
    incremental_revenue DOUBLE, incremental_revenue_low DOUBLE, incremental_revenue_high DOUBLE,
    incremental_margin DOUBLE, incremental_margin_low DOUBLE, incremental_margin_high DOUBLE
);
"""
"""One row per planned (store, product); the campaign's totals and the history it stands on are in `runs`."""

PLAN_CELLS_SQL = """
WITH chosen_products AS (SELECT unnest($products::VARCHAR[]) AS product_id),
selling AS (
    SELECT DISTINCT store_id, product_id FROM sales
    WHERE product_id IN (SELECT product_id FROM chosen_products)
      AND ($stores IS NULL OR list_contains($stores::VARCHAR[], store_id))
),
catalogue AS ({catalogue}),
recent AS (
    SELECT store_id, product_id, median(price) FILTER (WHERE NOT coalesce(on_promo, false)) AS shelf_price,
           greatest(sum(units) FILTER (WHERE NOT coalesce(on_promo, false)), 0)
             / nullif(56 - count(DISTINCT date) FILTER (WHERE coalesce(on_promo, false)), 0) AS daily_units
    FROM sales
    WHERE date > (SELECT max(date) FROM sales) - INTERVAL 56 DAY
      AND product_id IN (SELECT product_id FROM chosen_products)
    GROUP BY ALL
),
forecast AS ({forecast})
SELECT s.store_id, s.product_id, coalesce(c.category, '?') AS category,
       CASE WHEN f.days = $days THEN f.units ELSE r.daily_units * $days END AS baseline_units,
       CASE WHEN f.days = $days THEN 'forecast' ELSE 'recent_56_days' END AS baseline_source,
       coalesce(r.shelf_price, c.unit_price) AS unit_price, c.unit_cost
FROM selling s
LEFT JOIN catalogue c USING (product_id)
LEFT JOIN recent r USING (store_id, product_id)
LEFT JOIN forecast f USING (store_id, product_id)
ORDER BY s.store_id, s.product_id
"""
PLAN_FORECAST_SQL = """
SELECT store_id, product_id, sum(forecast) AS units, count(*) AS days
FROM forecasts
WHERE run_id = (SELECT max(run_id) FROM forecasts) AND date BETWEEN $start AND $start + to_days($days - 1)
GROUP BY ALL
"""
NO_FORECAST_SQL = ("SELECT NULL::VARCHAR AS store_id, NULL::VARCHAR AS product_id, 0.0 AS units, 0 AS days "
                   "WHERE $start IS NULL AND false")
"""The counterfactual of a planned window: the latest forecast when it covers every day (forecasts are made
for ordinary days unless the plan is already a campaign), else the ordinary daily sales of the last 56 days
(net of returns, over the days without a promotion, a day without sales counting as zero)."""


class PlanInputError(ValueError):
    """The plan names nothing that sells: unknown products, or stores that do not sell them."""


@dataclass(frozen=True)
class PlanRun:
    """A stored campaign plan: its cells, totals, and the history the prediction stands on."""

    run_id: str
    cells: pd.DataFrame
    summary: dict[str, object]
    support: dict[str, object]
    campaign_id: str | None


def plan_campaign(
    workspace: Workspace, *, products: list[str], stores: list[str] | None, discount_pct: float, start: date,
    days: int, cost: float | None = None, kind: str = "discount", save: bool = False,
) -> PlanRun:
    """Predict a planned campaign from the measured history; with `save`, add it to `campaigns` as planned.

    A saved plan is a campaign like any other: the next forecast reads it as a promotion inside its horizon.
    """
    from shelfwise.promo.planning import fit_lift_model, history_support, plan_summary, predict_plan

    if days < 1:
        raise PlanInputError(f"--days must be at least 1, not {days}")
    with workspace.warehouse.connect(write=False, purpose="plan") as con:
        measured = has_table(con, "promo_lift")
    if not measured:
        run_promo(workspace)
    with workspace.warehouse.connect(write=False, purpose="plan") as con:
        latest = con.execute("SELECT * FROM promo_lift WHERE run_id = (SELECT max(run_id) FROM promo_lift)").df()
        history, history_totals = latest[latest["level"] == "cell"], latest[latest["level"] == "campaign"]
        forecast = PLAN_FORECAST_SQL if has_table(con, "forecasts") else NO_FORECAST_SQL
        catalogue = CATALOGUE_SQL if has_table(con, "products") else NO_CATALOGUE_SQL
        cells = con.execute(PLAN_CELLS_SQL.replace("{forecast}", forecast).replace("{catalogue}", catalogue),
                            {"products": products, "stores": stores, "start": start, "days": days}).df()
    unknown = sorted(set(products) - set(cells["product_id"]))
    if cells.empty or unknown:
        where = "the stores " + ", ".join(stores) if stores else "any store"
        raise PlanInputError(f"{', '.join(unknown or products)}: no sales in {where}; check the product ids")
    priced = (cells["baseline_units"] > 0) & cells["unit_price"].notna() & cells["unit_cost"].notna()
    if not priced.all():
        missing = cells.loc[~priced, ["store_id", "product_id"]].astype(str).agg("/".join, axis=1)
        if not priced.any():
            raise PlanInputError("no planned cell has both a baseline (ordinary sales in the last 56 days) and a "
                                 f"price and cost in products: {', '.join(missing)}")
        cells = cells[priced]
    plan = cells.assign(type=kind, discount_pct=float(discount_pct), start_date=pd.Timestamp(start), days=days)
    model = fit_lift_model(history)
    predicted = predict_plan(model, plan)
    summary = plan_summary(predicted, cost=cost, loss_per_unit=_loss_per_unit(history_totals))
    support = history_support(model, plan) | {"cells_left_out": int((~priced).sum())}
    stored = predicted.reindex(columns=[*plan.columns, *PLAN_RESULT_COLUMNS])
    with workspace.warehouse.connect(write=True, purpose="plan") as con:
        con.execute(PLAN_DDL)
        run_id = start_run(con, "promo_plan", {"products": products, "stores": stores, "discount_pct": discount_pct,
                                               "start": start, "days": days, "cost": cost, "type": kind})
        store_rows(con, "promo_plans", run_id, stored)
        campaign_id = _save_plan(con, run_id, plan, cost) if save else None
        finish_run(con, run_id, metrics={"summary": summary, "support": support,
                                         "campaign_id": campaign_id})
    return PlanRun(run_id=run_id, cells=predicted, summary=summary, support=support, campaign_id=campaign_id)


PLAN_RESULT_COLUMNS = ["lift_pct", "lift_low", "lift_high", "expected_units", "incremental_units",
                       "incremental_units_low", "incremental_units_high", "incremental_revenue",
                       "incremental_revenue_low", "incremental_revenue_high", "incremental_margin",
                       "incremental_margin_low", "incremental_margin_high"]


def _loss_per_unit(totals: pd.DataFrame) -> float:
    """Margin measured campaigns lost to their post-promotion dip and cannibalised items, per incremental unit."""
    measured = totals[(totals["status"] == "ok") & (totals["incremental_units"] > 0)]
    lost = (measured["post_promo_dip_margin"].fillna(0) + measured["cannibalised_margin"].fillna(0)).sum()
    units = measured["incremental_units"].sum()
    return max(float(lost / units), 0.0) if units > 0 else 0.0


def _save_plan(con: duckdb.DuckDBPyConnection, run_id: str, plan: pd.DataFrame, cost: float | None) -> str:
    """Append the plan to `campaigns` (load id 'plan:<run>') so forecasts see it; returns its campaign id."""
    campaign_id = f"PLAN-{run_id.split('-')[-1]}"
    first = plan["start_date"].iloc[0].date()
    con.execute("""
        INSERT INTO campaigns BY NAME
        SELECT ? AS campaign_id, ? AS name, ? AS start_date, ? AS end_date, ? AS type, ? AS discount_pct,
               ? AS cost, ?::VARCHAR[] AS product_ids, ?::VARCHAR[] AS store_ids, ? AS _load_id""",
                [campaign_id, f"Plano {run_id}", first, first + timedelta(days=int(plan["days"].iloc[0]) - 1),
                 plan["type"].iloc[0], float(plan["discount_pct"].iloc[0]), cost,
                 sorted(plan["product_id"].unique()), sorted(plan["store_id"].unique()), f"plan:{run_id}"])
    return campaign_id


ABTEST_DDL = """
CREATE TABLE IF NOT EXISTS abtest_results (
    run_id VARCHAR, source VARCHAR, method VARCHAR, effect DOUBLE, effect_low DOUBLE, effect_high DOUBLE,
    relative_effect DOUBLE, relative_low DOUBLE, relative_high DOUBLE, p_value DOUBLE, prob_treatment_better DOUBLE,
    n_treatment BIGINT, n_control BIGINT
);
"""
"""One row per method (welch, bootstrap, cuped, bayes); `relative_effect` is divided by the control mean."""

CAMPAIGN_UNITS_SQL = """
WITH campaign AS (
    SELECT any_value(start_date) AS first_day, any_value(end_date) AS last_day, any_value(product_ids) AS items,
           any_value(store_ids) AS shops
    FROM campaigns WHERE campaign_id = $campaign AND NOT coalesce(_placeholder, false)
),
selling AS (
    SELECT DISTINCT s.store_id FROM sales s, campaign c WHERE list_contains(c.items, s.product_id)
),
daily AS (
    SELECT s.store_id, s.date, greatest(sum(s.units), 0) AS units
    FROM sales s, campaign c
    WHERE list_contains(c.items, s.product_id)
      AND s.date BETWEEN c.first_day - to_days(CAST($pre_days AS INTEGER)) AND c.last_day
    GROUP BY ALL
)
SELECT l.store_id AS unit,
       CASE WHEN c.shops IS NULL OR len(c.shops) = 0 OR list_contains(c.shops, l.store_id) THEN 'tratamento'
            ELSE 'controle' END AS "group",
       coalesce(sum(d.units) FILTER (WHERE d.date >= c.first_day), 0) AS outcome,
       coalesce(sum(d.units) FILTER (WHERE d.date < c.first_day), 0) AS pre
FROM selling l CROSS JOIN campaign c LEFT JOIN daily d USING (store_id)
GROUP BY ALL
ORDER BY unit
"""
"""A campaign read as a store experiment: its stores against the others, units of its products sold during it,
with the `pre_days` before as the CUPED covariate."""


class ExperimentInputError(ValueError):
    """The experiment cannot be read: an unknown campaign, or one with no product list."""


@dataclass(frozen=True)
class AbtestRun:
    """A stored experiment analysis."""

    run_id: str
    units: pd.DataFrame
    result: object
    """A `shelfwise.promo.abtest.ExperimentResult`."""


def run_abtest(workspace: Workspace, *, units_csv: Path | None = None, campaign: str | None = None,
               pre_days: int = 28, confidence: float = 0.95) -> AbtestRun:
    """Analyse an experiment from a CSV of units (group, outcome, optional pre-period) or a campaign's stores."""
    from shelfwise.promo.abtest import analyse_experiment, read_units_csv, result_table

    if (units_csv is None) == (campaign is None):
        raise ExperimentInputError("give either a CSV of units or --campaign, not both or neither")
    if units_csv is not None:
        units, source = read_units_csv(units_csv), Path(units_csv).name
        result = analyse_experiment(units, confidence=confidence)
    else:
        with workspace.warehouse.connect(write=False, purpose="abtest") as con:
            known = con.execute("SELECT count(*), count(*) FILTER (WHERE len(product_ids) > 0) FROM campaigns "
                                "WHERE campaign_id = ? AND NOT coalesce(_placeholder, false)", [campaign]).fetchall()[0]
            if not known[0] or not known[1]:
                raise ExperimentInputError(f"campaign '{campaign}' is not in campaigns or lists no products")
            units = con.execute(CAMPAIGN_UNITS_SQL, {"campaign": campaign, "pre_days": pre_days}).df()
        if not (units["group"] == "controle").any():
            raise ExperimentInputError(f"campaign '{campaign}' ran in every store that sells its products: there is "
                                       "no control store to compare with")
        source = f"campaign:{campaign}"
        result = analyse_experiment(units, treatment="tratamento", control="controle", confidence=confidence)
    with workspace.warehouse.connect(write=True, purpose="abtest") as con:
        con.execute(ABTEST_DDL)
        run_id = start_run(con, "abtest", {"source": source, "pre_days": pre_days, "confidence": confidence})
        store_rows(con, "abtest_results", run_id, result_table(result).assign(source=source))
        finish_run(con, run_id, metrics={"warnings": [code for code, _ in result.warnings]})
    return AbtestRun(run_id=run_id, units=units, result=result)


@dataclass(frozen=True)
class CrossSellRun:
    """Stored recommendations and what the mining left out."""

    run_id: str
    recommendations: pd.DataFrame


def run_crosssell(workspace: Workspace, *, top_n: int = 5, item: str = "auto", store_basket: str = "shopper",
                  by_segment: bool = True) -> CrossSellRun:
    """Mine association rules from receipts and store "who buys X also buys Y" per segment in `recommendations`."""
    from shelfwise.promo.crosssell import RECOMMENDATIONS_DDL, recommendations

    with workspace.warehouse.connect(write=False, purpose="crosssell") as con:
        found = recommendations(con, top_n=top_n, item=item, store_basket=store_basket, by_segment=by_segment)
    with workspace.warehouse.connect(write=True, purpose="crosssell") as con:
        con.execute(RECOMMENDATIONS_DDL)
        run_id = start_run(con, "crosssell", {"top_n": top_n, "item": item, "store_basket": store_basket,
                                              "by_segment": by_segment})
        store_rows(con, "recommendations", run_id, found)
        finish_run(con, run_id, metrics=dict(found.attrs))
    return CrossSellRun(run_id=run_id, recommendations=found)
