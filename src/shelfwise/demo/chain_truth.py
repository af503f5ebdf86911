"""The chain's planted truth: expected demand per cell, true promotion effects, in a form tests can use.

Promotion truth is computed from the same arrays the sales were drawn from, so "true lift" means exactly
the expected promoted units over the expected units had there been no promotion.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shelfwise.demo import formats as fmt
from shelfwise.demo.chain import ANOMALY_CODES, Chain
from shelfwise.demo.formats import SourceFile
from shelfwise.demo.promo import DIP_DAYS


def _campaign_ids(chain: Chain, campaign: np.ndarray) -> pd.Series:
    """Campaign id per cell, null where no campaign applies (index -1 points at the trailing null)."""
    return fmt.pick([*chain.campaigns["campaign_id"], None], np.where(campaign >= 0, campaign, len(chain.campaigns)))


def sales_expected(chain: Chain, sales: SourceFile) -> pd.DataFrame:
    """One row per (day, store, product) of the history with every layer of the simulation."""
    n = chain.n_obs
    shape = chain.sold.shape
    d, s, p = (a.ravel() for a in np.indices(shape))
    campaign = chain.effects.campaign[:n].ravel()
    role = np.select([campaign >= 0, chain.effects.dip[:n].ravel() < 1, chain.effects.cannibal[:n].ravel() < 1],
                     [1, 2, 3], 0)
    rows = sales.frame[sales.frame["_kind"].isin(["", "spike"])]
    flat = (rows["_d"].to_numpy() * shape[1] + rows["_s"].to_numpy()) * shape[2] + rows["_p"].to_numpy()
    observed = np.zeros(d.size, dtype=np.int64)
    observed[flat] = rows["_units"].to_numpy()
    return pd.DataFrame({
        "date": chain.days[d], "store_id": fmt.pick(chain.stores["store_id"], s),
        "product_id": fmt.pick(chain.products["product_id"], p),
        "expected_units": chain.expected[:n].ravel(), "baseline_units": chain.baseline[:n].ravel(),
        "demand_units": chain.demand.ravel(), "sold_units": chain.sold.ravel(),
        "observed_units": observed, "available_units": chain.available.ravel(), "on_hand": chain.on_hand.ravel(),
        "on_order": chain.on_order.ravel(), "censored": (chain.demand > chain.available).ravel(),
        "closed": np.repeat(chain.closed, shape[1] * shape[2]),
        "campaign_id": _campaign_ids(chain, campaign),
        "promo_role": fmt.pick(["", "promo", "post_promo", "cannibalised"], role),
        "price": chain.price[:n].ravel(), "anomaly": fmt.pick(list(ANOMALY_CODES.values()), chain.anomaly.ravel()),
    })


def future_expected(chain: Chain) -> pd.DataFrame:
    """Expected demand for the days after end_date: what a perfect forecaster would predict."""
    n = chain.n_obs
    shape = chain.expected[n:].shape
    d, s, p = (a.ravel() for a in np.indices(shape))
    return pd.DataFrame({
        "date": chain.days[n + d], "store_id": fmt.pick(chain.stores["store_id"], s),
        "product_id": fmt.pick(chain.products["product_id"], p), "expected_units": chain.expected[n:].ravel(),
        "baseline_units": chain.baseline[n:].ravel(),
        "campaign_id": _campaign_ids(chain, chain.effects.campaign[n:].ravel()),
    })


def promo_cells(chain: Chain) -> pd.DataFrame:
    """One row per (campaign, store, product) with its planted lift and expected units over the window."""
    camps = chain.campaigns
    unit_price = chain.products["unit_price"].to_numpy()
    unit_cost = chain.products["unit_cost"].to_numpy()
    store_ids, product_ids = chain.stores["store_id"].to_numpy(), chain.products["product_id"].to_numpy()
    starts, ends = camps["start"].to_numpy(), camps["end"].to_numpy()
    future = camps["is_future"].to_numpy()
    censored_all = chain.demand > chain.available
    rows = []
    for c, s, p, lift in zip(chain.cells["campaign"], chain.cells["store"], chain.cells["product"],
                             chain.cells["lift"], strict=True):  # a few hundred cells, each a short slice
        window = slice(starts[c], ends[c] + 1)
        post = slice(ends[c] + 1, ends[c] + 1 + DIP_DAYS)
        base, exp = chain.baseline[window, s, p], chain.expected[window, s, p]
        price = chain.price[window, s, p]
        dip = (chain.baseline[post, s, p] * (1 - chain.effects.dip[post, s, p])).sum()
        margin = unit_price[p] - unit_cost[p]
        rows.append({
            "campaign_id": camps["campaign_id"].iat[c], "store_id": store_ids[s], "product_id": product_ids[p],
            "true_lift_pct": 100 * lift, "expected_baseline_units": base.sum(), "expected_promo_units": exp.sum(),
            "post_dip_units": dip, "post_dip_margin": dip * margin,
            "baseline_revenue": (base * unit_price[p]).sum(), "promo_revenue": (exp * price).sum(),
            "incremental_margin": (exp * (price - unit_cost[p])).sum() - (base * margin).sum(),
            "observed_units": np.nan if future[c] else chain.reported[window, s, p].sum(),
            "censored_days": 0 if future[c] else int(censored_all[window, s, p].sum()),
            "days_won_by_other_campaign": int((chain.effects.campaign[window, s, p] != c).sum()),
        })
    frame = pd.DataFrame(rows)
    info = camps[["start_date", "end_date", "discount_pct", "is_future"]].iloc[chain.cells["campaign"]]
    frame.insert(3, "category", chain.cells["category"].to_numpy())
    frame.insert(4, "start", info["start_date"].to_numpy())
    frame.insert(5, "end", info["end_date"].to_numpy())
    frame.insert(6, "discount_pct", info["discount_pct"].to_numpy())
    frame["is_future"] = info["is_future"].to_numpy()
    frame["window_in_history"] = ends[chain.cells["campaign"]] < chain.n_obs
    return frame


def promo_campaigns(chain: Chain, cells: pd.DataFrame) -> pd.DataFrame:
    """Campaign-level truth: lift over all its cells, incremental units, dip and cannibalisation."""
    sums = cells.groupby("campaign_id", sort=False)[
        ["expected_baseline_units", "expected_promo_units", "post_dip_units", "baseline_revenue", "promo_revenue",
         "incremental_margin", "post_dip_margin", "observed_units"]].sum(min_count=1)
    camps = chain.campaigns.set_index("campaign_id")
    frame = camps[["name", "start_date", "end_date", "type", "discount_pct", "channel", "cost", "occasion",
                   "is_future"]].join(sums)
    frame["true_lift_pct"] = 100 * (frame["expected_promo_units"] / frame["expected_baseline_units"] - 1)
    frame["incremental_units"] = frame["expected_promo_units"] - frame["expected_baseline_units"]
    frame["incremental_revenue"] = frame["promo_revenue"] - frame["baseline_revenue"]
    lost = np.array([_cannibalised(chain, c) for c in chain.campaigns.itertuples()])
    frame["cannibalised_units"], frame["cannibalised_margin"] = lost[:, 0], lost[:, 1]
    net = frame["incremental_margin"] - frame["post_dip_margin"] - frame["cannibalised_margin"]
    frame["roi"] = (net - frame["cost"]) / frame["cost"]
    frame["n_stores"] = chain.campaigns["stores"].map(len).to_numpy()
    frame["n_products"] = chain.campaigns["products"].map(len).to_numpy()
    frame["overlaps_with"] = _overlaps(chain.campaigns)
    return frame.reset_index()


def _cannibalised(chain: Chain, c: object) -> tuple[float, float]:
    """Units (and margin) same-category unpromoted items lose in the campaign's stores during its window."""
    cats = chain.products["category"].to_numpy()
    margin = (chain.products["unit_price"] - chain.products["unit_cost"]).to_numpy()
    others = np.flatnonzero(np.isin(cats, cats[c.products]) & ~np.isin(np.arange(len(cats)), c.products))
    idx = np.ix_(np.arange(c.start, c.end + 1), c.stores, others)
    lost = chain.baseline[idx] * (1 - chain.effects.cannibal[idx])
    return float(lost.sum()), float((lost * margin[others]).sum())


def _overlaps(campaigns: pd.DataFrame) -> list[str | None]:
    """Ids of campaigns sharing a (store, product) cell on overlapping days."""
    out = []
    for a in campaigns.itertuples():
        hits = [b.campaign_id for b in campaigns.itertuples()
                if b.Index != a.Index and b.start <= a.end and a.start <= b.end
                and set(a.stores) & set(b.stores) and set(a.products) & set(b.products)]
        out.append(",".join(hits) or None)
    return out
