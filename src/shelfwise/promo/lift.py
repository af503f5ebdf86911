"""What each campaign really earned: incremental units, revenue, margin and ROI over a counterfactual baseline.

`lift_pct` is always incremental units ÷ baseline units (the counterfactual, not the actual), in percent.

Intervals are calibrated on *placebo campaigns*: every measurable campaign is copied onto the same stores and
products at other dates when nothing ran there, those copies are kept out of the fit like real campaigns, and
since their true lift is zero, how far the baseline misses them is the baseline's error. The 90% interval of
a cell's lift combines that error with the sales' own noise (negative binomial, with the product's
overdispersion), scaled so that it covers 90% of the placebos (conformal); a campaign's interval uses the
placebo campaigns' totals, so errors its cells share -- a whole category misread on those days -- are counted
once, not averaged away. `lift_se` is the cell's standard error of log(actual / baseline).

A cell's `lift_pct` is partially pooled with its campaign's other cells of the same category (`_pooled_lifts`);
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


CAMPAIGNS_SQL = """
WITH bounds AS (SELECT min(date) AS first_day, max(date) AS last_day FROM sales),
campaign AS (
    SELECT campaign_id, any_value(name) AS name, any_value(type) AS type, any_value(discount_pct) AS discount_pct,
           any_value(cost) AS cost, any_value(start_date) AS start_date, any_value(end_date) AS end_date,
           any_value(product_ids) AS product_ids, any_value(store_ids) AS store_ids, count(*) AS copies
    FROM campaigns WHERE NOT coalesce(_placeholder, false) GROUP BY campaign_id
)
SELECT c.* EXCLUDE (copies), CASE
    WHEN c.copies > 1 THEN 'duplicate_id'
    WHEN c.start_date IS NULL OR c.end_date IS NULL THEN 'missing_dates'
    WHEN c.start_date > c.end_date THEN 'reversed_dates'
    WHEN c.product_ids IS NULL OR len(c.product_ids) = 0 THEN 'no_products'
    WHEN c.start_date > b.last_day THEN 'planned'
    WHEN c.end_date > b.last_day THEN 'in_progress'
    WHEN c.start_date < b.first_day + to_days(CAST($min_history AS INTEGER)) THEN 'before_history'
    ELSE 'ok' END AS status
FROM campaign c, bounds b
"""

CELLS_SQL = """
WITH listed AS (SELECT DISTINCT store_id, product_id FROM sales WHERE units > 0)
SELECT c.campaign_id, l.store_id, l.product_id
FROM measured c
CROSS JOIN LATERAL (SELECT unnest(c.product_ids) AS product_id) p
JOIN listed l ON l.product_id = p.product_id
 AND (c.store_ids IS NULL OR len(c.store_ids) = 0 OR list_contains(c.store_ids, l.store_id))
ORDER BY c.campaign_id, l.store_id, l.product_id
"""

CATALOGUE_SQL = """
SELECT product_id, any_value(category) AS category, any_value(unit_price) AS unit_price,
       any_value(unit_cost) AS unit_cost
FROM products GROUP BY ALL
"""
NO_CATALOGUE_SQL = ("SELECT NULL::VARCHAR AS product_id, NULL::VARCHAR AS category, NULL::DOUBLE AS unit_price, "
                    "NULL::DOUBLE AS unit_cost WHERE false")

DAILY_SQL = """
SELECT CAST(date_diff('day', $first, s.date) AS INTEGER) AS day, st.position AS store, p.position AS product,
       CAST(greatest(sum(s.units), 0) AS FLOAT) AS units,
       CAST(sum(coalesce(s.revenue, s.units * s.price)) AS FLOAT) AS revenue,
       bool_or(coalesce(s.on_promo, false)) AS on_promo,
       CAST(median(coalesce(s.price, s.revenue / nullif(s.units, 0))) AS FLOAT) AS price
