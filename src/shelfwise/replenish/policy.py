"""How much to order, per (store, product): a periodic-review order-up-to policy on the demand forecast.

Every replenishment run is a review: it looks at each series' stock position and orders enough to last until
the order after next can arrive. The symbols below are per (store_id, product_id); the horizon is the series'
forecast days after the planning date, numbered k = 1..H (day 1 is the day after the stock snapshot).

Inputs
    f_k        the mean daily demand forecast of horizon day k (`forecast`, negative values read as 0)
    sigma_k    the daily demand standard deviation read from the forecast's central predictive interval,
               assuming a normal distribution: sigma_k = max((upper_95 - lower_95) / (2 * 1.95996),
               (upper_95 - f_k) / 1.95996); the 80% interval with 1.28155 when the 95% one is missing; 0 (and
               the note `no_interval`) when neither is there. The second term is the upper half-width: when
               a lower bound was clipped at zero the full width understates the spread, and it is the upper
               tail that causes stock-outs. For a symmetric interval both terms are equal.
    L          lead time in whole days: the product's `lead_time_days`, else its supplier's, else
               `default_lead_time_days` (`lead_time_assumed`); 0 is legal; fractions round up
    R          review period in days (`review_period_days`, the time until the next run)
    z          the service-level factor, z = Phi^-1(service_level) (`statistics.NormalDist().inv_cdf`)

Formulas
    Protection period          P = L + R
    Demand over a period T     D_T = f_1 + ... + f_T; when T > H the missing days are filled with the mean
                               forecast of the last 7 horizon days (note `horizon_extended`)
    Spread over a period T     sd_T = sqrt(sigma_1^2 + ... + sigma_T^2) (same filling, with the mean variance)
                               -- this assumes the days' forecast errors are independent; positively
                               correlated errors (a whole week above forecast) make the true spread wider
    Safety stock               SS = z * sd_P                       (column `safety_stock`)
    Reorder point              s = D_L + z * sd_L                   (`reorder_point`: lead time only)
    Order-up-to level          S = D_P + SS                         (`order_up_to`)
    Inventory position         IP = max(on_hand, 0) + on_order      (missing on_order reads as 0)
    Suggested order            Q = ceil(max(0, S - IP) / c) * c     (c = `case_pack`, missing or < 1 -> 1)

    The rule is the (R, S) policy: at every review, order up to S whenever IP < S. A trigger at the
    reorder point (order only when IP <= s) would be a continuous-review rule: with reviews R days apart,
    a position just above s today is not looked at again until after it has fallen well below it, and the
    order then arrives R + L days later -- so that rule under-protects exactly the period S is sized for.
    The reorder point is still reported, and `below_reorder_point` (IP <= s) marks the urgent orders.

Cover and stock-out
    days_of_cover = on_hand / mean(f_1..f_H): the days the shelf stock lasts at the mean forecast of the
        horizon; NaN with the note `zero_demand` when that mean is 0.
    cover_shorter_than_lead_time = IP < D_L: the stock position (on hand plus on order) does not cover the
        expected demand until an order placed today arrives. Equivalently, IP divided by the mean forecast
        of the next L days (`position_cover_days`) is shorter than L -- the definition of the demo's planted
        low-cover truth. It is False when L = 0 or D_L = 0, and missing when the stock is unknown.
    stockout_date = the date of the first horizon day k with projected stock
        max(on_hand, 0) + on_order * [k >= L] - (f_1 + ... + f_k) <= 0,
        i.e. everything on order is assumed to arrive at the start of day L (the latest an order already
        placed can arrive), before that day's demand; NaT when the stock lasts the horizon, when the
        series has no demand at all, or when the stock is unknown.

Bad input never stops the run; each case is a note on the row and a count in `ReplenishmentResult.counts`:
    no_forecast          a stock row with no forecast day after the planning date: left out of the table
                         (listed in `ReplenishmentResult.excluded`)
    no_stock_snapshot    a forecast series with no stock row: kept, on_hand and on_order NaN, the demand
                         figures computed, but no order, cover, flag or stock-out date
    stock_assumed_zero   the same, with `assume_missing_stock_zero=True`: ordered as if IP = 0 (on_hand
                         stays NaN in the table, so the assumption shows)
    stale_snapshot       the snapshot is older than the day before the first horizon day: demand in between
                         is not subtracted (the row is still planned)
    negative_on_hand     on_hand < 0 is read as 0
    no_product_record    the product has no row in `products` (or only a placeholder row): supplier
                         `UNKNOWN_SUPPLIER`, case pack 1, lead time from the default
    no_supplier          the product record names no supplier (supplier `UNKNOWN_SUPPLIER`)
    supplier_not_found   the product's supplier_id has no row in `suppliers`
    lead_time_from_supplier / lead_time_assumed / case_pack_assumed / zero_demand / no_interval /
    horizon_extended     as described above
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from statistics import NormalDist

import numpy as np
import pandas as pd

KEYS = ["store_id", "product_id"]
UNKNOWN_SUPPLIER = "unknown"
"""supplier_id given to the rows whose product has no record or no supplier."""
TAIL_DAYS = 7
"""Days at the end of the horizon whose mean extends a protection period longer than the horizon."""
Z80 = NormalDist().inv_cdf(0.90)
Z95 = NormalDist().inv_cdf(0.975)

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "forecasts": ("store_id", "product_id", "date", "forecast"),
    "stock": ("store_id", "product_id", "on_hand"),
    "products": ("product_id",),
    "suppliers": ("supplier_id",),
}
"""Columns each input frame must have; the optional ones below are read as missing when absent."""
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "forecasts": ("lower_80", "upper_80", "lower_95", "upper_95"),
    "stock": ("on_order", "date"),
    "products": ("supplier_id", "lead_time_days", "case_pack", "unit_cost", "name", "category", "_placeholder"),
    "suppliers": ("name", "email", "lead_time_days"),
}

REPLENISHMENT_COLUMNS: tuple[str, ...] = (
    # the columns the issue asks for, in this order
    "store_id", "product_id", "supplier_id", "on_hand", "on_order", "lead_time_days", "review_period_days",
    "demand_over_protection", "safety_stock", "reorder_point", "order_up_to", "suggested_order", "case_pack",
    "days_of_cover", "stockout_date", "cover_shorter_than_lead_time", "lead_time_assumed", "notes",
    # and the figures behind them
    "snapshot_date", "lead_time_source", "service_level", "horizon_days", "horizon_extended",
    "mean_daily_forecast", "demand_over_lead_time", "sd_over_protection", "inventory_position",
    "position_cover_days", "below_reorder_point",
)
"""Columns of the `replenishment` table. See the module docstring for each formula; besides those:
`snapshot_date` the stock snapshot's date; `lead_time_source` product / supplier / default;
`horizon_days` H; `mean_daily_forecast` mean(f_1..f_H); `demand_over_lead_time` D_L; `sd_over_protection` sd_P;
`inventory_position` IP; `position_cover_days` IP / (D_L / L); `notes` the codes of `REASONS` that apply, `; `-joined.
"""

REASONS: dict[str, dict[str, str]] = {
    "no_forecast": {"en": "stock rows without a forecast, left out", "pt": "estoques sem previsão, deixados de fora"},
    "no_stock_snapshot": {"en": "series without a stock snapshot (no order suggested)",
                          "pt": "séries sem posição de estoque (sem pedido sugerido)"},
    "stock_assumed_zero": {"en": "series without a stock snapshot, planned as if on_hand = 0",
                           "pt": "séries sem posição de estoque, planejadas com estoque zero"},
    "stale_snapshot": {"en": "stock snapshots older than the forecast start",
                       "pt": "posições de estoque anteriores ao início da previsão"},
    "negative_on_hand": {"en": "negative on_hand read as 0", "pt": "estoque negativo lido como 0"},
    "no_product_record": {"en": "products without a record (supplier unknown, case pack 1)",
                          "pt": "produtos sem cadastro (fornecedor desconhecido, embalagem 1)"},
    "no_supplier": {"en": "products without a supplier", "pt": "produtos sem fornecedor"},
    "supplier_not_found": {"en": "supplier ids missing from suppliers", "pt": "fornecedores sem cadastro"},
    "lead_time_from_supplier": {"en": "lead times taken from the supplier", "pt": "prazos de entrega do fornecedor"},
    "lead_time_assumed": {"en": "lead times assumed (default)", "pt": "prazos de entrega assumidos (padrão)"},
    "case_pack_assumed": {"en": "case packs missing or < 1, read as 1",
                          "pt": "embalagens ausentes ou < 1, lidas como 1"},
    "zero_demand": {"en": "series with zero forecast demand (cover undefined)",
                    "pt": "séries com demanda prevista zero (cobertura indefinida)"},
    "no_interval": {"en": "series with forecast days without an interval (spread read as 0)",
                    "pt": "séries com dias de previsão sem intervalo (dispersão lida como 0)"},
    "horizon_extended": {"en": "protection periods longer than the horizon (extended)",
                         "pt": "períodos de proteção maiores que o horizonte (estendidos)"},
}
"""Every note code, with a short Portuguese and English label for the CLI's summary."""


