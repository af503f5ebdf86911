"""What each campaign really earned: incremental units, revenue, margin and ROI over a counterfactual baseline.

`lift_pct` is always incremental units ÷ baseline units (the counterfactual, not the actual), in percent.

Intervals are calibrated on *placebo campaigns*: every measurable campaign is copied onto the same stores and
products at other dates when nothing ran there, those copies are kept out of the fit like real campaigns, and
since their true lift is zero, how far the baseline misses them is the baseline's error. The 90% interval of
a cell's lift combines that error with the sales' own noise (negative binomial, with the product's
overdispersion), scaled so that it covers 90% of the placebos (conformal); a campaign's interval uses the
placebo campaigns' totals, so errors its cells share -- a whole category misread on those days -- are counted
once, not averaged away. `lift_se` is the cell's standard error of log(actual / baseline).

A cell's `lift_pct` is partially pooled with its campaign's other cells of the same category (`intervals.pooled_lifts`);
`measured_lift_pct` is its own actual ÷ baseline − 1, and its incremental units, revenue and margin stay the
measured ones, so cells add up to their campaign.

A campaign row also carries `control_lift_pct`, the before/during comparison against the stores where it did
not run: the textbook check, shown beside the model's figure rather than mixed into it.

Campaigns that cannot be measured are counted with the reason: the same id on several rows, no products
listed, dates reversed, no sales for their products in their stores, too little history before them, or not
over yet.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import duckdb
import numpy as np
import pandas as pd

from shelfwise.promo.baseline import BaselineSettings, DailyPanel, day_kinds, fit_baseline, selling_life
from shelfwise.promo.intervals import calibrate, placebo_misses, placebo_rounds, pooled_lifts, sales_noise
from shelfwise.promo.panel import (
    CAMPAIGNS_SQL,
    CATALOGUE_SQL,
    CELLS_SQL,
    NO_CATALOGUE_SQL,
    PlacedCampaign,
    cell_keys,
    daily_panel,
    exclusions,
    main_state,
    overlaps,
    place_campaigns,
    window_sums,
)
from shelfwise.warehouse.core import has_table


@dataclass(frozen=True)
class LiftSettings:
    """Windows and thresholds of the measurement."""

    post_days: int = 7
    """Days after a campaign over which the post-promotion dip (pantry loading) is measured."""
    min_history_days: int = 28
    """Clean days a cell needs before its campaign for its lift to be printed."""
    min_baseline_units: float = 3.0
    level: float = 0.90
    placebos_per_campaign: int = 5
    seed: int = 0
    baseline: BaselineSettings = field(default_factory=BaselineSettings)


@dataclass(frozen=True)
class LiftResult:
    """A measurement: `promo_lift` rows, campaigns per status, and the placebo figures behind the intervals.

    `table` holds one row per campaign (store_id and product_id NULL), then one per measured cell.
    """

    table: pd.DataFrame
    counts: dict[str, int]
    calibration: dict[str, float]
    level: float = 0.9


def measure_campaigns(con: duckdb.DuckDBPyConnection, settings: LiftSettings = LiftSettings()) -> LiftResult:
    """Measure every campaign in `campaigns` against the sales history; nothing is written."""
    campaigns = con.execute(CAMPAIGNS_SQL, {"min_history": settings.min_history_days}).df()
    ran = campaigns[campaigns["status"].isin(["ok", "in_progress", "before_history"])]
    con.register("measured", ran[["campaign_id", "product_ids", "store_ids"]])
    try:
        cells = con.execute(CELLS_SQL).df()
    finally:
        con.unregister("measured")
    no_sales = (campaigns["status"] == "ok") & ~campaigns["campaign_id"].isin(cells["campaign_id"])
    campaigns.loc[no_sales, "status"] = "no_sales"
    campaigns = campaigns.assign(overlaps_with=overlaps(campaigns, cells))
    if cells.empty:
        return _result(campaigns, pd.DataFrame(), {})
    if not campaigns.loc[campaigns["status"] == "ok", "campaign_id"].isin(cells["campaign_id"]).any():
        return _result(campaigns, pd.DataFrame(), {})
    catalogue = con.execute(CATALOGUE_SQL if has_table(con, "products") else NO_CATALOGUE_SQL).df()
    panel, revenue, price = daily_panel(con, cells, catalogue)
    state = main_state(con, panel.stores)
    return _measure(campaigns, cells, panel, revenue, price, catalogue.set_index("product_id"), state, settings)


def _measure(campaigns: pd.DataFrame, cells: pd.DataFrame, panel: DailyPanel, revenue: np.ndarray,
             price: np.ndarray, products: pd.DataFrame, state: str | None, settings: LiftSettings) -> LiftResult:
    placed = place_campaigns(campaigns, cells, panel)
    promoted, disturbed = exclusions(placed, panel, settings.post_days)
    ok_ids = set(campaigns.loc[campaigns["status"] == "ok", "campaign_id"])
    measured = [c for c in placed if c.campaign_id in ok_ids]
    kinds = day_kinds(panel.days, state)
    fit_panel = replace(panel, clean=panel.clean & ~disturbed)
    expected, overdispersion = fit_baseline(fit_panel, kinds, settings.baseline)
    cell_misses, campaign_misses = [], []
    for placebos in placebo_rounds(measured, disturbed, panel, settings):
        _, hidden = exclusions(placebos, panel, settings.post_days)
        hid = fit_baseline(replace(fit_panel, clean=fit_panel.clean & ~hidden), kinds, settings.baseline)[0]
        cells_round, campaigns_round = placebo_misses(placebos, panel, hid, overdispersion, settings)
        cell_misses += cells_round
        campaign_misses += campaigns_round
    calibration = calibrate(cell_misses, campaign_misses, settings)
    learnt = fit_panel.clean & selling_life(panel.units) & panel.open_days[:, :, None]
    regular = _regular_prices(panel, price, fit_panel.clean, products)
    unit_cost = products["unit_cost"].reindex(panel.products).to_numpy(dtype=float)
    rows = []
    for c in measured:
        cell = _campaign_cells(c, panel, expected, revenue, regular, unit_cost, overdispersion, learnt,
                               promoted, calibration, settings)
        total = _campaign_total(c, cell, panel, expected, promoted, regular, unit_cost, overdispersion, calibration)
        rows.append(total)
        rows.append(cell)
    table = pd.concat(rows, ignore_index=True)
    cells = table["store_id"].notna() & table["usable"].astype(bool)
    table.loc[cells, ["lift_pct", "lift_low", "lift_high"]] = pooled_lifts(table.loc[cells], calibration).to_numpy()
    return _result(campaigns, table, calibration, settings.level)


def _regular_prices(panel: DailyPanel, price: np.ndarray, clean: np.ndarray, products: pd.DataFrame) -> np.ndarray:
    """(S, P) usual shelf price: the median price of clean days, else the catalogue price."""
    with warnings.catch_warnings():  # a product never sold clean in a store has no median: the catalogue answers
        warnings.simplefilter("ignore", RuntimeWarning)
        usual = np.nanmedian(np.where(clean, price, np.nan), axis=0)
    catalogue = products["unit_price"].reindex(panel.products).to_numpy(dtype=float)
    return np.where(np.isfinite(usual), usual, catalogue[None, :])


def _campaign_cells(c: PlacedCampaign, panel: DailyPanel, expected: np.ndarray, revenue: np.ndarray,
                    regular: np.ndarray, unit_cost: np.ndarray, overdispersion: np.ndarray, learnt: np.ndarray,
                    promoted: np.ndarray, calibration: dict[str, float],
                    settings: LiftSettings) -> pd.DataFrame:
    """One row per listed (store, product): units, lift, money and the dip after, with intervals.

    `learnt` marks the days the baseline learnt from; a cell needs `min_history_days` of them in the
    `2 x min_history_days` before the campaign, so a product launched with the campaign gets no lift figure.
    Units sold on days the file gave no revenue are priced at the regular price less the announced discount.
    The dip is NaN when the history ends before `post_days` after the campaign.
    """
    actual, base, known_revenue = window_sums(c, panel.units, expected, revenue)
    squares = window_sums(c, expected, square=True)[0]
    unpriced = window_sums(c, panel.units, valid=np.isnan(revenue))[0]
    history_from = max(c.first - 2 * settings.min_history_days, 0)
    history_days = (window_sums(c, learnt, first=history_from, last=c.first - 1)[0] if c.first > 0
                    else np.zeros_like(actual))
    s_idx, p_idx = np.nonzero(c.listed)
    price = regular[c.stores[s_idx], c.products[p_idx]]
    cost = unit_cost[c.products[p_idx]]
    sold_revenue = known_revenue + unpriced * price * (1 - c.discount)
    dip = np.full_like(actual, np.nan)
    if c.last + settings.post_days < len(panel.days):
        post_units, post_base = window_sums(c, panel.units, expected, first=c.last + 1,
                                             last=c.last + settings.post_days, valid=~promoted)
        dip = post_base - post_units
    alpha = overdispersion[c.products[p_idx]]
    usable = (base >= settings.min_baseline_units) & (history_days >= settings.min_history_days)
    ratio = np.where(usable, (actual + 0.5) / (base + 0.5), np.nan)
    variance = calibration["cell_variance"] + sales_noise(actual, base, squares, alpha)
    spread = calibration["cell_multiplier"] * np.sqrt(variance)
    stores, product_ids = cell_keys(c, panel)
    figures = _figures(c.campaign_id, stores, product_ids, actual, base, ratio, spread, sold_revenue, price, cost,
                       usable, dip_units=dip, dip_margin=dip * (price - cost))
    category = panel.categories[c.products[p_idx]].astype(object)
    return figures.assign(category=np.where(np.char.startswith(category.astype(str), "?"), None, category),
                          lift_se=np.sqrt(variance), baseline_squares=squares)


def _figures(campaign_id: str, stores: np.ndarray | None, product_ids: np.ndarray | None, actual: np.ndarray,
             base: np.ndarray, ratio: np.ndarray, spread: np.ndarray, sold_revenue: np.ndarray, price: np.ndarray,
             cost: np.ndarray, usable: np.ndarray, *, dip_units: np.ndarray, dip_margin: np.ndarray) -> pd.DataFrame:
    """Units, lift, revenue and margin with their intervals from the actual-to-baseline ratio and its spread.

    The interval is on log(actual / baseline). At its bound r the baseline is base x ratio / r, so the point
    figures are exactly actual − baseline (a cell that sold nothing lost its whole baseline) and cells add up.
    """
    low, high = ratio * np.exp(-spread), ratio * np.exp(spread)

    def baseline_at(r: np.ndarray) -> np.ndarray:
        return base * ratio / r

    def margin(r: np.ndarray) -> np.ndarray:
        return sold_revenue - actual * cost - baseline_at(r) * (price - cost)

    blank = np.where(usable, 1.0, np.nan)
    return pd.DataFrame({
        "campaign_id": campaign_id, "store_id": stores, "product_id": product_ids,
        "baseline_units": base * blank, "actual_units": actual,
        "incremental_units": actual - baseline_at(ratio), "incremental_low": actual - baseline_at(low),
        "incremental_high": actual - baseline_at(high),
        "lift_pct": 100 * (ratio - 1), "lift_low": 100 * (low - 1), "lift_high": 100 * (high - 1),
        "measured_lift_pct": 100 * (ratio - 1),
        "incremental_revenue": sold_revenue - baseline_at(ratio) * price,
        "incremental_margin": margin(ratio), "incremental_margin_low": margin(low),
        "incremental_margin_high": margin(high),
        "post_promo_dip_units": dip_units * blank, "post_promo_dip_margin": dip_margin * blank,
        "usable": usable,
    })


def _campaign_total(c: PlacedCampaign, cell: pd.DataFrame, panel: DailyPanel, expected: np.ndarray,
                    promoted: np.ndarray, regular: np.ndarray, unit_cost: np.ndarray, overdispersion: np.ndarray,
                    calibration: dict[str, float]) -> pd.DataFrame:
    """The campaign's row: its usable cells summed, and what it took from the rest of the category."""
    use = cell["usable"].to_numpy()
    actual, base = cell["actual_units"].to_numpy()[use], cell["baseline_units"].to_numpy()[use]
    alpha = overdispersion[c.products[np.nonzero(c.listed)[1]]][use]
    squares = cell["baseline_squares"].to_numpy()[use]
    if not use.any():
        return pd.DataFrame({"campaign_id": [c.campaign_id], "usable": [False]})
    ratio = (actual.sum() + 0.5) / (base.sum() + 0.5)
    spread = calibration["campaign_multiplier"] * np.sqrt(
        calibration["campaign_variance"] + 1 / max(actual.sum(), 1.0) + (alpha * squares).sum() / base.sum() ** 2)
    margins = cell.loc[use, "incremental_margin"].to_numpy().sum()  # NaN when a product has no cost: unknown
    s_idx, p_idx = np.nonzero(c.listed)
    unit_margin = (regular[c.stores[s_idx], c.products[p_idx]] - unit_cost[c.products[p_idx]])[use]
    baseline_margin = (base * unit_margin).sum()
    sold_margin = margins + baseline_margin

    def margin(r: float) -> float:
        return sold_margin - baseline_margin * ratio / r

    low, high = ratio * np.exp(-spread), ratio * np.exp(spread)
    total_actual, total_base = actual.sum(), base.sum()
    lost_units, lost_margin = _cannibalised(c, panel, expected, promoted, regular, unit_cost)
    return pd.DataFrame({
        "campaign_id": [c.campaign_id], "baseline_units": [total_base], "actual_units": [total_actual],
        "control_lift_pct": [_control_lift(c, panel, promoted)],
        "incremental_units": [total_actual - total_base], "incremental_low": [total_actual - total_base * ratio / low],
        "incremental_high": [total_actual - total_base * ratio / high],
        "lift_pct": [100 * (ratio - 1)], "lift_low": [100 * (low - 1)], "lift_high": [100 * (high - 1)],
        "measured_lift_pct": [100 * (ratio - 1)],
        "incremental_revenue": [cell.loc[use, "incremental_revenue"].to_numpy().sum()],
        "incremental_margin": [margin(ratio)], "incremental_margin_low": [margin(low)],
        "incremental_margin_high": [margin(high)],
        "post_promo_dip_units": [cell.loc[use, "post_promo_dip_units"].to_numpy().sum()],
        "post_promo_dip_margin": [cell.loc[use, "post_promo_dip_margin"].to_numpy().sum()],
        "cannibalised_units": [lost_units], "cannibalised_margin": [lost_margin], "usable": [True],
    })