FROM sales s JOIN panel_products p USING (product_id) JOIN panel_stores st USING (store_id)
WHERE s.date BETWEEN $first AND $last
GROUP BY ALL
"""
"""One row per sold (day, store, product) as integer positions on the panel: strings stay in DuckDB."""


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
    campaigns = campaigns.assign(overlaps_with=_overlaps(campaigns, cells))
    if cells.empty:
        return _result(campaigns, pd.DataFrame(), {})
    if not campaigns.loc[campaigns["status"] == "ok", "campaign_id"].isin(cells["campaign_id"]).any():
        return _result(campaigns, pd.DataFrame(), {})
    catalogue = con.execute(CATALOGUE_SQL if has_table(con, "products") else NO_CATALOGUE_SQL).df()
    panel, revenue, price = _panel(con, cells, catalogue)
    state = _main_state(con, panel.stores)
    return _measure(campaigns, cells, panel, revenue, price, catalogue.set_index("product_id"), state, settings)


def _main_state(con: duckdb.DuckDBPyConnection, stores: np.ndarray) -> str | None:
    """The state (UF) most of the panel's stores are in, whose holidays the kinds of day follow; None if unknown.

    Kinds of day are one calendar for the chain: a chain spread over several states gets its main state's
    holidays (the national ones hold everywhere).
    """
    if not has_table(con, "stores", "state"):
        return None
    found = con.execute("SELECT upper(trim(state)) AS uf, count(*) AS n FROM stores WHERE store_id IN "
                        "(SELECT unnest($ids::VARCHAR[])) AND state IS NOT NULL GROUP BY ALL ORDER BY n DESC, uf "
                        "LIMIT 1", {"ids": stores.tolist()}).fetchall()
    return found[0][0] if found else None


def _overlaps(campaigns: pd.DataFrame, cells: pd.DataFrame) -> list[str | None]:
    """Ids of other campaigns sharing a (store, product) with overlapping days (their lifts are entangled)."""
    if cells.empty:
        return [None] * len(campaigns)
    dated = cells.merge(campaigns[["campaign_id", "start_date", "end_date"]], on="campaign_id")
    pairs = dated.merge(dated, on=["store_id", "product_id"], suffixes=("", "_other"))
    pairs = pairs[(pairs["campaign_id"] != pairs["campaign_id_other"])
                  & (pairs["start_date"] <= pairs["end_date_other"]) & (pairs["start_date_other"] <= pairs["end_date"])]
    found = pairs.groupby("campaign_id")["campaign_id_other"].agg(lambda ids: ",".join(sorted(set(ids))))
    return [found.get(c) for c in campaigns["campaign_id"]]


def _panel(con: duckdb.DuckDBPyConnection, cells: pd.DataFrame, catalogue: pd.DataFrame
           ) -> tuple[DailyPanel, np.ndarray, np.ndarray]:
    """Daily sales of every product in the promoted products' categories (the cannibalisation candidates too).

    A product without a category is a category of its own ('?' and its id): it is not anybody's substitute.
    Revenue is NaN where the file gave neither revenue nor price. Arrays are float32: the panel is the memory.
    """
    con.register("catalogue", catalogue)
    try:
        products = con.execute("""
            WITH promoted AS (SELECT unnest($ids::VARCHAR[]) AS product_id),
            sold AS (SELECT DISTINCT s.product_id, coalesce(c.category, '?' || s.product_id) AS category
                     FROM sales s LEFT JOIN catalogue c USING (product_id))
            SELECT product_id, category FROM sold
            WHERE category IN (SELECT category FROM sold JOIN promoted USING (product_id))
            ORDER BY product_id""", {"ids": cells["product_id"].unique().tolist()}).df()
    finally:
        con.unregister("catalogue")
    first, last = con.execute("SELECT min(date), max(date) FROM sales").fetchall()[0]
    product_ids = products["product_id"].to_numpy()
    con.register("panel_products", products[["product_id"]].assign(position=np.arange(len(products))))
    try:
        stores = np.array([r[0] for r in con.execute(
            "SELECT DISTINCT store_id FROM sales JOIN panel_products USING (product_id) "
            "WHERE store_id IS NOT NULL ORDER BY store_id").fetchall()], dtype=object)
        con.register("panel_stores", pd.DataFrame({"store_id": stores, "position": np.arange(len(stores))}))
        daily = con.execute(DAILY_SQL, {"first": first, "last": last}).df()
    finally:
        con.unregister("panel_products")
        con.unregister("panel_stores")
    days = pd.date_range(first, last, freq="D")
    shape = (len(days), len(stores), len(product_ids))
    index = (daily["day"].to_numpy(), daily["store"].to_numpy(), daily["product"].to_numpy())
    units, revenue = np.zeros(shape, dtype=np.float32), np.zeros(shape, dtype=np.float32)
    units[index] = daily["units"].to_numpy()
    revenue[index] = daily["revenue"].to_numpy(dtype=np.float32)
    on_promo = np.zeros(shape, dtype=bool)
    on_promo[index] = daily["on_promo"].to_numpy()
    price = np.full(shape, np.nan, dtype=np.float32)
    price[index] = daily["price"].to_numpy(dtype=np.float32)
    del daily
    trading = con.execute("SELECT date, store_id FROM sales WHERE date BETWEEN $first AND $last GROUP BY ALL "
                          "HAVING sum(units) FILTER (WHERE units > 0) > 0", {"first": first, "last": last}).df()
    trading = trading[np.isin(trading["store_id"], stores)]
    open_days = np.zeros(shape[:2], dtype=bool)
    open_days[(trading["date"].to_numpy(dtype="datetime64[D]") - np.datetime64(first, "D")).astype(np.int64),
              np.searchsorted(stores, trading["store_id"].to_numpy())] = True
    clean = ~on_promo & ~_stock_outs(con, days, stores, product_ids)
    panel = DailyPanel(days=days, stores=stores, products=product_ids, categories=products["category"].to_numpy(),
                       units=units, clean=clean, open_days=open_days)
    return panel, revenue, price


def _stock_outs(con: duckdb.DuckDBPyConnection, days: pd.DatetimeIndex, stores: np.ndarray,
                products: np.ndarray) -> np.ndarray:
    """(D, S, P) True where the stock snapshot says nothing was on the shelf: censored demand, not low demand."""
    out = np.zeros((len(days), len(stores), len(products)), dtype=bool)
    if not has_table(con, "stock"):
        return out
    empty = con.execute("SELECT date, store_id, product_id FROM stock WHERE on_hand <= 0 AND date BETWEEN ? AND ?",
                        [days[0].date(), days[-1].date()]).df()
    keep = np.isin(empty["store_id"], stores) & np.isin(empty["product_id"], products)
    empty = empty[keep]
    out[(empty["date"].to_numpy(dtype="datetime64[D]") - days[0].to_datetime64().astype("datetime64[D]")
         ).astype(np.int64), np.searchsorted(stores, empty["store_id"]), np.searchsorted(products, empty["product_id"])
        ] = True
    return out


@dataclass(frozen=True)
class _Campaign:
    """A campaign placed on the panel: its day range and the indices of its stores and products."""

    campaign_id: str
    first: int
    last: int
    stores: np.ndarray
    products: np.ndarray
    listed: np.ndarray
    """(stores, products) True where the product sells in that store (a real cell)."""
    discount: float = 0.0
    """The announced discount as a fraction, to price units sold where the file gave no revenue."""


def _placed(campaigns: pd.DataFrame, cells: pd.DataFrame, panel: DailyPanel) -> list[_Campaign]:
    start = np.datetime64(panel.days[0].date(), "D")
    out = []
    for campaign_id, group in cells.groupby("campaign_id"):
        row = campaigns.loc[campaigns["campaign_id"] == campaign_id].iloc[0]
        stores = np.unique(np.searchsorted(panel.stores, group["store_id"]))
        products = np.unique(np.searchsorted(panel.products, group["product_id"]))
        listed = np.zeros((len(stores), len(products)), dtype=bool)
        listed[np.searchsorted(stores, np.searchsorted(panel.stores, group["store_id"])),
               np.searchsorted(products, np.searchsorted(panel.products, group["product_id"]))] = True
        first = int((np.datetime64(row["start_date"], "D") - start).astype(np.int64))
        last = int((np.datetime64(row["end_date"], "D") - start).astype(np.int64))
        discount = float(row["discount_pct"]) / 100 if pd.notna(row["discount_pct"]) else 0.0
        out.append(_Campaign(str(campaign_id), max(first, 0), min(last, len(panel.days) - 1), stores, products,
                             listed, min(max(discount, 0.0), 1.0)))
    return out


def _exclusions(placed: list[_Campaign], panel: DailyPanel, post_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Promoted cells, and every cell a promotion moves: its after-days, its category's other products.

    The second mask includes the first; the category's other products count in the campaign's stores while it runs.
    """
    promoted = np.zeros(panel.units.shape, dtype=bool)
    disturbed = np.zeros(panel.units.shape, dtype=bool)
    for c in placed:
        window = np.arange(c.first, c.last + 1)
        promoted[np.ix_(window, c.stores, c.products)] = True
        after = np.arange(c.last + 1, min(c.last + 1 + 2 * post_days, len(panel.days)))
        disturbed[np.ix_(after, c.stores, c.products)] = True
        same = np.flatnonzero(np.isin(panel.categories, panel.categories[c.products]))
        disturbed[np.ix_(window, c.stores, same)] = True
    return promoted, disturbed | promoted


