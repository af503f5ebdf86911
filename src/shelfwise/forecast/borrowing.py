"""Forecasts for series too young to model: they borrow level and shape from their peers.

A new SKU's own few days say little, so its daily rate is shrunk towards the median rate of its category in its
store (the chain's category, then the store, then everything, when there is no such peer), as strongly as those
peers agree -- an empirical-Bayes gamma prior on a Poisson rate -- and it takes those peers' forecast shape
(weekdays, promotions, holidays) relative to their recent rate. Intervals use the run's conformal quantiles.
"""

from __future__ import annotations

import pandas as pd

from shelfwise.forecast.intervals import ConformalQuantiles, add_intervals
from shelfwise.forecast.metrics import KEY

MAX_PRIOR_DAYS = 28
"""The most days of a new series' own sales its peers' rate can be worth (see `_peer_prior`)."""
RECENT_DAYS = 28
"""The window of a peer's recent daily rate."""


def borrowed_forecasts(info: pd.DataFrame, history: pd.DataFrame, chosen: pd.DataFrame, regime: pd.DataFrame,
                       days: pd.DataFrame, quantiles: ConformalQuantiles) -> pd.DataFrame:
    """Forecasts of series too young to model, from their peers (category in store, then category, then store).

    `chosen` is the modelled series' forecast, `regime` the kind of day per unique_id and ds, `days` the horizon.
    """
    young = info[info["path"] == "borrowed"]
    if young.empty:
        return pd.DataFrame(columns=["unique_id", "ds", "forecast", "model"])
    observed = history[history["observed"]]
    origin = days["ds"].min() - pd.Timedelta(days=1)
    recent = observed[observed["date"] > origin - pd.Timedelta(days=RECENT_DAYS)]
    rates = recent.groupby("unique_id")["units"].mean().rename("rate")
    own = observed.groupby("unique_id").agg(own=("units", "mean"), days=("units", "size"))
    peers = info[info["path"].isin(["backtested", "forecast_only"])].merge(rates, on="unique_id")
    shape = chosen.merge(peers[["unique_id", "rate"]], on="unique_id")
    shape = shape[shape["rate"] > 0]
    shape["relative"] = shape["forecast"] / shape["rate"]
    shape = shape.merge(info[["unique_id", *KEY, "category"]], on="unique_id")
    targets = young.merge(own, on="unique_id", how="left").fillna({"own": 0.0, "days": 0})
    parts = []
    for level in (["store_id", "category"], ["category"], ["store_id"], []):
        if targets.empty:
            break
        prior = _peer_prior(peers, level)
        profile = (shape.groupby([*level, "ds"])["relative"].mean().reset_index() if level
                   else shape.groupby("ds")["relative"].mean().reset_index())
        matched = targets.merge(prior, on=level) if level else targets.merge(prior, how="cross")
        matched = matched.dropna(subset=["peer_rate"])
        if level or len(profile):
            rows = matched.merge(profile, on=level) if level else matched.merge(profile, how="cross")
        else:
            rows = matched.merge(days, how="cross").assign(relative=1.0)
        parts.append(rows)
        targets = targets[~targets["unique_id"].isin(matched["unique_id"])]
    if len(targets):  # nothing at all to borrow from: the series' own mean, flat
        parts.append(targets.assign(peer_rate=targets["own"], prior_days=1.0).merge(days, how="cross")
                     .assign(relative=1.0))
    borrowed = pd.concat([part for part in parts if len(part)], ignore_index=True)
    rate = ((borrowed["days"] * borrowed["own"] + borrowed["prior_days"] * borrowed["peer_rate"])
            / (borrowed["days"] + borrowed["prior_days"]))
    borrowed["forecast"] = (rate * borrowed["relative"]).clip(lower=0)
    borrowed["model"] = "borrowed"
    borrowed = borrowed[["unique_id", "ds", "forecast", "model"]].merge(regime, on=["unique_id", "ds"], how="left")
    return add_intervals(borrowed, quantiles, set()).drop(columns="regime")


def _peer_prior(peers: pd.DataFrame, level: list[str]) -> pd.DataFrame:
    """Per peer group: the peers' typical daily rate and how many days of a new series' own sales it is worth.

    A gamma prior on a Poisson rate, fitted by moments: mean m = the peers' median rate, strength m / variance of
    the peers' rates (in days), within [1, `MAX_PRIOR_DAYS`]. Peers that all sell alike make a strong prior;
    a category that mixes slow and fast movers says little, and the new series' own days soon dominate.
    """
    grouped = peers.groupby(level)["rate"] if level else peers.assign(_all=0).groupby("_all")["rate"]
    prior = pd.DataFrame({"peer_rate": grouped.median(), "variance": grouped.var()})
    prior["prior_days"] = (prior["peer_rate"] / prior["variance"]).fillna(MAX_PRIOR_DAYS).clip(1, MAX_PRIOR_DAYS)
    prior = prior.reset_index().drop(columns=["variance"])
    return prior.drop(columns=["_all"]) if not level else prior