def _control_lift(c: PlacedCampaign, panel: DailyPanel, promoted: np.ndarray, pre_days: int = 28) -> float:
    """The campaign's lift by the textbook check: its stores against the others, before against during.

    (treated units during ÷ before) ÷ (control units during ÷ before) − 1, on the campaign's products, over the
    `pre_days` before it; NaN without a control store. A second opinion on the model's baseline: where the two
    disagree by more than the interval, look at the campaign (a control store's own promotion, a stock-out).
    """
    controls = np.setdiff1d(np.arange(len(panel.stores)), c.stores)
    before = np.arange(max(c.first - pre_days, 0), c.first)
    if not len(controls) or not len(before):
        return float("nan")
    during = np.arange(c.first, c.last + 1)

    def total(days: np.ndarray, stores: np.ndarray) -> float:
        block = np.ix_(days, stores, c.products)
        return float(np.where(promoted[block] & ~np.isin(stores, c.stores)[None, :, None], 0.0,
                              panel.units[block]).sum())

    treated = total(during, c.stores) / max(total(before, c.stores), 1.0)
    control = total(during, controls) / max(total(before, controls), 1.0)
    return 100 * (treated / control - 1) if control > 0 else float("nan")


def _cannibalised(c: PlacedCampaign, panel: DailyPanel, expected: np.ndarray, promoted: np.ndarray,
                  regular: np.ndarray, unit_cost: np.ndarray) -> tuple[float, float]:
    """Units (and margin) the category's unpromoted products lost in the campaign's stores while it ran.

    The loss is a few percent of a whole category, as small as the baseline's own error over those days, so it
    is read against the control stores: what the same products fell short of their baseline there (the
    baseline's error, shared) is taken out of what they fell short in the campaign's stores.
    """
    others = np.setdiff1d(np.flatnonzero(np.isin(panel.categories, panel.categories[c.products])), c.products)
    if not len(others):
        return 0.0, 0.0
    days = np.arange(c.first, c.last + 1)
    controls = np.setdiff1d(np.arange(len(panel.stores)), c.stores)
    drift = 0.0
    if len(controls):
        block = np.ix_(days, controls, others)
        quiet = ~promoted[block]
        base = (expected[block] * quiet).sum()
        drift = float(((expected[block] - panel.units[block]) * quiet).sum() / base) if base > 0 else 0.0
    block = np.ix_(days, c.stores, others)
    base = np.where(promoted[block], 0.0, expected[block])
    short = (base - np.where(promoted[block], 0.0, panel.units[block]) - drift * base).sum(0)
    margin = regular[np.ix_(c.stores, others)] - unit_cost[others][None, :]
    return float(short.sum()), float((short * margin).sum())