def _placebos(placed: list[_Campaign], busy: np.ndarray, panel: DailyPanel, settings: LiftSettings
              ) -> list[list[_Campaign]]:
    """Copies of each campaign on the same stores and products at quiet dates: a campaign whose lift is zero.

    `busy` marks the cells real campaigns touch; a copy may not overlap them, nor another copy. Closed days and
    stock-outs inside a copy are left out of its sums (`_calibrate`), not held against the whole copy. Copies
    come in rounds -- the k-th copy of every campaign -- each fitted apart, so that hiding the copies takes no
    more data from the model than the real campaigns do.
    """
    rng = np.random.default_rng(settings.seed)
    offsets = np.array([sign * 7 * weeks for weeks in (6, 9, 12, 15, 18, 21, 26) for sign in (-1, 1)])
    taken = busy.copy()
    rounds: list[list[_Campaign]] = [[] for _ in range(settings.placebos_per_campaign)]
    for c in placed:
        found = 0
        for offset in rng.permutation(offsets):
            first, last = c.first + offset, c.last + offset
            if first < settings.min_history_days or last + settings.post_days >= len(panel.days):
                continue
            block = np.ix_(np.arange(first, last + 1 + settings.post_days), c.stores, c.products)
            if taken[block].any():
                continue
            taken[block] = True
            rounds[found].append(_Campaign(f"{c.campaign_id}~{offset:+d}", int(first), int(last), c.stores,
                                           c.products, c.listed))
            found += 1
            if found == settings.placebos_per_campaign:
                break
    return [placebos for placebos in rounds if placebos]


