"""What the warehouse says about the campaigns, as arrays: which ran where, and the days around them.

DuckDB does the set work -- campaign statuses, the (campaign, store, product) cells, daily sales per cell as
integer positions -- and numpy holds the dense (days x stores x products) panel the baseline is fitted on, for
the products of the promoted categories only (the cannibalisation candidates included).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from shelfwise.promo.baseline import DailyPanel
from shelfwise.warehouse.core import has_table

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


def main_state(con: duckdb.DuckDBPyConnection, stores: np.ndarray) -> str | None:
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


def overlaps(campaigns: pd.DataFrame, cells: pd.DataFrame) -> list[str | None]:
    """Ids of other campaigns sharing a (store, product) with overlapping days (their lifts are entangled)."""
    if cells.empty:
        return [None] * len(campaigns)
    dated = cells.merge(campaigns[["campaign_id", "start_date", "end_date"]], on="campaign_id")
    pairs = dated.merge(dated, on=["store_id", "product_id"], suffixes=("", "_other"))
    pairs = pairs[(pairs["campaign_id"] != pairs["campaign_id_other"])
                  & (pairs["start_date"] <= pairs["end_date_other"]) & (pairs["start_date_other"] <= pairs["end_date"])]
    found = pairs.groupby("campaign_id")["campaign_id_other"].agg(lambda ids: ",".join(sorted(set(ids))))
    return [found.get(c) for c in campaigns["campaign_id"]]


def daily_panel(con: duckdb.DuckDBPyConnection, cells: pd.DataFrame, catalogue: pd.DataFrame
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
class PlacedCampaign:
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


def place_campaigns(campaigns: pd.DataFrame, cells: pd.DataFrame, panel: DailyPanel) -> list[PlacedCampaign]:
    """Each campaign with cells, as day positions and store/product indices on the panel (sorted by id)."""
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
        out.append(PlacedCampaign(str(campaign_id), max(first, 0), min(last, len(panel.days) - 1), stores, products,
                             listed, min(max(discount, 0.0), 1.0)))
    return out


def exclusions(placed: list[PlacedCampaign], panel: DailyPanel, post_days: int) -> tuple[np.ndarray, np.ndarray]:
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


def window_sums(c: PlacedCampaign, *arrays: np.ndarray, first: int | None = None, last: int | None = None,
                 valid: np.ndarray | None = None, square: bool = False) -> list[np.ndarray]:
    """Each array summed over the campaign's days (or the given day range), one value per listed cell.

    Only the `valid` days count when a (D, S, P) mask is given; `square` sums the squares instead.
    """
    days = np.arange(c.first if first is None else first, (c.last if last is None else last) + 1)
    block = np.ix_(days, c.stores, c.products)
    kept = valid[block] if valid is not None else True
    return [np.nansum(np.where(kept, a[block].astype(np.float64) ** (2 if square else 1), 0.0), axis=0)[c.listed]
            for a in arrays]


def cell_keys(c: PlacedCampaign, panel: DailyPanel) -> tuple[np.ndarray, np.ndarray]:
    """Store and product ids of a campaign's listed cells, in `window_sums` order."""
    s, p = np.nonzero(c.listed)
    return panel.stores[c.stores[s]], panel.products[c.products[p]]