@dataclass(frozen=True)
class ReplenishmentResult:
    """The `replenishment` table, the stock rows left out of it, and how many rows each note touched.

    Attributes:
        table: one row per forecast series, columns `REPLENISHMENT_COLUMNS`.
        excluded: store_id, product_id, reason -- rows of `stock` that could not be planned.
        counts: every code of `REASONS` -> the number of rows (of `table`, or of `excluded`) it applies to.
    """

    table: pd.DataFrame
    excluded: pd.DataFrame
    counts: dict[str, int]

    def summary(self, language: str = "pt") -> list[str]:
        """One line per note that applies to at least one row, e.g. `prazos de entrega assumidos (padrão): 3`."""
        return [f"{REASONS[code][language]}: {n}" for code, n in self.counts.items() if n]


def safety_factor(service_level: float) -> float:
    """The safety factor z = Phi^-1(service_level), the standard-normal quantile of the cycle service level."""
    return NormalDist().inv_cdf(service_level)


def daily_sigma(forecasts: pd.DataFrame) -> pd.Series:
    """The daily demand sd read from each row's 95% interval, else its 80% one; NaN when there is neither."""
    def from_interval(lower: str, upper: str, z: float) -> pd.Series:
        up = pd.to_numeric(forecasts[upper], errors="coerce")
        low = pd.to_numeric(forecasts[lower], errors="coerce")
        width = (up - low) / (2 * z)
        upper_half = (up - forecasts["forecast"].clip(lower=0)) / z
        return np.fmax(width, upper_half).clip(lower=0)

    return from_interval("lower_95", "upper_95", Z95).fillna(from_interval("lower_80", "upper_80", Z80))


