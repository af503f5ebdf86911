"""How far a plan stands on the measured history, and the confidence word that follows from it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shelfwise.promo.planning.design import _categories, _types
from shelfwise.promo.planning.model import LiftModel, PlanSettings
from shelfwise.promo.planning.texts import TEXTS


def history_support(model: LiftModel, plan: pd.DataFrame) -> dict[str, object]:
    """How much of the history looks like the plan, what it has never seen, and a confidence word.

    Args:
        model: From `fit_lift_model`.
        plan: The planned cells (category, type and discount_pct are read).

    Returns:
        campaigns and cells fitted; same_category_, same_type_, similar_discount_ and comparable_ (all three at
        once) campaigns and cells; discount_points (the ± window), discount_range (least, most seen; None if
        none), planned_discounts, extrapolated_discount; new_categories (never promoted; '?' for a missing one),
        new_types; loco_coverage, loco_level, loco_mae_lift_points; needed_campaigns and needed_comparable (the
        thresholds of `PlanSettings` behind the word); confidence ('high', 'medium', 'low'),
        confidence_pt ('alta', 'média', 'baixa') and reasons (codes of what lowered it, keys of `TEXTS` under
        'warning.').
    """
    hist, settings = model.cells, model.settings
    categories = set(_categories(plan["category"]))
    types = set(_types(plan["type"]))
    planned = pd.to_numeric(plan["discount_pct"], errors="coerce")
    masks = {"same_category": hist["category"].isin(categories - {None}),
             "same_type": hist["type"].isin(types),
             "similar_discount": _near(hist["discount_pct"], planned, settings.similar_discount_points)}
    masks["comparable"] = masks["same_category"] & masks["same_type"] & masks["similar_discount"]
    out: dict[str, object] = {"campaigns": model.n_campaigns, "cells": model.n_cells}
    for name, mask in masks.items():
        out[f"{name}_campaigns"] = int(hist.loc[mask, "campaign_id"].nunique())
        out[f"{name}_cells"] = int(mask.sum())
    low_high = model.discount_range
    known = planned.dropna()
    out.update({
        "discount_points": settings.similar_discount_points, "discount_range": low_high,
        "planned_discounts": sorted({float(d) for d in known}),
        "extrapolated_discount": bool(low_high is None and len(known)) or bool(
            low_high is not None and ((known < low_high[0]) | (known > low_high[1])).any()),
        "new_categories": sorted("?" if c is None else c for c in categories
                                 if c is None or c not in model.spec.categories),
        "new_types": sorted(types - set(hist["type"])),
        "loco_coverage": model.loco.coverage, "loco_level": model.loco.level,
        "loco_mae_lift_points": model.loco.mae_lift_points})
    out.update(needed_campaigns=settings.low_confidence_campaigns,
               needed_comparable=settings.high_confidence_campaigns)
    out["confidence"], out["reasons"] = _confidence(out, settings)
    out["confidence_pt"] = TEXTS[f"confidence.{out['confidence']}"]["pt"]
    return out


def _near(history: pd.Series, planned: pd.Series, points: float) -> pd.Series:
    """History discounts within `points` of any planned one; a missing discount matches a missing one."""
    values = history.to_numpy(dtype=float)
    near = np.zeros(len(values), dtype=bool)
    for d in planned.dropna().unique():
        near |= np.abs(values - d) <= points
    if planned.isna().any():
        near |= np.isnan(values)
    return pd.Series(near, index=history.index)


def _confidence(support: dict[str, object], settings: PlanSettings) -> tuple[str, list[str]]:
    """'low' when the plan leaves the history or the history is thin, 'high' when it is well trodden."""
    reasons = [code for code, flag in [
        ("new_category", bool(support["new_categories"])), ("new_type", bool(support["new_types"])),
        ("extrapolated_discount", support["extrapolated_discount"]),
        ("few_campaigns", support["campaigns"] < settings.low_confidence_campaigns),
        ("no_comparable", support["comparable_campaigns"] == 0)] if flag]
    if reasons:
        return "low", reasons
    if support["comparable_campaigns"] < settings.high_confidence_campaigns:
        return "medium", ["few_comparable"]
    if support["loco_coverage"] < support["loco_level"] - 0.15:
        return "medium", ["poor_check"]
    return "high", []