def _window_sums(c: _Campaign, *arrays: np.ndarray, first: int | None = None, last: int | None = None,
                 valid: np.ndarray | None = None, square: bool = False) -> list[np.ndarray]:
    """Each array summed over the campaign's days (or the given day range), one value per listed cell.

    Only the `valid` days count when a (D, S, P) mask is given; `square` sums the squares instead.
    """
    days = np.arange(c.first if first is None else first, (c.last if last is None else last) + 1)
    block = np.ix_(days, c.stores, c.products)
    kept = valid[block] if valid is not None else True
    return [np.nansum(np.where(kept, a[block].astype(np.float64) ** (2 if square else 1), 0.0), axis=0)[c.listed]
            for a in arrays]


def _cell_keys(c: _Campaign, panel: DailyPanel) -> tuple[np.ndarray, np.ndarray]:
    s, p = np.nonzero(c.listed)
    return panel.stores[c.stores[s]], panel.products[c.products[p]]


def _sales_noise(units: np.ndarray, base: np.ndarray, base_squares: np.ndarray, alpha: np.ndarray
                 ) -> np.ndarray:
    """Variance of log(units) over a window from the sales' own noise: 1 / units + alpha x sum(m²) / sum(m)²."""
    return 1 / np.maximum(units, 1.0) + alpha * base_squares / np.maximum(base, 1e-9) ** 2


