"""A São Paulo supermarket chain simulated day by day: expected demand, noisy sales, stock and anomalies.

Expected demand is a product of readable factors (base level, week, year, holidays, trend, promotions);
observed sales are negative-binomial draws censored by a simulated periodic-review inventory, so stock-outs
hide demand exactly as they do in real sell-out data. Arrays are (day, store, product) throughout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from shelfwise.demo import promo, seasons
from shelfwise.demo.catalog import DISPERSION, chain_stores_frame, products_frame, suppliers_frame

HISTORY_DAYS = 730
HORIZON_DAYS = 56
"""Days after end_date for which the truth keeps expected demand (forecast checks, planned campaigns)."""

N_LOW_COVER = 10
N_SPIKES = 4
SPIKE_FACTOR = 10

_FORMAT_MIX = {
    "express": {"padaria": 1.4, "bebidas": 1.25, "limpeza": 0.6, "mercearia": 0.8, "bazar": 0.7},
    "atacarejo": {"mercearia": 1.35, "limpeza": 1.3, "higiene": 1.2, "padaria": 0.6, "hortifruti": 0.8},
    "hipermercado": {"bazar": 1.5, "bebidas": 1.1},
}


@dataclass
class Chain:
    """The simulated chain: catalogue, plan, every daily array and the anomalies planted in them."""

    days: pd.DatetimeIndex
    n_obs: int
    products: pd.DataFrame
    stores: pd.DataFrame
    suppliers: pd.DataFrame
    campaigns: pd.DataFrame
    cells: pd.DataFrame
    effects: promo.PromoEffects
    baseline: np.ndarray
    expected: np.ndarray
    price: np.ndarray
    demand: np.ndarray
    sold: np.ndarray
    reported: np.ndarray
    available: np.ndarray
    on_hand: np.ndarray
    on_order: np.ndarray
    closed: np.ndarray
    outage: np.ndarray
    anomaly: np.ndarray
    anomalies: pd.DataFrame
    low_cover: pd.DataFrame
    unknown_products: pd.DataFrame


def ean13(rng: np.random.Generator, n: int, n_leading_zero: int) -> np.ndarray:
    """Distinct 13-digit EANs with a correct check digit; the first `n_leading_zero` start with `0789`."""
    bodies = rng.choice(10**8, size=n, replace=False)
    prefix = np.where(np.arange(n) < n_leading_zero, "0789", "789")
    width = np.where(np.arange(n) < n_leading_zero, 8, 9)
    stems = [p + str(b).zfill(w) for p, b, w in zip(prefix, bodies, width, strict=True)]
    digits = np.array([[int(ch) for ch in s] for s in stems])
    total = (digits * np.tile([1, 3], 6)).sum(axis=1)
    check = (10 - total % 10) % 10
    return np.array([s + str(c) for s, c in zip(stems, check, strict=True)], dtype=object)


def build_products(rng: np.random.Generator) -> pd.DataFrame:
    """The catalogue with EANs, costs, lead times and case packs derived from the supplier."""
    products = products_frame()
    suppliers = suppliers_frame().set_index("supplier_id")
    n = len(products)
    order = rng.permutation(n)
    codes = ean13(rng, n, n_leading_zero=8)
    products.insert(0, "product_id", codes[np.argsort(order)])
    products["unit_cost"] = np.round(products["unit_price"] * rng.uniform(0.5, 0.68, n), 2)
    lead = suppliers.loc[products["supplier_id"], "lead_time_days"].to_numpy() + rng.integers(-1, 2, n)
    products["lead_time_days"] = np.clip(lead, 2, 14)
    products["review_days"] = suppliers.loc[products["supplier_id"], "review_days"].to_numpy()
    products["case_pack"] = np.select([products["base"] >= 30, products["base"] >= 5], [24, 12], 6)
    return products


def _base_levels(rng: np.random.Generator, products: pd.DataFrame, stores: pd.DataFrame) -> np.ndarray:
    """(S, P) mean daily units on an ordinary day: item popularity x store size x format mix x noise."""
    base = np.outer(stores["size"], products["base"])
    for s, fmt in enumerate(stores["format"]):
        mix = _FORMAT_MIX.get(fmt, {})
        base[s] *= products["category"].map(lambda c, m=mix: m.get(c, 1.0)).to_numpy()
    return base * np.exp(rng.normal(0, 0.15, base.shape))


def _trend(rng: np.random.Generator, days: pd.DatetimeIndex, n_stores: int, n_products: int) -> np.ndarray:
    """(D, S, P) mild multiplicative growth, a few percent a year, different per item and store."""
    years = (days - days[0]).days.to_numpy() / 365.25
    growth = rng.normal(0.04, 0.04, n_products)[None, :] + rng.normal(0.0, 0.02, n_stores)[:, None]
    return np.exp(years[:, None, None] * growth[None])


def simulate_chain(rng: np.random.Generator, end_date: date) -> Chain:
    """Everything about the chain, from the catalogue to the last day's stock."""
    start = end_date - timedelta(days=HISTORY_DAYS - 1)
    days = pd.date_range(start, end_date + timedelta(days=HORIZON_DAYS), freq="D")
    n_obs = HISTORY_DAYS
    products, stores, suppliers = build_products(rng), chain_stores_frame(), suppliers_frame()
    cats = products["category"].to_numpy()
    calendar = (seasons.weekly_factor(days, cats) * seasons.yearly_factor(days, products["season"].to_numpy())
                * seasons.event_factor(days, cats))
    baseline = (_base_levels(rng, products, stores)[None] * calendar[:, None, :]
                * _trend(rng, days, len(stores), len(products)))
    campaigns = promo.plan_campaigns(rng, days, n_obs, products, stores, baseline)
    cells = promo.promo_cells(rng, campaigns, products)
    anomalies, drop = _level_drop(rng, days, n_obs, products, stores, baseline, campaigns)
    baseline *= drop
    effects = promo.promo_effects(campaigns, cells, baseline.shape, cats)
    expected = baseline * effects.multiplier()
    price = np.round(products["unit_price"].to_numpy()[None, None, :] * (1 - effects.discount / 100), 2)
    closed = seasons.closed_mask(days[:n_obs])
    outage, outage_row = _outage(rng, days, n_obs, stores, effects.campaign[:n_obs], closed)
    r = np.array([DISPERSION[c] for c in cats])[None, None, :]
    mu = expected[:n_obs] * ~outage[:, :, None]
    demand = rng.negative_binomial(np.broadcast_to(r, mu.shape), r / (r + mu)).astype(np.int64)
    candidates = _pick_low_cover(rng, products, expected, n_obs, drop)
    policy = _policy(rng, products, demand.shape)
    stock = _simulate_stock(policy, expected, demand, closed, r[0, 0])
    block, feasible = _block_days(rng, products, expected, demand, stock, candidates)
    queue = list(np.flatnonzero(feasible))
    chosen: list[int] = []
    for _ in range(4):  # a stock-out before the end can leave more stock than planned: replace those series
        take = N_LOW_COVER - len(chosen)
        chosen, queue = chosen + queue[:take], queue[take:]
        policy["block_from"][:] = n_obs + 1
        ix = (candidates[0][chosen], candidates[1][chosen])
        policy["block_from"][ix] = block[chosen]
        stock = _simulate_stock(policy, expected, demand, closed, r[0, 0])
        short = _cover(products, expected, stock, n_obs)[0][ix] < products["lead_time_days"].to_numpy()[ix[1]]
        if short.all() or not queue:
            break
        chosen = [c for c, ok in zip(chosen, short, strict=True) if ok]
    low_cover_ix = (candidates[0][chosen], candidates[1][chosen])
    sold = np.minimum(demand, stock["available"])
    reported, spikes = _spikes(rng, days, sold, effects.campaign[:n_obs], demand > stock["available"], stores,
                               products)
    anomaly = np.zeros(sold.shape, dtype=np.int8)
    anomaly[outage] = 1
    anomaly[drop[:n_obs] < 1] = 3
    anomaly[reported != sold] = 2
    anomalies = pd.concat([anomalies, outage_row, spikes], ignore_index=True)
    low_cover = _low_cover(products, stores, expected, stock, n_obs, low_cover_ix)
    codes = ean13(rng, 12, 0)
    unknown = pd.DataFrame({"product_id": codes[~np.isin(codes, products["product_id"])][:2],
                            "name": ["Kombucha Gengibre 275ml", "Granola Zero Açúcar 800g"],
                            "unit_price": [12.90, 27.90]})
    return Chain(days=days, n_obs=n_obs, products=products, stores=stores, suppliers=suppliers,
                 campaigns=campaigns, cells=cells, effects=effects, baseline=baseline, expected=expected,
                 price=price, demand=demand, sold=sold, reported=reported, available=stock["available"],
                 on_hand=stock["on_hand"], on_order=stock["on_order"], closed=closed, outage=outage,
                 anomaly=anomaly, anomalies=anomalies, low_cover=low_cover, unknown_products=unknown)