def round_up_to_case(quantity: pd.Series, case_pack: pd.Series) -> pd.Series:
    """max(0, quantity) rounded up to a whole number of cases (NaN stays NaN).

    A hair of floating-point noise above a whole number of cases (24.000000001 with c = 12) is not a case more.
    """
    cases = np.ceil((quantity.clip(lower=0) / case_pack) - 1e-9).clip(lower=0)
    return cases * case_pack


def plan_replenishment(
    forecasts: pd.DataFrame,
    stock: pd.DataFrame,
    products: pd.DataFrame,
    suppliers: pd.DataFrame,
    *,
    service_level: float = 0.95,
    review_period_days: int = 7,
    default_lead_time_days: int = 7,
    today: date | None = None,
    assume_missing_stock_zero: bool = False,
) -> ReplenishmentResult:
    """The recommended order of every forecast series, with the notes and counts of what had to be assumed.

    Args:
        forecasts: one row per (store_id, product_id, date) of the horizon: `forecast` (mean daily demand) and
            `lower_80`, `upper_80`, `lower_95`, `upper_95` (central predictive intervals of the daily demand;
            either pair may be missing). Days must be consecutive per series.
        stock: the stock snapshot per (store_id, product_id): `on_hand`, optional `on_order` (NaN -> 0) and
            `date`; when a key has several rows the latest date wins.
        products: `product_id`, optional `supplier_id`, `lead_time_days`, `case_pack`, `unit_cost`, `name`,
            `category` and `_placeholder` (a row registered for an unknown id counts as no record).
        suppliers: `supplier_id`, optional `name`, `email`, `lead_time_days`.
        service_level: the cycle service level, 0.5 to 0.999.
        review_period_days: R, the days until the next replenishment run (>= 1).
        default_lead_time_days: L when neither the product nor its supplier has one (>= 0).
        today: the planning date: forecast days on or before it are dropped. When None, each series' stock
            snapshot date plays that part (and no day is dropped for a series without a snapshot).
        assume_missing_stock_zero: plan the series without a stock snapshot as if nothing were on hand or on
            order, instead of leaving their order empty.

    Returns:
        The `replenishment` table (columns `REPLENISHMENT_COLUMNS`), the excluded stock rows and the counts.

    Raises:
        ValueError: a parameter out of range, or an input frame without one of its required columns.
    """
    _validate(service_level, review_period_days, default_lead_time_days)
    frames = {name: _conform(frame, name) for name, frame in
              {"forecasts": forecasts, "stock": stock, "products": products, "suppliers": suppliers}.items()}
    snapshot = _latest_stock(frames["stock"])
    days = _horizon(frames["forecasts"], snapshot, today)
    series, excluded = _series(days, snapshot)
    series = _items(series, frames["products"], frames["suppliers"], default_lead_time_days)
    series["review_period_days"] = int(review_period_days)
    series = _demand(series, days)
    series = _orders(series, safety_factor(service_level), assume_missing_stock_zero)
    series["service_level"] = float(service_level)
    series = _cover(series, days)
    table = _finish(series)
    counts = {code: int(series[code].sum()) if code in series else 0 for code in REASONS}
    counts["no_forecast"] = len(excluded)
    return ReplenishmentResult(table=table, excluded=excluded, counts=counts)