RESULT_COLUMNS = [
    "campaign_id", "level", "store_id", "product_id", "category", "name", "type", "discount_pct", "start_date",
    "end_date", "days", "status", "overlaps_with", "baseline_units", "actual_units", "incremental_units",
    "incremental_low", "incremental_high", "lift_pct", "lift_low", "lift_high", "measured_lift_pct",
    "control_lift_pct", "lift_se", "incremental_revenue", "incremental_margin", "incremental_margin_low",
    "incremental_margin_high", "post_promo_dip_units", "post_promo_dip_margin", "cannibalised_units",
    "cannibalised_margin", "cost", "roi_gross", "roi_gross_low", "roi_gross_high", "roi_net", "roi_net_low",
    "roi_net_high",
]


def _result(campaigns: pd.DataFrame, table: pd.DataFrame, calibration: dict[str, float], level: float = 0.9
            ) -> LiftResult:
    """`promo_lift` rows: one per campaign (every campaign, with its status), then one per measured cell."""
    info = campaigns[["campaign_id", "name", "type", "discount_pct", "start_date", "end_date", "cost", "status",
                      "overlaps_with"]].copy()
    info["days"] = (pd.to_datetime(info["end_date"]) - pd.to_datetime(info["start_date"])).dt.days + 1
    info.loc[info["days"] < 1, "days"] = np.nan
    figures = [c for c in RESULT_COLUMNS if c not in info.columns and c != "level"]
    table = table.reindex(columns=["campaign_id", *figures, "usable"]).astype({"campaign_id": str, "store_id": object})
    is_total = table["store_id"].isna()
    totals = info.merge(table[is_total], on="campaign_id", how="left").assign(level="campaign")
    measured_nothing = (totals["status"] == "ok") & ~totals["usable"].astype("boolean").fillna(False).astype(bool)
    totals.loc[measured_nothing, "status"] = "too_little_data"
    net = totals["incremental_margin"] - totals["post_promo_dip_margin"].fillna(0) \
        - totals["cannibalised_margin"].fillna(0)
    for suffix, margin in (("", totals["incremental_margin"]), ("_low", totals["incremental_margin_low"]),
                           ("_high", totals["incremental_margin_high"])):
        offset = margin - totals["incremental_margin"]
        totals[f"roi_gross{suffix}"] = (margin - totals["cost"]) / totals["cost"].where(totals["cost"] > 0)
        totals[f"roi_net{suffix}"] = (net + offset - totals["cost"]) / totals["cost"].where(totals["cost"] > 0)
    cells = table[~is_total].merge(info.drop(columns=["cost", "status"]), on="campaign_id", how="left")
    cells = cells.assign(level="cell", status=np.where(cells["usable"].astype(bool), "ok", "too_little_data"))
    frame = pd.concat([totals, cells], ignore_index=True).reindex(columns=RESULT_COLUMNS)
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    frame["end_date"] = pd.to_datetime(frame["end_date"])
    counts = totals["status"].value_counts().to_dict()
    return LiftResult(table=frame, counts={str(k): int(v) for k, v in counts.items()}, calibration=calibration,
                      level=level)