ANOMALY_CODES = {0: "", 1: "outage", 2: "spike", 3: "level_drop"}


def _level_drop(rng: np.random.Generator, days: pd.DatetimeIndex, n_obs: int, products: pd.DataFrame,
                stores: pd.DataFrame, baseline: np.ndarray, campaigns: pd.DataFrame,
                ) -> tuple[pd.DataFrame, np.ndarray]:
    """A sudden, lasting fall of one SKU in one store (a competitor opened, a planogram lost the item)."""
    promoted = {(s, p) for c in campaigns.itertuples() for s in c.stores for p in c.products}
    mean = baseline[:n_obs].mean(axis=0)
    candidates = [(s, p) for s, p in zip(*np.nonzero(mean >= 10), strict=True) if (s, p) not in promoted]
    s, p = candidates[int(rng.integers(len(candidates)))]
    t0 = int(rng.integers(n_obs - 200, n_obs - 80))
    factor = np.ones(baseline.shape)
    factor[t0:, s, p] = 0.4
    row = pd.DataFrame([{"kind": "level_drop", "store_id": stores["store_id"][s],
                         "product_id": products["product_id"][p], "start_date": days[t0],
                         "end_date": days[n_obs - 1], "factor": 0.4,
                         "description": "demand falls to 40% of its level and stays there (future_expected too)"}])
    return row, factor