def _validate(service_level: float, review_period_days: int, default_lead_time_days: int) -> None:
    if not 0.5 <= service_level <= 0.999:
        raise ValueError(f"service_level {service_level} is out of range: pass a value from 0.5 to 0.999 "
                         "(e.g. --service-level 0.95)")
    if int(review_period_days) != review_period_days or review_period_days < 1:
        raise ValueError(f"review_period_days {review_period_days} must be a whole number of days >= 1")
    if int(default_lead_time_days) != default_lead_time_days or default_lead_time_days < 0:
        raise ValueError(f"default_lead_time_days {default_lead_time_days} must be a whole number of days >= 0")


def _conform(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """A copy with the required columns checked, the optional ones added as missing, ids as strings."""
    missing = [c for c in REQUIRED_COLUMNS[name] if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {', '.join(missing)}; it has {', '.join(map(str, frame.columns))} "
                         f"and needs {', '.join(REQUIRED_COLUMNS[name])} -- rename the columns before planning")
    out = frame.copy()
    for column in OPTIONAL_COLUMNS[name]:
        if column not in out.columns:
            out[column] = np.nan
    for column in ("store_id", "product_id", "supplier_id"):
        if column in out.columns:
            out[column] = out[column].astype("string")
    keys = [c for c in ("store_id", "product_id", "supplier_id") if c in REQUIRED_COLUMNS[name]]
    return out.dropna(subset=keys).reset_index(drop=True)  # a row without its ids cannot be planned


def _latest_stock(stock: pd.DataFrame) -> pd.DataFrame:
    """One row per series: the latest snapshot, on_hand and on_order as numbers."""
    stock = stock.assign(snapshot_date=pd.to_datetime(stock["date"]),
                         on_hand=pd.to_numeric(stock["on_hand"], errors="coerce").astype("float64"),
                         on_order=pd.to_numeric(stock["on_order"], errors="coerce").astype("float64"))
    stock = stock.sort_values("snapshot_date", na_position="first", kind="stable")
    stock = stock.drop_duplicates(KEYS, keep="last")
    return stock[[*KEYS, "on_hand", "on_order", "snapshot_date"]].reset_index(drop=True)


def _horizon(forecasts: pd.DataFrame, snapshot: pd.DataFrame, today: date | None) -> pd.DataFrame:
    """The forecast days after the planning date, numbered k = 1..H per series, with f_k and sigma_k."""
    days = forecasts.assign(date=pd.to_datetime(forecasts["date"]),
                            forecast=pd.to_numeric(forecasts["forecast"], errors="coerce").fillna(0).clip(lower=0))
    days = days.dropna(subset=["date"])
    days["sigma"] = daily_sigma(days)
    if today is not None:
        days = days[days["date"] > pd.Timestamp(today)]
    else:
        dates = days.merge(snapshot[[*KEYS, "snapshot_date"]], on=KEYS, how="left")["snapshot_date"]
        days = days[~(days["date"].to_numpy() <= dates.to_numpy())]
    days = days.sort_values([*KEYS, "date"]).drop_duplicates([*KEYS, "date"], keep="last")
    days = days[[*KEYS, "date", "forecast", "sigma"]].reset_index(drop=True)
    days["k"] = days.groupby(KEYS, sort=False).cumcount() + 1
    return days


def _series(days: pd.DataFrame, snapshot: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-series horizon figures joined to the snapshot, and the snapshot rows that have no forecast."""
    grouped = days.groupby(KEYS, sort=True)
    series = grouped.agg(horizon_days=("k", "size"), first_date=("date", "min"),
                         mean_daily_forecast=("forecast", "mean")).reset_index()
    series["no_interval"] = days["sigma"].isna().groupby([days["store_id"], days["product_id"]]).any().to_numpy()
    tail = days[days["k"] > days.groupby(KEYS)["k"].transform("size") - TAIL_DAYS]
    tail = tail.assign(var=tail["sigma"].fillna(0) ** 2).groupby(KEYS)
    series["tail_forecast"] = tail["forecast"].mean().to_numpy()
    series["tail_var"] = tail["var"].mean().to_numpy()
    joined = series.merge(snapshot, on=KEYS, how="outer", indicator=True)
    excluded = joined.loc[joined["_merge"] == "right_only", KEYS].assign(reason="no_forecast")
    series = joined[joined["_merge"] != "right_only"].drop(columns="_merge").reset_index(drop=True)
    series["has_stock"] = series["on_hand"].notna()
    stale = series["snapshot_date"] < series["first_date"] - pd.Timedelta(days=1)
    series["stale_snapshot"] = stale.fillna(False).astype(bool)
    return series, excluded.reset_index(drop=True)


def _items(series: pd.DataFrame, products: pd.DataFrame, suppliers: pd.DataFrame, default_lead: int) -> pd.DataFrame:
    """Supplier, lead time (product -> supplier -> default) and case pack of each series."""
    products = products.drop_duplicates("product_id", keep="last")
    placeholder = products["_placeholder"].astype("boolean").fillna(False).astype(bool)
    products = products.assign(has_record=~placeholder.to_numpy())
    cols = ["product_id", "supplier_id", "lead_time_days", "case_pack", "has_record"]
    out = series.merge(products[cols], on="product_id", how="left")
    out["no_product_record"] = ~out["has_record"].astype("boolean").fillna(False).astype(bool)
    out["no_supplier"] = out["supplier_id"].isna() & ~out["no_product_record"]
    supplier_lead = suppliers.drop_duplicates("supplier_id", keep="last").set_index("supplier_id")["lead_time_days"]
    known = out["supplier_id"].isin(supplier_lead.index)
    out["supplier_not_found"] = out["supplier_id"].notna() & ~known
    out["supplier_id"] = out["supplier_id"].fillna(UNKNOWN_SUPPLIER)
    own = _whole_days(out["lead_time_days"])
    theirs = _whole_days(out["supplier_id"].map(supplier_lead).astype("Float64"))
    source = np.select([own.notna(), theirs.notna()], ["product", "supplier"], "default")
    out["lead_time_source"] = pd.Series(source, index=out.index, dtype="string")
    out["lead_time_days"] = own.fillna(theirs).fillna(default_lead).astype("int64")
    out["lead_time_from_supplier"] = out["lead_time_source"] == "supplier"
    out["lead_time_assumed"] = out["lead_time_source"] == "default"
    pack = pd.to_numeric(out["case_pack"], errors="coerce").round()
    out["case_pack_assumed"] = ~(pack >= 1) & ~out["no_product_record"]
    out["case_pack"] = pack.where(pack >= 1, 1).astype("int64")
    return out.drop(columns="has_record")


def _whole_days(values: pd.Series) -> pd.Series:
    """Lead times as whole days (fractions round up); missing, negative or unreadable ones as NaN."""
    days = pd.to_numeric(values, errors="coerce").astype("float64")
    return np.ceil(days.where(days >= 0))


def _demand(series: pd.DataFrame, days: pd.DataFrame) -> pd.DataFrame:
    """D_L, D_P and the variances over L and P, the days past the horizon filled with the tail means."""
    out = series.copy()
    lead = out["lead_time_days"]
    protection = lead + out["review_period_days"]
    periods = days.merge(out[KEYS].assign(lead=lead, protection=protection), on=KEYS, how="left")
    var = periods["sigma"].fillna(0) ** 2
    for name, span in (("lead", lead), ("protection", protection)):
        inside = periods["k"] <= periods[name]
        sums = pd.DataFrame({"d": periods["forecast"].where(inside, 0), "v": var.where(inside, 0)})
        sums = sums.groupby([periods["store_id"], periods["product_id"]]).sum().reset_index()
        sums = out[KEYS].merge(sums, on=KEYS, how="left")
        beyond = (span - out["horizon_days"]).clip(lower=0)
        out[f"demand_over_{name}"] = sums["d"].to_numpy() + beyond * out["tail_forecast"]
        out[f"var_{name}"] = sums["v"].to_numpy() + beyond * out["tail_var"]
    out["horizon_extended"] = protection > out["horizon_days"]
    return out


def _orders(series: pd.DataFrame, z: float, assume_zero: bool) -> pd.DataFrame:
    """Safety stock, reorder point, order-up-to level, inventory position and the case-rounded order."""
    out = series.copy()
    out["sd_over_protection"] = np.sqrt(out["var_protection"])
    out["safety_stock"] = z * out["sd_over_protection"]
    out["reorder_point"] = out["demand_over_lead"] + z * np.sqrt(out["var_lead"])
    out["order_up_to"] = out["demand_over_protection"] + out["safety_stock"]
    out["negative_on_hand"] = out["on_hand"] < 0
    out["no_stock_snapshot"] = ~out["has_stock"] & (not assume_zero)
    out["stock_assumed_zero"] = ~out["has_stock"] & assume_zero
    out["on_hand"] = out["on_hand"].clip(lower=0)
    out.loc[out["has_stock"], "on_order"] = out.loc[out["has_stock"], "on_order"].fillna(0)
    counted = out["has_stock"] | out["stock_assumed_zero"]
    position = out["on_hand"].fillna(0) + out["on_order"].fillna(0)
    out["inventory_position"] = position.where(counted)
    order = round_up_to_case(out["order_up_to"] - out["inventory_position"], out["case_pack"])
    out["suggested_order"] = order.round().astype("Int64")
    below = out["inventory_position"] <= out["reorder_point"]
    out["below_reorder_point"] = below.astype("boolean").mask(~counted)
    return out


def _cover(series: pd.DataFrame, days: pd.DataFrame) -> pd.DataFrame:
    """Days of cover, the stock-position flag against lead-time demand, and the projected stock-out date."""
    out = series.copy()
    out["zero_demand"] = out["mean_daily_forecast"] <= 0
    out["days_of_cover"] = (out["on_hand"] / out["mean_daily_forecast"]).where(~out["zero_demand"])
    lead = out["lead_time_days"]
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = out["inventory_position"] / (out["demand_over_lead"] / lead)
    out["position_cover_days"] = cover.where((lead > 0) & (out["demand_over_lead"] > 0), np.inf)
    out.loc[out["inventory_position"].isna(), "position_cover_days"] = np.nan
    short = out["inventory_position"] < out["demand_over_lead"]
    out["cover_shorter_than_lead_time"] = short.astype("boolean").mask(out["inventory_position"].isna())
    out["stockout_date"] = _stockout_dates(out, days)
    return out


def _stockout_dates(series: pd.DataFrame, days: pd.DataFrame) -> pd.Series:
    """The first horizon date with projected stock <= 0, on_order arriving at the start of day L."""
    known = series[series["inventory_position"].notna() & ~series["zero_demand"]]
    stock = known[[*KEYS, "on_hand", "on_order", "lead_time_days"]].fillna({"on_hand": 0, "on_order": 0})
    path = days.merge(stock, on=KEYS, how="inner")
    used = path.groupby(KEYS, sort=False)["forecast"].cumsum()
    arrived = path["on_order"].where(path["k"] >= path["lead_time_days"], 0)
    projected = path["on_hand"] + arrived - used
    first = path[projected <= 0].groupby(KEYS)["date"].min().rename("stockout_date").reset_index()
    return series[KEYS].merge(first, on=KEYS, how="left")["stockout_date"].astype("datetime64[ns]")


def _finish(series: pd.DataFrame) -> pd.DataFrame:
    """The table's columns in order, with the note codes of each row joined in `notes`."""
    out = series.rename(columns={"demand_over_lead": "demand_over_lead_time"})
    notes = pd.Series("", index=out.index, dtype="object")
    for code in REASONS:
        if code in out:
            notes = notes + np.where(out[code].to_numpy(dtype=bool), code + "; ", "")
    out["notes"] = notes.str.removesuffix("; ").astype("string")
    out["lead_time_assumed"] = out["lead_time_assumed"].astype(bool)
    out["horizon_extended"] = out["horizon_extended"].astype(bool)
    return out.loc[:, list(REPLENISHMENT_COLUMNS)].reset_index(drop=True)
