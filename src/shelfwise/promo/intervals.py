"""How sure a measured lift is: placebo campaigns, the calibration they give, and cell lifts pooled honestly.

A placebo is a campaign copied onto quiet dates of the same stores and products: its true lift is zero, so how
far the baseline misses it is the baseline's own error. The misses set each interval's spread and, conformal
style, its multiplier; cells are then partially pooled within campaign and category (empirical Bayes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from shelfwise.promo.baseline import DailyPanel
from shelfwise.promo.panel import PlacedCampaign, window_sums

if TYPE_CHECKING:
    from shelfwise.promo.lift import LiftSettings


def placebo_rounds(placed: list[PlacedCampaign], busy: np.ndarray, panel: DailyPanel, settings: LiftSettings
              ) -> list[list[PlacedCampaign]]:
    """Copies of each campaign on the same stores and products at quiet dates: a campaign whose lift is zero.

    `busy` marks the cells real campaigns touch; a copy may not overlap them, nor another copy. Closed days and
    stock-outs inside a copy are left out of its sums (`calibrate`), not held against the whole copy. Copies
    come in rounds -- the k-th copy of every campaign -- each fitted apart, so that hiding the copies takes no
    more data from the model than the real campaigns do.
    """
    rng = np.random.default_rng(settings.seed)
    offsets = np.array([sign * 7 * weeks for weeks in (6, 9, 12, 15, 18, 21, 26) for sign in (-1, 1)])
    taken = busy.copy()
    rounds: list[list[PlacedCampaign]] = [[] for _ in range(settings.placebos_per_campaign)]
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
            rounds[found].append(PlacedCampaign(f"{c.campaign_id}~{offset:+d}", int(first), int(last), c.stores,
                                           c.products, c.listed))
            found += 1
            if found == settings.placebos_per_campaign:
                break
    return [placebos for placebos in rounds if placebos]


def sales_noise(units: np.ndarray, base: np.ndarray, base_squares: np.ndarray, alpha: np.ndarray
                 ) -> np.ndarray:
    """Variance of log(units) over a window from the sales' own noise: 1 / units + alpha x sum(m²) / sum(m)²."""
    return 1 / np.maximum(units, 1.0) + alpha * base_squares / np.maximum(base, 1e-9) ** 2


def placebo_misses(placebos: list[PlacedCampaign], panel: DailyPanel, expected: np.ndarray,
                    overdispersion: np.ndarray, settings: LiftSettings) -> tuple[list[np.ndarray], list[list[float]]]:
    """Each placebo cell's and placebo campaign's log miss and its sales noise, on the fit that hid them."""
    cells, campaigns = [], []
    valid = panel.clean & panel.open_days[:, :, None]
    for c in placebos:
        units, base = window_sums(c, panel.units, expected, valid=valid)
        squares = window_sums(c, expected, valid=valid, square=True)[0]
        alpha = overdispersion[c.products[np.nonzero(c.listed)[1]]]
        ok = base >= settings.min_baseline_units
        if ok.any():
            cells.append(np.c_[np.log((units[ok] + 0.5) / (base[ok] + 0.5)),
                               sales_noise(base[ok], base[ok], squares[ok], alpha[ok])])
            total = base[ok].sum()
            campaigns.append([np.log((units[ok].sum() + 0.5) / (total + 0.5)),
                              1 / total + (alpha[ok] * squares[ok]).sum() / total**2])
    return cells, campaigns


def calibrate(cells: list[np.ndarray], campaigns: list[list[float]], settings: LiftSettings) -> dict[str, float]:
    """The baseline's own error variance, and the interval multiplier, for cells and for whole campaigns.

    A placebo's log miss is the baseline's error plus the sales' own noise (`sales_noise`); the noise part is
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


def pooled_lifts(cells: pd.DataFrame, calibration: dict[str, float]) -> pd.DataFrame:
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
