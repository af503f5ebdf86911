"""What a planned campaign should bring: each cell's lift, units, revenue and margin, and the campaign's totals.

Predictions carry the outcome the lift measurement will see: parameter uncertainty, the campaign effect, the
cell effects and the count noise of the planned volume. The baseline is taken as given: an error of the forecast
behind it is not in the intervals. Campaign totals are simulated with one shared draw per simulation (parameters
and campaign effect, and the effect of a never-promoted category) and independent cell draws, because summing
cells as if they were independent would make a campaign of a thousand cells look certain. Treating the parameter
part as fully shared is exact when the cells have the same terms and slightly cautious when their categories
differ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from shelfwise.promo.planning.design import _categories, _design, _types
from shelfwise.promo.planning.errors import PlanError
from shelfwise.promo.planning.model import LiftModel

PLAN_COLUMNS = ["store_id", "product_id", "category", "type", "discount_pct", "start_date", "days",
                "baseline_units", "unit_price", "unit_cost"]
PREDICTION_COLUMNS = ["lift_pct", "lift_low", "lift_high", "expected_units", "incremental_units",
                      "incremental_units_low", "incremental_units_high", "incremental_revenue",
                      "incremental_revenue_low", "incremental_revenue_high", "incremental_margin",
                      "incremental_margin_low", "incremental_margin_high", "category_seen", "log_lift", "sd_shared",
                      "sd_cell"]


def predict_plan(model: LiftModel, plan: pd.DataFrame, *, level: float = 0.9) -> pd.DataFrame:
    """Lift, units, revenue and margin of each planned cell, with intervals at `level`.

    Point values are means (of a log-normal lift); intervals are its quantiles. Incremental revenue is promo
    revenue at the discounted price minus baseline revenue at the regular price: expected_units × unit_price ×
    (1 - discount_pct / 100) - baseline_units × unit_price; incremental margin is the same with unit_cost taken
    off both prices. A missing discount (a display, say) sells at the regular price.

    Args:
        model: From `fit_lift_model`.
        plan: One row per planned cell: `PLAN_COLUMNS` (baseline_units: the forecast's units over the planned
            window without the promotion; unit_price: the regular price). category, type and discount_pct may be
            missing.
        level: Level of the intervals.

    Returns:
        The plan's columns, then `PREDICTION_COLUMNS`: lift_pct, lift_low, lift_high (%), expected_units,
        incremental_units, incremental_revenue and incremental_margin (each with _low and _high), category_seen,
        and what `plan_summary` simulates from: log_lift (mean log-lift), sd_shared (sd of the part shared by
        the campaign's cells: parameters, campaign effect, unseen category) and sd_cell (the cell's own sd),
        both already multiplied by the model's interval scale.
    """
    plan = _checked_plan(plan, level)
    frame = plan.assign(type=_types(plan["type"]), category=_categories(plan["category"]),
                        discount_pct=pd.to_numeric(plan["discount_pct"], errors="coerce"))
    x = _design(frame, model.spec)
    seen = np.isin(frame["category"].to_numpy(dtype=object), np.array(model.spec.categories, dtype=object))
    baseline = plan["baseline_units"].to_numpy(dtype=float)
    shared = np.einsum("ij,jk,ik->i", x, model.covariance, x) + model.campaign_var + model.category_var * ~seen
    cell = model.cell_var + model.noise_per_unit / baseline
    out = plan.copy()
    out["log_lift"] = x @ model.coef
    out["sd_shared"] = model.interval_scale * np.sqrt(shared)
    out["sd_cell"] = model.interval_scale * np.sqrt(cell)
    out["category_seen"] = seen
    return _outcomes(out, level)


def _checked_plan(plan: pd.DataFrame, level: float) -> pd.DataFrame:
    missing = [name for name in PLAN_COLUMNS if name not in plan.columns]
    if missing:
        raise PlanError(f"the plan lacks column(s) {', '.join(missing)}; expected one row per planned cell with "
                        f"{', '.join(PLAN_COLUMNS)}")
    if not 0 < level < 1:
        raise PlanError(f"level must be above 0 and below 1, not {level}")
    numbers = {name: pd.to_numeric(plan[name], errors="coerce") for name in
               ("days", "baseline_units", "unit_price", "unit_cost", "discount_pct")}
    problems = {"days must be a whole number of at least 1": ~(numbers["days"] >= 1),
                "baseline_units must be above 0": ~(numbers["baseline_units"] > 0),
                "unit_price and unit_cost must be 0 or more": ~((numbers["unit_price"] >= 0)
                                                               & (numbers["unit_cost"] >= 0)),
                "discount_pct must be from 0 to 100 (or missing)": numbers["discount_pct"].notna()
                & ~numbers["discount_pct"].between(0, 100),
                "start_date must be a date": pd.to_datetime(plan["start_date"], errors="coerce").isna()}
    failed = [f"{message} ({int(bad.sum())} row(s))" for message, bad in problems.items() if bad.any()]
    if plan.empty:
        failed.append("it has no cells (one row per store and product is expected)")
    if failed:
        raise PlanError("the plan has bad values: " + "; ".join(failed))
    money = {name: numbers[name].to_numpy() for name in ("baseline_units", "unit_price", "unit_cost")}
    return plan.reset_index(drop=True).assign(days=numbers["days"].round().astype(int).to_numpy(), **money)


def _outcomes(cells: pd.DataFrame, level: float) -> pd.DataFrame:
    """Lift, units, revenue and margin from log_lift and the two sds (also what `plan_summary` reads)."""
    mu, sd = cells["log_lift"].to_numpy(), np.hypot(cells["sd_shared"], cells["sd_cell"]).to_numpy()
    half = norm.ppf(0.5 + level / 2) * sd
    ratios = {"": np.exp(mu + sd**2 / 2), "_low": np.exp(mu - half), "_high": np.exp(mu + half)}
    baseline = cells["baseline_units"].to_numpy(dtype=float)
    out = cells.copy()
    out["lift_pct"], out["lift_low"], out["lift_high"] = (100 * (ratios[k] - 1) for k in ("", "_low", "_high"))
    out["expected_units"] = baseline * ratios[""]
    for suffix, ratio in ratios.items():
        units = baseline * ratio
        out[f"incremental_units{suffix}"] = units - baseline
        out[f"incremental_revenue{suffix}"], out[f"incremental_margin{suffix}"] = _money(cells, units)
    for name in ("incremental_revenue", "incremental_margin"):  # a loss per unit turns the interval round
        ends = out[[f"{name}_low", f"{name}_high"]].to_numpy()
        out[f"{name}_low"], out[f"{name}_high"] = ends.min(axis=1), ends.max(axis=1)
    return out[[*cells.columns.drop(PREDICTION_COLUMNS, errors="ignore"),
                *(name for name in PREDICTION_COLUMNS if name in out.columns)]]


def _money(cells: pd.DataFrame, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Incremental revenue and margin of selling `units` (cells × …) on promotion instead of the baseline."""
    price = cells["unit_price"].to_numpy(dtype=float)
    cost = cells["unit_cost"].to_numpy(dtype=float)
    promo = price * (1 - pd.to_numeric(cells["discount_pct"], errors="coerce").fillna(0).to_numpy() / 100)
    baseline = cells["baseline_units"].to_numpy(dtype=float)
    shape = (-1,) + (1,) * (units.ndim - 1)
    revenue = units * promo.reshape(shape) - (baseline * price).reshape(shape)
    margin = units * (promo - cost).reshape(shape) - (baseline * (price - cost)).reshape(shape)
    return revenue, margin