def _placebo_misses(placebos: list[_Campaign], panel: DailyPanel, expected: np.ndarray,
                    overdispersion: np.ndarray, settings: LiftSettings) -> tuple[list[np.ndarray], list[list[float]]]:
    """Each placebo cell's and placebo campaign's log miss and its sales noise, on the fit that hid them."""
    cells, campaigns = [], []
    valid = panel.clean & panel.open_days[:, :, None]
    for c in placebos:
        units, base = _window_sums(c, panel.units, expected, valid=valid)
        squares = _window_sums(c, expected, valid=valid, square=True)[0]
        alpha = overdispersion[c.products[np.nonzero(c.listed)[1]]]
        ok = base >= settings.min_baseline_units
        if ok.any():
            cells.append(np.c_[np.log((units[ok] + 0.5) / (base[ok] + 0.5)),
                               _sales_noise(base[ok], base[ok], squares[ok], alpha[ok])])
            total = base[ok].sum()
            campaigns.append([np.log((units[ok].sum() + 0.5) / (total + 0.5)),
                              1 / total + (alpha[ok] * squares[ok]).sum() / total**2])
    return cells, campaigns


def _calibrate(cells: list[np.ndarray], campaigns: list[list[float]], settings: LiftSettings) -> dict[str, float]:
    """The baseline's own error variance, and the interval multiplier, for cells and for whole campaigns.

    A placebo's log miss is the baseline's error plus the sales' own noise (`_sales_noise`); the noise part is
    known, so the baseline's variance is what makes the typical miss typical (`_typical_variance`). Misses
    standardised by the resulting spread then give the multiplier directly (their `level` quantile, conformal
    style), so a wrong guess of the noise's shape widens the interval instead of breaking its coverage.
    """
    figures = {"placebo_cells": int(sum(len(c) for c in cells)), "placebo_campaigns": len(campaigns)}
    for name, rows in (("cell", np.vstack(cells) if cells else np.empty((0, 2))), ("campaign", np.array(campaigns))):
        if len(rows) < 10:
            figures |= {f"{name}_variance": 0.01,
                        f"{name}_multiplier": 2.0 * _normal_quantile(0.5 + settings.level / 2)}
            continue
        miss, noise = rows[:, 0], rows[:, 1]
        variance = _typical_variance(miss, noise)
        standardised = np.abs(miss) / np.sqrt(variance + noise)
        rank = min(int(np.ceil((len(miss) + 1) * settings.level)), len(miss)) - 1
        figures |= {f"{name}_variance": variance, f"{name}_multiplier": float(np.sort(standardised)[rank]),
                    f"{name}_rmse": float(np.sqrt(np.mean(miss**2)))}
    return figures


def _own_variance(calibration: dict[str, float], noise: np.ndarray) -> np.ndarray:
    """A cell's error its campaign does not share: the cell baseline error beyond the campaign's, plus noise."""
    shared = min(calibration["campaign_variance"], calibration["cell_variance"])
    return calibration["cell_variance"] - shared + noise