def _outage(rng: np.random.Generator, days: pd.DatetimeIndex, n_obs: int, stores: pd.DataFrame,
            campaign: np.ndarray, closed: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """One store closed by a power failure for two days: no sales rows for any of its products."""
    outage = np.zeros((n_obs, len(stores)), dtype=bool)
    for _ in range(500):
        s, d = int(rng.integers(len(stores))), int(rng.integers(60, n_obs - 30))
        quiet = not closed[d - 1: d + 3].any() and (campaign[d - 1: d + 3, s] < 0).all()
        if quiet:
            break
    outage[d: d + 2, s] = True
    row = pd.DataFrame([{"kind": "outage", "store_id": stores["store_id"][s], "product_id": None,
                         "start_date": days[d], "end_date": days[d + 1], "factor": 0.0,
                         "description": "store closed by a power failure: no sales rows for any product"}])
    return outage, row


def _pick_low_cover(rng: np.random.Generator, products: pd.DataFrame, expected: np.ndarray, n_obs: int,
                    drop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate series (in random order) whose ordering may be stopped so their last-day stock runs short."""
    lead = products["lead_time_days"].to_numpy()
    recent = expected[n_obs - 28: n_obs].mean(axis=0)
    ok = (recent >= 2) & (lead >= 5)[None, :] & (drop[n_obs - 1] == 1)
    s_idx, p_idx = np.nonzero(ok)
    pick = rng.permutation(len(s_idx))[: 4 * N_LOW_COVER]
    return s_idx[pick], p_idx[pick]


def _policy(rng: np.random.Generator, products: pd.DataFrame, shape: tuple[int, int, int]) -> dict[str, np.ndarray]:
    """Per-series ordering parameters: supplier rhythm, lead time, case pack and a safety factor.

    The safety factor is drawn low for some series on purpose, so stock-outs (censored demand) happen.
    """
    n_days, n_stores, n_prod = shape
    grid = (n_stores, n_prod)
    return {
        "lead": np.broadcast_to(products["lead_time_days"].to_numpy(), grid),
        "review": np.broadcast_to(products["review_days"].to_numpy(), grid),
        "case": np.broadcast_to(products["case_pack"].to_numpy(), grid).astype(float),
        "offset": rng.integers(0, 14, grid),
        "z": rng.uniform(-0.2, 1.5, grid),
        "block_from": np.full(grid, n_days + 1),
    }


def _simulate_stock(policy: dict[str, np.ndarray], expected: np.ndarray, demand: np.ndarray, closed: np.ndarray,
                    r: np.ndarray) -> dict[str, np.ndarray]:
    """Periodic-review order-up-to policy on the planner's forecast, with case packs and lead times.

    The planner's forecast is the true expected demand (promotions included), so stock-outs come from
    noise and thin safety stock, not from a blind planner.
    """
    n_days, n_stores, n_prod = demand.shape
    si, pi = np.indices((n_stores, n_prod))
    lead, review, case, z = policy["lead"], policy["review"], policy["case"], policy["z"]
    zero = np.zeros((1, n_stores, n_prod))
    cum_mean = np.concatenate([zero, np.cumsum(expected, axis=0)])
    cum_var = np.concatenate([zero, np.cumsum(expected + expected**2 / r, axis=0)])
    horizon = lead + review
    on_hand = np.ceil(cum_mean[horizon, si, pi] + np.maximum(z, 0.5) * np.sqrt(cum_var[horizon, si, pi]))
    on_order = np.zeros((n_stores, n_prod))
    arrivals = np.zeros((n_days + int(lead.max()) + 1, n_stores, n_prod))
    out = {k: np.zeros(demand.shape, dtype=np.int64) for k in ("available", "on_hand", "on_order")}
    for d in range(n_days):  # one step per day, vectorised over every (store, product)
        on_hand += arrivals[d]
        on_order -= arrivals[d]
        out["available"][d] = on_hand
        on_hand -= np.minimum(demand[d], on_hand)
        if not closed[d]:
            hi = d + 1 + horizon
            target = (cum_mean[hi, si, pi] - cum_mean[d + 1] + z * np.sqrt(cum_var[hi, si, pi] - cum_var[d + 1]))
            need = target - on_hand - on_order
            due = ((d + policy["offset"]) % review == 0) & (d < policy["block_from"]) & (need > 0)
            qty = np.where(due, np.ceil(need / case) * case, 0.0)
            arrivals[d + lead, si, pi] += qty
            on_order += qty
        out["on_hand"][d] = on_hand
        out["on_order"][d] = on_order
    return out


def _block_days(rng: np.random.Generator, products: pd.DataFrame, expected: np.ndarray, demand: np.ndarray,
                stock: dict[str, np.ndarray], picked: tuple[np.ndarray, np.ndarray],
                ) -> tuple[np.ndarray, np.ndarray]:
    """Day from which each series stops ordering, chosen so its last-day stock lands short of lead time.

    Blocking after day b leaves exactly position(b) minus the later demand on hand at the end (every
    pending order arrives in time), so b is picked to land near a target of 25-70% of lead-time demand;
    the second array says whether such a day exists at all.
    """
    n_days = demand.shape[0]
    lead = products["lead_time_days"].to_numpy()[picked[1]]
    position = (stock["on_hand"] + stock["on_order"])[:, picked[0], picked[1]]
    dem = demand[:, picked[0], picked[1]]
    later = np.cumsum(dem[::-1], axis=0)[::-1] - dem  # demand strictly after each day
    final = position - later
    future = expected[n_days: n_days + int(lead.max())][:, picked[0], picked[1]]
    mean = (future * (np.arange(len(future))[:, None] < lead[None, :])).sum(axis=0) / lead  # as the truth does
    target = rng.uniform(0.25, 0.7, len(lead)) * lead * mean
    days = np.arange(n_days)[:, None]
    ok = (days >= n_days - 90) & (days <= n_days - lead - 2) & (final >= 1) & (final <= 0.8 * lead * mean)
    score = np.where(ok, np.abs(final - target), np.inf)
    return np.argmin(score, axis=0) + 1, ok.any(axis=0)


def _spikes(rng: np.random.Generator, days: pd.DatetimeIndex, sold: np.ndarray, campaign: np.ndarray,
            censored: np.ndarray, stores: pd.DataFrame, products: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Data-entry errors: a few cells typed with an extra zero (x10) in the sales export only."""
    ok = (sold >= 3) & (campaign < 0) & ~censored
    d_idx, s_idx, p_idx = np.nonzero(ok)
    pick = np.sort(rng.choice(len(d_idx), size=N_SPIKES, replace=False))
    reported = sold.copy()
    cells = (d_idx[pick], s_idx[pick], p_idx[pick])
    reported[cells] *= SPIKE_FACTOR
    rows = pd.DataFrame({"kind": "spike", "store_id": stores["store_id"].to_numpy()[cells[1]],
                         "product_id": products["product_id"].to_numpy()[cells[2]],
                         "start_date": days[cells[0]], "end_date": days[cells[0]], "factor": float(SPIKE_FACTOR),
                         "description": "units typed with an extra zero in the sales export (stock is right)"})
    return reported, rows


def _cover(products: pd.DataFrame, expected: np.ndarray, stock: dict[str, np.ndarray], n_obs: int,
           ) -> tuple[np.ndarray, np.ndarray]:
    """(S, P) days the last-day stock position lasts, and the mean expected demand of the next lead-time days."""
    lead = products["lead_time_days"].to_numpy()
    future = expected[n_obs: n_obs + int(lead.max())]
    mean = (future * (np.arange(len(future))[:, None, None] < lead[None, None, :])).sum(axis=0) / lead
    position = stock["on_hand"][-1] + stock["on_order"][-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean > 0, position / mean, np.inf), mean


def _low_cover(products: pd.DataFrame, stores: pd.DataFrame, expected: np.ndarray, stock: dict[str, np.ndarray],
               n_obs: int, planted: tuple[np.ndarray, np.ndarray]) -> pd.DataFrame:
    """Every series whose last-day stock position covers fewer days than its lead time, planted flagged."""
    cover, mean = _cover(products, expected, stock, n_obs)
    flag = np.zeros(cover.shape, dtype=bool)
    flag[planted] = True
    s_idx, p_idx = np.indices(cover.shape).reshape(2, -1)
    frame = pd.DataFrame({"store_id": stores["store_id"].to_numpy()[s_idx],
                          "product_id": products["product_id"].to_numpy()[p_idx],
                          "on_hand": stock["on_hand"][-1].ravel(), "on_order": stock["on_order"][-1].ravel(),
                          "mean_daily_demand": mean.ravel(), "cover_days": cover.ravel(),
                          "lead_time_days": products["lead_time_days"].to_numpy()[p_idx], "planted": flag.ravel()})
    low = frame[frame["cover_days"] < frame["lead_time_days"]]
    return low.sort_values(["store_id", "product_id"]).reset_index(drop=True)
