"""The lift model of campaign planning: log-lift learned from the campaigns measured, checked on unseen ones.

The measured history (one row per campaign cell, from `promo_lift`) is all there is to learn from, and it is small:
ten to sixty campaigns. The model is therefore linear and shrunk, on the log of actual over baseline units, where
the effects of discount depth, type, duration, season and category add up and the errors are about symmetric:

    log(actual / baseline) = x·β + u[category] + c[campaign] + e[cell]

Cells of one campaign share its execution (the flyer that went out late, the display a store never built), so
three hundred cells of one campaign are closer to one observation than to three hundred: `c` is a campaign effect
shared by its cells, which caps what a large campaign can weigh. A cell's own noise `e` is its heterogeneity (a
variance the data estimate) plus its measurement error, known from `lift_se` or, when that is missing, from its
volume (the variance of a log count falls as 1 / units), so small cells count for little. Categories are random
effects: a category with two campaigns sits between its own mean and the rest of the model in proportion to its
evidence, and a category never promoted gets the model's prediction with the spread of categories added. Types
are shrunk the same way (five levels, one of them often seen in a single campaign), and so are the nuisance terms
(duration, month), as a group whose spread the data set: with thirty campaigns, twenty free coefficients would
fit the campaign effects. The levers the planner pulls, and that retail knows matter (discount depth, the
missing-discount flag, Black Friday week, the run-up to Christmas), keep only a weak prior (`lever_prior_sd`).
The five variances are estimated by restricted maximum likelihood, which for the linear-Gaussian model is exact,
fast and works with fewer campaigns than the model has terms.

A model's own intervals are only as good as its assumptions, so they are checked the way the model is used: each
campaign in turn is predicted by a model fitted without it (leave one campaign out, every variance re-estimated),
and its measured total lift is standardised by the predicted spread. The mean square of those scores, shrunk
toward 1 by `calibration_campaigns` pseudo-campaigns, scales every interval (`interval_scale`): a model that was
too sure on unseen campaigns widens, one that was too timid narrows. The coverage reported for that check scales
each campaign's interval by the factor learned from the other campaigns only, so it is an honest figure too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import minimize
from scipy.stats import norm
from threadpoolctl import threadpool_limits

from shelfwise.promo.planning.design import FIXED_TERMS, _categories, _design, _Spec, _spec, _types
from shelfwise.promo.planning.errors import NotEnoughHistory, PlanError

HISTORY_COLUMNS = ["campaign_id", "category", "type", "discount_pct", "start_date", "end_date", "baseline_units",
                   "actual_units", "status"]
"""Columns the history needs; lift_se is read when present, store_id and product_id are not needed."""
VARIANCES = ("campaign", "cell", "covariate", "type", "category")
"""The variances learned: campaign and cell effects, then the priors of the three shrunk groups of columns."""
_COVARIATES = ("log_days", "month_sin", "month_cos")
_LEVERS = ("discount", "discount_missing", "black_friday_week", "christmas_run_up")
LOCO_COLUMNS = ["campaign_id", "cells", "measured_lift_pct", "predicted_lift_pct", "lift_low", "lift_high", "z",
                "covered"]
_LOG_VARIANCE = (math.log(1e-6), math.log(4.0))  # bounds of every variance on the log scale: sd 0.001 to 2


@dataclass(frozen=True)
class PlanSettings:
    """How the lift model is fitted, checked and trusted.

    Attributes:
        min_campaigns: Fewest usable campaigns (status 'ok') the model accepts; below it `NotEnoughHistory`.
        lever_prior_sd: Prior sd on log-lift of the discount effect (per sd of the discounts seen), of the
            missing-discount flag and of the two peak shares: weak (a lift may grow several-fold), it only keeps a
            history of nearly equal discounts, or one peak campaign, from claiming a wild effect.
        effect_sd_floor: Least sd of the type and of the category effects; with five types or a few categories the
            estimate can fall to zero, which would make a never-seen type or category look as known as the others.
        calibration_campaigns: Pseudo-campaigns of perfect calibration the interval scale is shrunk toward.
        check_level: Level of the intervals whose leave-one-campaign-out coverage is reported.
        similar_discount_points: A history discount within this many points of the planned one counts as similar.
        high_confidence_campaigns: Comparable campaigns (same category, type and similar discount) for 'high'.
        low_confidence_campaigns: Below this many campaigns in all, confidence is at most 'low'.
    """

    min_campaigns: int = 5
    lever_prior_sd: float = 0.5
    effect_sd_floor: float = 0.05
    calibration_campaigns: float = 5.0
    check_level: float = 0.9
    similar_discount_points: float = 5.0
    high_confidence_campaigns: int = 5
    low_confidence_campaigns: int = 10

    def __post_init__(self) -> None:
        checks = {
            "min_campaigns must be at least 3": self.min_campaigns >= 3,
            "lever_prior_sd must be above 0": self.lever_prior_sd > 0,
            "effect_sd_floor must be above 0 and below 2": 0 < self.effect_sd_floor < 2,
            "calibration_campaigns must be 0 or more": self.calibration_campaigns >= 0,
            "check_level must be above 0 and below 1": 0 < self.check_level < 1,
            "similar_discount_points must be 0 or more": self.similar_discount_points >= 0,
            "high_confidence_campaigns must be at least 1": self.high_confidence_campaigns >= 1,
            "low_confidence_campaigns must be 0 or more": self.low_confidence_campaigns >= 0,
        }
        failed = [message for message, ok in checks.items() if not ok]
        if failed:
            raise PlanError("; ".join(failed))


@dataclass(frozen=True, eq=False)
class LocoCheck:
    """How the model did on campaigns it had not seen, each predicted by a model fitted without it.

    Attributes:
        n_campaigns: Campaigns fitted (and each checked once).
        n_cells: Cells fitted.
        level: Level of the intervals checked.
        coverage: Share of campaigns whose measured total lift fell in its interval, each interval scaled by the
            factor learned from the other campaigns.
        mae_lift_points: Mean absolute error of the predicted total lift, in percentage points.
        campaigns: One row per campaign: campaign_id, cells, measured_lift_pct, predicted_lift_pct, lift_low,
            lift_high, z (the measured log-lift standardised by the model's own spread), covered.
    """

    n_campaigns: int
    n_cells: int
    level: float
    coverage: float
    mae_lift_points: float
    campaigns: pd.DataFrame = field(repr=False)


@dataclass(frozen=True, eq=False)
class LiftModel:
    """Lift on log scale, learned from measured campaigns; see the module docstring.

    Attributes:
        settings: The settings it was fitted with.
        terms: Names of the model columns: `FIXED_TERMS`, then one `category_<name>` per category seen.
        coef: Posterior mean of each term's coefficient (log-lift).
        covariance: Posterior covariance of the coefficients, given the variances.
        spec: Categories and centring used to build the columns.
        campaign_var: Variance of the campaign effect (log scale).
        cell_var: Variance of the cell effect beyond its measurement error.
        covariate_var: Prior variance of the duration and month (cyclic) effects, learned: it shrinks them toward
            no effect as far as the history allows.
        type_var: Variance of the type effects around their mean (at least `effect_sd_floor` squared).
        category_var: Variance of the category effects (at least `effect_sd_floor` squared).
        noise_per_unit: Measurement variance of a cell times its baseline units, for cells (and plans) without
            a `lift_se` (1, the Poisson value, when no cell had one).
        interval_scale: Factor on every predicted sd, from the leave-one-campaign-out check.
        discount_range: Least and most discount seen, None when no cell had one.
        cells: The cells fitted: campaign_id, category, type, discount_pct (as measured, NaN kept), days.
        loco: The leave-one-campaign-out check.
    """

    settings: PlanSettings
    terms: tuple[str, ...]
    coef: np.ndarray
    covariance: np.ndarray
    spec: _Spec
    campaign_var: float
    cell_var: float
    covariate_var: float
    type_var: float
    category_var: float
    noise_per_unit: float
    interval_scale: float
    discount_range: tuple[float, float] | None
    cells: pd.DataFrame = field(repr=False)
    loco: LocoCheck = field(repr=False)

    @property
    def n_campaigns(self) -> int:
        """Campaigns the model was fitted on."""
        return self.loco.n_campaigns

    @property
    def n_cells(self) -> int:
        """Cells the model was fitted on."""
        return self.loco.n_cells

    def coefficients(self) -> pd.DataFrame:
        """term, estimate and sd of each coefficient (log-lift), for a reader who wants to see what it learned."""
        return pd.DataFrame({"term": self.terms, "estimate": self.coef, "sd": np.sqrt(np.diag(self.covariance))})


class _Data(NamedTuple):
    """The fitting arrays: model columns, log-lift, known measurement variance, campaign of each cell."""

    x: np.ndarray
    y: np.ndarray
    noise: np.ndarray
    groups: np.ndarray  # (campaigns × cells) indicator of each cell's campaign
    group: np.ndarray  # of each column: -1 fixed prior, else the index in VARIANCES of its learned prior variance
    precision: np.ndarray  # prior precision of the fixed columns (0: flat)


class _Fit(NamedTuple):
    log_var: np.ndarray  # in VARIANCES order
    coef: np.ndarray
    covariance: np.ndarray


def fit_lift_model(history: pd.DataFrame, settings: PlanSettings | None = None) -> LiftModel:
    """Learn log-lift from measured campaign cells, and check it by leaving one campaign out at a time.

    Args:
        history: One row per measured cell: campaign_id, category, type (one of `TYPES` or missing),
            discount_pct (NaN when unknown or not a price cut), start_date, end_date, baseline_units (> 0),
            actual_units (>= 0), status, and lift_se (sd of log(actual / baseline); the column or its values may
            be missing). Only status 'ok' rows with a positive baseline, a non-negative actual and both dates are
            used; with a `level` column (as in `promo_lift`), only its 'cell' rows. lift_pct is not read (it is
            recomputed from the units), nor are store_id and product_id.
        settings: The defaults of `PlanSettings` when None.

    Returns:
        The fitted model, with its leave-one-campaign-out check in `loco`.

    Raises:
        PlanError: a column is missing or a type is not one of `TYPES`.
        NotEnoughHistory: fewer than `settings.min_campaigns` usable campaigns.
    """
    settings = settings or PlanSettings()
    with threadpool_limits(limits=1, user_api="blas"):  # thousands of tiny products: threads only get in the way
        return _fit_lift_model(history, settings)


def _fit_lift_model(history: pd.DataFrame, settings: PlanSettings) -> LiftModel:
    """`fit_lift_model`, with the thread limit in place."""
    cells = _usable(history)
    found = cells["campaign_id"].nunique()
    if found < settings.min_campaigns:
        raise NotEnoughHistory(found, settings.min_campaigns)
    spec = _spec(cells)
    noise_per_unit = _noise_per_unit(cells)
    data = _data(cells, spec, noise_per_unit, settings)
    bounds = _bounds(settings)
    full = _fit(data, np.log([0.02, 0.01, 0.01, 0.01, 0.01]), bounds)
    loco, scale = _loco(cells, data, full.log_var, bounds, settings)
    discounts = cells["discount_pct"].dropna()
    variances = {f"{name}_var": float(v) for name, v in zip(VARIANCES, np.exp(full.log_var), strict=True)}
    return LiftModel(
        settings=settings, terms=(*FIXED_TERMS, *(f"category_{c}" for c in spec.categories)), coef=full.coef,
        covariance=full.covariance, spec=spec, **variances, noise_per_unit=noise_per_unit, interval_scale=scale,
        discount_range=(float(discounts.min()), float(discounts.max())) if len(discounts) else None,
        cells=cells[["campaign_id", "category", "type", "discount_pct", "days"]].reset_index(drop=True), loco=loco)


def _usable(history: pd.DataFrame) -> pd.DataFrame:
    """The 'ok' cells with units and dates, normalised, with days, log-lift `y` and measurement variance."""
    missing = [name for name in HISTORY_COLUMNS if name not in history.columns]
    if missing:
        raise PlanError(f"the lift history lacks column(s) {', '.join(missing)}; it has: "
                        f"{', '.join(map(str, history.columns))}; pass the cells measured by promo_lift, with each "
                        "product's category joined from the product table")
    if "level" in history.columns:  # promo_lift also holds one total row per campaign: those are not cells
        history = history[history["level"].astype(str) == "cell"]
    if "lift_se" not in history.columns:
        history = history.assign(lift_se=np.nan)
    baseline = pd.to_numeric(history["baseline_units"], errors="coerce")
    actual = pd.to_numeric(history["actual_units"], errors="coerce")
    start, end = pd.to_datetime(history["start_date"]), pd.to_datetime(history["end_date"])
    keep = (history["status"].astype(str).str.strip().str.lower() == "ok") & (baseline > 0) & (actual >= 0)
    keep &= start.notna() & end.notna() & (end >= start) & np.isfinite(baseline) & np.isfinite(actual)
    cells = pd.DataFrame({
        "campaign_id": history["campaign_id"].astype(str), "category": _categories(history["category"]),
        "type": _types(history["type"]), "discount_pct": pd.to_numeric(history["discount_pct"], errors="coerce"),
        "start_date": start.dt.normalize(), "days": (end.dt.normalize() - start.dt.normalize()).dt.days + 1,
        "baseline_units": baseline, "actual_units": actual,
        "lift_se": pd.to_numeric(history["lift_se"], errors="coerce")})[keep.to_numpy()]
    cells["y"] = np.log((cells["actual_units"] + 0.5) / (cells["baseline_units"] + 0.5))
    return cells.reset_index(drop=True)


def _noise_per_unit(cells: pd.DataFrame) -> float:
    """Median of lift_se² × baseline over the cells that have a lift_se; 1 (Poisson counts) when none has."""
    se = cells["lift_se"]
    known = np.isfinite(se) & (se >= 0)
    return float(np.median(se[known] ** 2 * cells.loc[known, "baseline_units"])) if known.any() else 1.0


def _noise(se: pd.Series, baseline: pd.Series, noise_per_unit: float) -> np.ndarray:
    """A cell's measurement variance of log-lift: lift_se² when known, else in proportion to 1 / volume."""
    se = se.to_numpy(dtype=float)
    return np.where(np.isfinite(se) & (se >= 0), se**2, noise_per_unit / baseline.to_numpy(dtype=float))


def _data(cells: pd.DataFrame, spec: _Spec, noise_per_unit: float, settings: PlanSettings) -> _Data:
    """The fitting arrays; the intercept is free, the discount has a weak prior, the rest are shrunk in groups."""
    x = _design(cells, spec)
    group = np.full(x.shape[1], VARIANCES.index("category"))
    group[:len(FIXED_TERMS)] = [-1 if term in _LEVERS or term == "intercept" else VARIANCES.index(
        "covariate" if term in _COVARIATES else "type") for term in FIXED_TERMS]
    precision = np.zeros(x.shape[1])
    precision[[FIXED_TERMS.index(term) for term in _LEVERS]] = 1 / settings.lever_prior_sd**2
    noise = _noise(cells["lift_se"], cells["baseline_units"], noise_per_unit)
    return _Data(x, cells["y"].to_numpy(dtype=float), noise, _groups(cells["campaign_id"]), group, precision)


def _groups(campaign: pd.Series | np.ndarray) -> np.ndarray:
    codes = pd.factorize(np.asarray(campaign))[0]
    groups = np.zeros((codes.max() + 1, len(codes)))
    groups[codes, np.arange(len(codes))] = 1.0
    return groups


def _subset(data: _Data, rows: np.ndarray) -> _Data:
    groups = data.groups[:, rows]
    return data._replace(x=data.x[rows], y=data.y[rows], noise=data.noise[rows], groups=groups[groups.any(axis=1)])


def _bounds(settings: PlanSettings) -> list[tuple[float, float]]:
    """Log-variance bounds in VARIANCES order: type and category effects no smaller than `effect_sd_floor`."""
    floor = (2 * math.log(settings.effect_sd_floor), _LOG_VARIANCE[1])
    return [_LOG_VARIANCE, _LOG_VARIANCE, _LOG_VARIANCE, floor, floor]


def _solve(log_var: np.ndarray, data: _Data) -> tuple[np.ndarray, tuple[np.ndarray, bool], float]:
    """Posterior mean, Cholesky factor of the posterior precision, and -log restricted likelihood.

    Within a campaign the covariance is diag(d) + campaign·11ᵀ, whose inverse Sherman-Morrison gives in closed
    form, so nothing larger than (columns × columns) is ever factorised.
    """
    variances = np.exp(log_var)
    campaign_var, cell_var = variances[:2]
    d, groups = cell_var + data.noise, data.groups
    xd, yd = data.x / d[:, None], data.y / d
    shrink = campaign_var / (1 + campaign_var * (groups @ (1 / d)))
    sx, sy = groups @ xd, groups @ yd
    xvx = data.x.T @ xd - (sx.T * shrink) @ sx
    xvy = data.x.T @ yd - sx.T @ (shrink * sy)
    yvy = data.y @ yd - shrink @ sy**2
    precision = np.where(data.group >= 0, 1 / variances[data.group], data.precision)
    factor = cho_factor(xvx + np.diag(precision))
    coef = cho_solve(factor, xvy)
    log_det_v = np.log(d).sum() - np.log(shrink / campaign_var).sum()
    log_det_a = 2 * np.log(np.diag(factor[0])).sum()
    log_det_prior = np.log(precision[precision > 0]).sum()
    return coef, factor, 0.5 * (log_det_v + log_det_a - log_det_prior + yvy - coef @ xvy)


def _fit(data: _Data, start: np.ndarray, bounds: list[tuple[float, float]]) -> _Fit:
    """Variances by restricted maximum likelihood, then the coefficients' posterior given them."""
    start = np.clip(start, [b[0] for b in bounds], [b[1] for b in bounds])
    result = minimize(lambda t: _solve(t, data)[2], start, method="L-BFGS-B", bounds=bounds,
                      options={"ftol": 1e-7})  # variances to a few digits: the likelihood is flat beyond them
    coef, factor, _ = _solve(result.x, data)
    return _Fit(result.x, coef, cho_solve(factor, np.eye(len(coef))))


def _loco(cells: pd.DataFrame, data: _Data, start: np.ndarray, bounds: list[tuple[float, float]],
          settings: PlanSettings) -> tuple[LocoCheck, float]:
    """Each campaign predicted by a model fitted without it; the check, and the interval scale from all of them."""
    rows = []
    for held in data.groups.astype(bool):
        fit = _fit(_subset(data, ~held), start, bounds)
        rows.append(_held_out(fit, data, held, cells.loc[held]))
    frame = pd.DataFrame(rows, columns=["campaign_id", "cells", "measured", "m", "s", "predicted_lift_pct"])
    z = (frame["measured"] - frame["m"]) / frame["s"]
    n0, total = settings.calibration_campaigns, float((z**2).sum())
    others = np.sqrt((total - z**2 + n0) / (len(z) - 1 + n0))  # the scale each campaign's own check may use
    half = norm.ppf(0.5 + settings.check_level / 2) * others * frame["s"]
    low, high = 100 * np.expm1(frame["m"] - half), 100 * np.expm1(frame["m"] + half)
    measured = 100 * np.expm1(frame["measured"])
    table = pd.DataFrame({"campaign_id": frame["campaign_id"], "cells": frame["cells"], "measured_lift_pct": measured,
                          "predicted_lift_pct": frame["predicted_lift_pct"], "lift_low": low, "lift_high": high,
                          "z": z, "covered": (measured >= low) & (measured <= high)})[LOCO_COLUMNS]
    check = LocoCheck(len(frame), len(cells), settings.check_level, float(table["covered"].mean()),
                      float((table["predicted_lift_pct"] - measured).abs().mean()), table)
    return check, math.sqrt((total + n0) / (len(z) + n0))


def _held_out(fit: _Fit, data: _Data, held: np.ndarray, cells: pd.DataFrame) -> tuple[object, ...]:
    """One held-out campaign: measured and predicted log of total actual over total baseline, and its sd."""
    campaign_var, cell_var = np.exp(fit.log_var[:2])
    x, baseline = data.x[held], cells["baseline_units"].to_numpy(dtype=float)
    mu = x @ fit.coef
    cov = x @ fit.covariance @ x.T + campaign_var + np.diag(cell_var + data.noise[held])
    weight = baseline * np.exp(mu)
    m = math.log(weight.sum() / baseline.sum())
    weight /= weight.sum()
    s = math.sqrt(weight @ cov @ weight)
    measured = math.log((cells["actual_units"].sum() + 0.5) / (baseline.sum() + 0.5))
    predicted = 100 * ((baseline * np.exp(mu + np.diag(cov) / 2)).sum() / baseline.sum() - 1)
    return cells["campaign_id"].iloc[0], len(cells), measured, m, s, predicted