def _group_centres(observed: pd.Series, own: pd.Series, group: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Per row: its group's precision-weighted mean, the group's total precision, and the group's size."""
    precision = (1 / own).groupby(group).transform("sum")
    centre = (observed / own).groupby(group).transform("sum") / precision
    return centre, precision, observed.groupby(group).transform("size")


def _measure(campaigns: pd.DataFrame, cells: pd.DataFrame, panel: DailyPanel, revenue: np.ndarray,
             price: np.ndarray, products: pd.DataFrame, state: str | None, settings: LiftSettings) -> LiftResult:
    placed = _placed(campaigns, cells, panel)
    promoted, disturbed = _exclusions(placed, panel, settings.post_days)
    ok_ids = set(campaigns.loc[campaigns["status"] == "ok", "campaign_id"])
    measured = [c for c in placed if c.campaign_id in ok_ids]
    kinds = day_kinds(panel.days, state)
    fit_panel = replace(panel, clean=panel.clean & ~disturbed)
    expected, overdispersion = fit_baseline(fit_panel, kinds, settings.baseline)
    cell_misses, campaign_misses = [], []
    for placebos in _placebos(measured, disturbed, panel, settings):
        _, hidden = _exclusions(placebos, panel, settings.post_days)
        hid = fit_baseline(replace(fit_panel, clean=fit_panel.clean & ~hidden), kinds, settings.baseline)[0]
        cells_round, campaigns_round = _placebo_misses(placebos, panel, hid, overdispersion, settings)
        cell_misses += cells_round
        campaign_misses += campaigns_round
    calibration = _calibrate(cell_misses, campaign_misses, settings)
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
    table.loc[cells, ["lift_pct", "lift_low", "lift_high"]] = _pooled_lifts(table.loc[cells], calibration).to_numpy()
    return _result(campaigns, table, calibration, settings.level)


def _pooled_lifts(cells: pd.DataFrame, calibration: dict[str, float]) -> pd.DataFrame:
    """Each cell's lift (with its interval) partially pooled toward its campaign's lift for its category.

    One store-SKU's actual ÷ baseline carries the noise of a few days' sales; its siblings in the campaign and
    category answered the same offer. A cell's log-ratio is its group's true lift, plus its own true departure
    (variance tau²), plus an error its group shares (the campaign's baseline error, from the placebo campaigns)
    and one of its own (`_own_variance`). It is shrunk toward its group's mean by tau² / (tau² + own error), with
    tau² the Paule-Mandel estimate over every campaign (empirical Bayes); the shared error stays whole in the
    interval, and so does the uncertainty of tau² itself. `measured_lift_pct` keeps the unpooled figure.
    """
    observed = np.log((cells["actual_units"] + 0.5) / (cells["baseline_units"] + 0.5))
    noise = cells["lift_se"] ** 2 - calibration["cell_variance"]
    group = cells["campaign_id"] + "|" + cells["category"].astype(str)
    own = pd.Series(_own_variance(calibration, noise.to_numpy()), index=cells.index)
    tau2, freedom = _between_cell_variance(observed, own, group)
    centre, precision, _ = _group_centres(observed, own + tau2, group)
    weight = tau2 / (tau2 + own)
    estimate = centre + weight * (observed - centre)
    shared = min(calibration["campaign_variance"], calibration["cell_variance"])
    # tau² comes from a few dozen groups: its own uncertainty moves the weight (Morris's correction)
    weight_variance = (own / (tau2 + own) ** 2) ** 2 * 2 * (tau2 + own.mean()) ** 2 / max(freedom, 1)
    variance = weight * own + (1 - weight) ** 2 * (1 / precision + shared) + weight_variance * (observed - centre) ** 2
    spread = calibration["cell_multiplier"] * np.sqrt(variance)
    return pd.DataFrame({"lift_pct": 100 * np.expm1(estimate), "lift_low": 100 * np.expm1(estimate - spread),
                         "lift_high": 100 * np.expm1(estimate + spread)})


def _between_cell_variance(observed: pd.Series, own: pd.Series, group: pd.Series) -> tuple[float, int]:
    """Paule-Mandel tau², and its degrees of freedom (cells minus groups, over groups of two or more).

    tau² is the spread of true cell lifts within groups that makes the weighted scatter match those degrees of
    freedom: less biased than the plain moment estimate when cells differ in precision.
    """
    several = group.map(group.value_counts()) > 1
    observed, own, group = observed[several], own[several], group[several]
    freedom = int(several.sum() - group.nunique())
    if freedom < 2:
        return 1e-4, max(freedom, 0)

    def scatter(tau2: float) -> float:
        centre, _, _ = _group_centres(observed, own + tau2, group)
        return float(((observed - centre) ** 2 / (own + tau2)).sum())

    if scatter(0.0) <= freedom:
        return 1e-4, freedom
    low, high = 0.0, 1.0
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if scatter(middle) > freedom else (low, middle)
    return max(high, 1e-4), freedom


def _typical_variance(miss: np.ndarray, noise: np.ndarray) -> float:
    """The baseline variance at which the median standardised miss is the normal's (0.674), by bisection.

    A mean of squares would let a few wild placebos (a product out of its season, say) set every cell's width;
    the median is what a typical cell carries, and the conformal multiplier takes care of the tails.
    """
    low, high = 0.0, max(float(np.median(miss**2)) * 4, 1e-3)
    for _ in range(50):
        middle = (low + high) / 2
        if np.median(np.abs(miss) / np.sqrt(middle + noise)) > 0.6745:
            low = middle
        else:
            high = middle
    return max(high, 1e-4)


def _normal_quantile(p: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(p))


def _regular_prices(panel: DailyPanel, price: np.ndarray, clean: np.ndarray, products: pd.DataFrame) -> np.ndarray:
    """(S, P) usual shelf price: the median price of clean days, else the catalogue price."""
    with warnings.catch_warnings():  # a product never sold clean in a store has no median: the catalogue answers
        warnings.simplefilter("ignore", RuntimeWarning)
        usual = np.nanmedian(np.where(clean, price, np.nan), axis=0)
    catalogue = products["unit_price"].reindex(panel.products).to_numpy(dtype=float)
    return np.where(np.isfinite(usual), usual, catalogue[None, :])


def _campaign_cells(c: _Campaign, panel: DailyPanel, expected: np.ndarray, revenue: np.ndarray,
                    regular: np.ndarray, unit_cost: np.ndarray, overdispersion: np.ndarray, learnt: np.ndarray,
                    promoted: np.ndarray, calibration: dict[str, float],
                    settings: LiftSettings) -> pd.DataFrame:
    """One row per listed (store, product): units, lift, money and the dip after, with intervals.

    `learnt` marks the days the baseline learnt from; a cell needs `min_history_days` of them in the
    `2 x min_history_days` before the campaign, so a product launched with the campaign gets no lift figure.
    Units sold on days the file gave no revenue are priced at the regular price less the announced discount.
    The dip is NaN when the history ends before `post_days` after the campaign.
    """
    actual, base, known_revenue = _window_sums(c, panel.units, expected, revenue)
    squares = _window_sums(c, expected, square=True)[0]
    unpriced = _window_sums(c, panel.units, valid=np.isnan(revenue))[0]
    history_from = max(c.first - 2 * settings.min_history_days, 0)
    history_days = (_window_sums(c, learnt, first=history_from, last=c.first - 1)[0] if c.first > 0
                    else np.zeros_like(actual))
    s_idx, p_idx = np.nonzero(c.listed)
    price = regular[c.stores[s_idx], c.products[p_idx]]
    cost = unit_cost[c.products[p_idx]]
    sold_revenue = known_revenue + unpriced * price * (1 - c.discount)
    dip = np.full_like(actual, np.nan)
    if c.last + settings.post_days < len(panel.days):
        post_units, post_base = _window_sums(c, panel.units, expected, first=c.last + 1,
                                             last=c.last + settings.post_days, valid=~promoted)
        dip = post_base - post_units
    alpha = overdispersion[c.products[p_idx]]
    usable = (base >= settings.min_baseline_units) & (history_days >= settings.min_history_days)
    ratio = np.where(usable, (actual + 0.5) / (base + 0.5), np.nan)
    variance = calibration["cell_variance"] + _sales_noise(actual, base, squares, alpha)
    spread = calibration["cell_multiplier"] * np.sqrt(variance)
    stores, product_ids = _cell_keys(c, panel)
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


def _campaign_total(c: _Campaign, cell: pd.DataFrame, panel: DailyPanel, expected: np.ndarray,
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


def _control_lift(c: _Campaign, panel: DailyPanel, promoted: np.ndarray, pre_days: int = 28) -> float:
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


def _cannibalised(c: _Campaign, panel: DailyPanel, expected: np.ndarray, promoted: np.ndarray,
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