def plan_summary(cells: pd.DataFrame, *, cost: float | None, level: float = 0.9, draws: int = 4000,
                 seed: int = 0, loss_per_unit: float = 0.0) -> dict[str, float | int | None]:
    """Campaign totals with intervals, simulated with the campaign's shared effect drawn once per simulation.

    ROI is given two ways, as ratios (0.25 = 25%), defined as `promo_lift` defines them for measured campaigns:
        roi_gross = (incremental_margin - cost) / cost: the promoted items' extra margin against the cost;
        roi_net = (incremental_margin - loss_per_unit x incremental_units - cost) / cost: also counting the
            margin past campaigns lost per incremental unit to the post-promotion dip and cannibalised items.

    Args:
        cells: From `predict_plan` (only baseline_units, unit_price, unit_cost, discount_pct, log_lift,
            sd_shared and sd_cell are read).
        cost: What the campaign itself costs (media, fees, displays); None when unknown, then no ROI.
        level: Level of the intervals.
        draws: Simulations.
        seed: Seed of the simulations.
        loss_per_unit: Margin lost to the dip and cannibalisation per incremental unit, from measured history.

    Returns:
        level, cells, baseline_units, expected_units, lift_pct, incremental_units, incremental_revenue,
        incremental_margin, cost, roi_net and roi_gross, each estimate but cells, baseline_units and cost with
        _low and _high; ROI fields None without a cost. Points are means; intervals are simulated quantiles.
    """
    if cost is not None and not cost > 0:
        raise PlanError(f"the campaign cost must be above 0 (or left out), not {cost}")
    if cells.empty or not (cells["baseline_units"] > 0).all():
        raise PlanError("plan_summary needs the cells of predict_plan, each with baseline_units above 0")
    if not 0 < level < 1:
        raise PlanError(f"level must be above 0 and below 1, not {level}")
    baseline = float(cells["baseline_units"].sum())
    points = _outcomes(cells, level)
    sims = _simulate(cells, draws, seed)
    expected = float(points["expected_units"].sum())
    out: dict[str, float | int | None] = {"level": level, "cells": len(cells), "baseline_units": baseline,
                                          "expected_units": expected, "cost": cost}
    figures = {"lift_pct": (100 * (expected / baseline - 1), 100 * sims["units"] / baseline),
               **{f"incremental_{k}": (float(points[f"incremental_{k}"].sum()), sims[k])
                  for k in ("units", "revenue", "margin")}}
    if cost is not None:
        margin, units = figures["incremental_margin"][0], figures["incremental_units"][0]
        figures["roi_gross"] = ((margin - cost) / cost, (sims["margin"] - cost) / cost)
        figures["roi_net"] = ((margin - loss_per_unit * units - cost) / cost,
                              (sims["margin"] - loss_per_unit * sims["units"] - cost) / cost)
    tails = [(1 - level) / 2, (1 + level) / 2]
    for name, (point, drawn) in figures.items():
        low, high = np.quantile(drawn, tails)
        out.update({name: float(point), f"{name}_low": float(low), f"{name}_high": float(high)})
    for name in ("roi_net", "roi_gross"):
        out.setdefault(name, None)
        out.setdefault(f"{name}_low", None)
        out.setdefault(f"{name}_high", None)
    return out


def _simulate(cells: pd.DataFrame, draws: int, seed: int, chunk: int = 500) -> dict[str, np.ndarray]:
    """Draws of total units, and incremental units, revenue and margin; one shared draw per simulation."""
    rng = np.random.default_rng(seed)
    shared = rng.standard_normal(draws)
    totals = {"units": np.zeros(draws), "revenue": np.zeros(draws), "margin": np.zeros(draws)}
    for i in range(0, len(cells), chunk):
        part = cells.iloc[i:i + chunk]
        mu, sd_shared, sd_cell = (part[c].to_numpy(dtype=float)[:, None] for c in ("log_lift", "sd_shared", "sd_cell"))
        baseline = part["baseline_units"].to_numpy(dtype=float)[:, None]
        units = baseline * np.exp(mu + sd_shared * shared + sd_cell * rng.standard_normal((len(part), draws)))
        revenue, margin = _money(part, units)
        totals["units"] += (units - baseline).sum(axis=0)
        totals["revenue"] += revenue.sum(axis=0)
        totals["margin"] += margin.sum(axis=0)
    return totals
