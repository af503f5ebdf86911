"""Campaign planning against synthetic histories with a planted lift, and the edge cases of small history."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from shelfwise.demo.seasons import black_friday as demo_black_friday
from shelfwise.promo.planning import (
    LOCO_COLUMNS,
    PLAN_COLUMNS,
    PREDICTION_COLUMNS,
    TEXTS,
    LiftModel,
    NotEnoughHistory,
    PlanError,
    PlanSettings,
    black_friday,
    describe,
    fit_lift_model,
    history_support,
    plan_summary,
    predict_plan,
)

CATEGORY_EFFECT = {"mercearia": 0.0, "bebidas": 0.15, "limpeza": -0.05, "higiene": 0.08, "frios": 0.12,
                   "bazar": -0.10}
TYPE_EFFECT = {"discount": 0.0, "display": 0.12, "coupon": -0.06, "bundle": 0.04, "partnership": 0.08}
INTERCEPT = 0.0
PER_POINT = 0.015  # log-lift per discount point: 20% off → +0.30, a lift of about 35% before the rest
PEAK = 0.2  # all days in Black Friday week or the run-up to Christmas
CAMPAIGN_SD = 0.15
CELL_SD = 0.05  # cell heterogeneity; count noise comes on top, larger for small cells
DISCOUNTS = np.arange(10, 45, 5)


def peak_share(start: pd.Timestamp, days: int) -> float:
    window = pd.date_range(start, periods=days)
    friday = pd.Timestamp(black_friday(start.year))
    peak = ((window >= friday - pd.Timedelta(days=4)) & (window <= friday + pd.Timedelta(days=2))) | (
        (window.month == 12) & (window.day <= 24))
    return float(peak.mean())


def systematic(category: str, kind: str, discount: float, start: pd.Timestamp, days: int) -> float:
    """The planted log-lift of a cell but for its campaign's and its own effect (a display's discount is 0)."""
    depth = 0.0 if np.isnan(discount) else discount
    return INTERCEPT + CATEGORY_EFFECT[category] + TYPE_EFFECT[kind] + PER_POINT * depth + PEAK * peak_share(
        start, days)


class World:
    """Campaigns drawn from the planted truth; `history` measures them, `plans` only plans them."""

    def __init__(self, seed: int, categories: tuple[str, ...] = tuple(CATEGORY_EFFECT)) -> None:
        self.rng = np.random.default_rng(seed)
        self.categories = categories

    def campaign(self, name: str) -> list[dict[str, object]]:
        rng = self.rng
        kind = str(rng.choice(list(TYPE_EFFECT), p=[0.45, 0.15, 0.15, 0.15, 0.10]))
        discount = np.nan if kind in ("display", "partnership") else float(rng.choice(DISCOUNTS))
        if kind == "partnership" and rng.random() < 0.5:
            discount = float(rng.choice(DISCOUNTS))
        start = pd.Timestamp(date(2023, 1, 1)) + pd.Timedelta(days=int(rng.integers(0, 700)))
        if rng.random() < 0.15:  # the peaks are rare but present
            start = pd.Timestamp(black_friday(int(rng.choice([2023, 2024])))) - pd.Timedelta(days=6)
        days = int(rng.integers(5, 15))
        category = str(rng.choice(self.categories))
        shock = rng.normal(0, CAMPAIGN_SD)
        rows = []
        for cell in range(int(rng.integers(3, 13))):
            baseline = float(rng.lognormal(np.log(60), 1.0)) + 2
            truth = systematic(category, kind, discount, start, days)
            realised = truth + shock + rng.normal(0, CELL_SD)
            rows.append({"campaign_id": name, "store_id": f"S{cell % 5}", "product_id": f"P{cell}",
                         "category": category, "type": kind, "discount_pct": discount, "start_date": start,
                         "days": days, "baseline_units": baseline, "systematic": truth, "realised": realised})
        return rows

    def history(self, campaigns: int) -> pd.DataFrame:
        frame = pd.DataFrame([row for i in range(campaigns) for row in self.campaign(f"C{i:03d}")])
        rng = self.rng
        frame["actual_units"] = rng.poisson(frame["baseline_units"] * np.exp(frame["realised"])).astype(float)
        frame["lift_pct"] = 100 * (frame["actual_units"] / frame["baseline_units"] - 1)
        frame["lift_se"] = np.sqrt(1 / np.maximum(frame["actual_units"], 1) + 0.02**2)
        frame.loc[rng.random(len(frame)) < 0.2, "lift_se"] = np.nan
        frame["end_date"] = frame["start_date"] + pd.to_timedelta(frame["days"] - 1, unit="D")
        frame["status"] = "ok"
        return frame.drop(columns=["days", "systematic", "realised"])

    def plan(self, name: str) -> pd.DataFrame:
        frame = pd.DataFrame(self.campaign(name))
        frame["unit_price"] = self.rng.uniform(3, 30, len(frame)).round(2)
        frame["unit_cost"] = (frame["unit_price"] * self.rng.uniform(0.5, 0.8, len(frame))).round(2)
        frame["sold"] = self.rng.poisson(frame["baseline_units"] * np.exp(frame["realised"])).astype(float)
        return frame


def plan_of(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[PLAN_COLUMNS]


def simple_plan(category: str = "bebidas", kind: str = "discount", discount: float = 20.0, cells: int = 6,
                start: str = "2025-03-10", days: int = 10) -> pd.DataFrame:
    return pd.DataFrame({"store_id": [f"S{i}" for i in range(cells)], "product_id": "P1", "category": category,
                         "type": kind, "discount_pct": discount, "start_date": pd.Timestamp(start), "days": days,
                         "baseline_units": 100.0, "unit_price": 10.0, "unit_cost": 6.0})


@pytest.fixture(scope="module")
def world_model() -> tuple[World, LiftModel]:
    world = World(seed=11)
    return world, fit_lift_model(world.history(36))


@pytest.fixture(scope="module")
def worlds() -> list[tuple[World, LiftModel]]:
    """Three histories of 36 campaigns from the same truth, each with its fitted model."""
    fitted = []
    for seed in (11, 12, 13):
        world = World(seed)
        fitted.append((world, fit_lift_model(world.history(36))))
    return fitted


def held_out_outcomes(world: World, model: LiftModel, campaigns: int) -> pd.DataFrame:
    rows = []
    for i in range(campaigns):
        planned = world.plan(f"H{i:03d}")
        summary = plan_summary(predict_plan(model, plan_of(planned)), cost=None, draws=2000, seed=i)
        baseline = planned["baseline_units"]
        rows.append({"predicted": summary["lift_pct"],
                     "systematic": 100 * ((baseline * np.exp(planned["systematic"])).sum() / baseline.sum() - 1),
                     "realised": 100 * ((baseline * np.exp(planned["realised"])).sum() / baseline.sum() - 1),
                     "true_incremental": (planned["sold"] - baseline).sum(),
                     "low": summary["incremental_units_low"], "high": summary["incremental_units_high"]})
    return pd.DataFrame(rows)


def test_predicts_held_out_campaigns_and_covers_them(worlds):
    outcomes = pd.concat([held_out_outcomes(world, model, 35) for world, model in worlds], ignore_index=True)
    error = (outcomes["predicted"] - outcomes["systematic"]).abs()
    realised = (outcomes["predicted"] - outcomes["realised"]).abs()
    covered = (outcomes["true_incremental"] >= outcomes["low"]) & (outcomes["true_incremental"] <= outcomes["high"])
    print(f"\n{len(outcomes)} held-out campaigns: median |lift error| {error.median():.1f} points against the "
          f"planted lift, {realised.median():.1f} against the campaign's own (campaign effect included); "
          f"90% intervals cover {covered.mean():.3f} of the units sold over baseline")
    assert error.median() < 12
    assert 0.80 <= covered.mean() <= 0.97


def test_recovers_the_planted_discount_slope(worlds):
    for _, model in worlds:
        per_point = model.coef[model.terms.index("discount")] / model.spec.discount[1]
        assert abs(per_point - PER_POINT) < 0.005
        assert model.campaign_var**0.5 == pytest.approx(CAMPAIGN_SD, abs=0.05)


def test_leave_one_campaign_out_figures(worlds):
    _, model = worlds[0]
    loco = model.loco
    assert (loco.n_campaigns, model.n_campaigns) == (36, 36)
    assert loco.n_cells == model.n_cells == len(model.cells)
    assert list(loco.campaigns.columns) == LOCO_COLUMNS and len(loco.campaigns) == 36
    assert 0.75 <= loco.coverage <= 1.0
    assert 5 < loco.mae_lift_points < 40
    assert 0.7 < model.interval_scale < 1.5
    assert loco.campaigns["cells"].sum() == loco.n_cells


def test_deeper_discount_predicts_more_lift(worlds):
    _, model = worlds[0]
    lifts, units = [], []
    for discount in range(10, 45, 5):
        cells = predict_plan(model, simple_plan(discount=float(discount)))
        lifts.append(cells["lift_pct"].mean())
        units.append(plan_summary(cells, cost=None)["incremental_units"])
    assert np.all(np.diff(lifts) > 0) and np.all(np.diff(units) > 0)


def test_black_friday_week_predicts_more_lift(worlds):
    for _, model in worlds:
        peak = predict_plan(model, simple_plan(start="2025-11-24", days=7))  # Monday to Sunday of Black Friday
        march = predict_plan(model, simple_plan(start="2025-03-10", days=7))
        assert peak["lift_pct"].mean() > march["lift_pct"].mean() + 10


def test_cells_hold_the_documented_columns_and_money(worlds):
    _, model = worlds[0]
    plan = simple_plan()
    cells = predict_plan(model, plan, level=0.8)
    assert list(cells.columns) == PLAN_COLUMNS + PREDICTION_COLUMNS
    assert (cells["lift_low"] < cells["lift_pct"]).all() and (cells["lift_pct"] < cells["lift_high"]).all()
    promo_price = plan["unit_price"] * (1 - plan["discount_pct"] / 100)
    units = cells["expected_units"]
    np.testing.assert_allclose(cells["incremental_units"], units - plan["baseline_units"])
    np.testing.assert_allclose(cells["incremental_revenue"], units * promo_price - plan["baseline_units"] * 10.0)
    np.testing.assert_allclose(cells["incremental_margin"],
                               units * (promo_price - 6.0) - plan["baseline_units"] * (10.0 - 6.0))
    wider = predict_plan(model, plan, level=0.95)
    assert (wider["lift_high"] - wider["lift_low"] > cells["lift_high"] - cells["lift_low"]).all()


def test_roi_on_a_hand_computed_campaign():
    # cell 1: 100 baseline units at R$ 10 (cost 5), 20% off, +50% → 150 units at R$ 8:
    #   revenue 150·8 − 100·10 = 200; margin 150·(8 − 5) − 100·(10 − 5) = −50
    # cell 2: a display (no discount), 50 units at R$ 4 (cost 1), +20% → 60 units:
    #   revenue 60·4 − 50·4 = 40; margin 60·3 − 50·3 = 30
    cells = pd.DataFrame({"baseline_units": [100.0, 50.0], "unit_price": [10.0, 4.0], "unit_cost": [5.0, 1.0],
                          "discount_pct": [20.0, np.nan], "log_lift": np.log([1.5, 1.2]), "sd_shared": 0.0,
                          "sd_cell": 0.0})
    summary = plan_summary(cells, cost=100.0, loss_per_unit=0.5)
    assert summary["incremental_units"] == pytest.approx(60.0)
    assert summary["lift_pct"] == pytest.approx(40.0)
    assert summary["incremental_revenue"] == pytest.approx(240.0)
    assert summary["incremental_margin"] == pytest.approx(-20.0)
    assert summary["roi_gross"] == pytest.approx((-20.0 - 100.0) / 100.0)
    # the dip and cannibalisation of past campaigns cost 0.50 of margin per incremental unit: 60 · 0.5 = 30
    assert summary["roi_net"] == pytest.approx((-20.0 - 30.0 - 100.0) / 100.0)
    assert summary["roi_gross_low"] == pytest.approx(-1.2) and summary["roi_net_high"] == pytest.approx(-1.5)
    no_cost = plan_summary(cells, cost=None)
    assert no_cost["roi_net"] is None and no_cost["roi_gross_low"] is None
    with pytest.raises(PlanError, match="cost"):
        plan_summary(cells, cost=0.0)


def test_campaign_totals_keep_the_shared_effect(worlds):
    _, model = worlds[0]
    cells = predict_plan(model, simple_plan(cells=300))
    summary = plan_summary(cells, cost=None)
    independent = cells.assign(sd_cell=np.hypot(cells["sd_shared"], cells["sd_cell"]), sd_shared=0.0)
    naive = plan_summary(independent, cost=None)
    width = np.log((100 + summary["lift_pct_high"]) / (100 + summary["lift_pct_low"]))
    naive_width = np.log((100 + naive["lift_pct_high"]) / (100 + naive["lift_pct_low"]))
    assert width > 2 * 1.64 * 0.9 * model.campaign_var**0.5  # a thousand cells cannot average the campaign away
    assert naive_width < width / 4
    assert summary["incremental_units_low"] < summary["incremental_units"] < summary["incremental_units_high"]


def test_unseen_category_is_wider_and_flagged():
    world = World(21, categories=("mercearia", "bebidas", "limpeza", "higiene", "frios"))
    model = fit_lift_model(world.history(30))
    seen = predict_plan(model, simple_plan(category="frios"))
    unseen = predict_plan(model, simple_plan(category="bazar"))
    assert not unseen["category_seen"].any() and seen["category_seen"].all()
    assert (np.hypot(unseen["sd_shared"], unseen["sd_cell"]) > np.hypot(seen["sd_shared"], seen["sd_cell"])).all()
    assert (unseen["lift_high"] - unseen["lift_low"]).mean() > (seen["lift_high"] - seen["lift_low"]).mean()
    support = history_support(model, simple_plan(category="bazar"))
    assert support["new_categories"] == ["bazar"] and support["same_category_campaigns"] == 0
    assert (support["confidence"], support["confidence_pt"]) == ("low", "baixa")
    assert "new_category" in support["reasons"]
    lines = describe(plan_summary(unseen, cost=None), support, "pt")
    assert any("nunca promovida" in line and "bazar" in line for line in lines)
    assert "Confiança: baixa" in lines


def test_extrapolated_discount_is_flagged(worlds):
    _, model = worlds[0]
    assert model.discount_range == (10.0, 40.0)
    inside = history_support(model, simple_plan(discount=25.0))
    outside = history_support(model, simple_plan(discount=60.0))
    assert not inside["extrapolated_discount"] and outside["extrapolated_discount"]
    assert outside["confidence"] == "low" and "extrapolated_discount" in outside["reasons"]
    lines = describe(plan_summary(predict_plan(model, simple_plan(discount=60.0)), cost=500.0), outside, "en")
    assert any("outside the discounts seen (10% to 40%)" in line for line in lines)
    assert any(line.startswith("Gross ROI") for line in lines)


def test_support_counts_match_the_history(worlds):
    _, model = worlds[0]
    history = model.cells
    plan = pd.concat([simple_plan(category="bebidas"), simple_plan(category="frios")], ignore_index=True)
    support = history_support(model, plan)
    same_category = history["category"].isin(["bebidas", "frios"])
    same_type = history["type"] == "discount"
    near = (history["discount_pct"] - 20).abs() <= 5
    for name, mask in {"same_category": same_category, "same_type": same_type, "similar_discount": near,
                       "comparable": same_category & same_type & near}.items():
        assert support[f"{name}_campaigns"] == history.loc[mask, "campaign_id"].nunique()
        assert support[f"{name}_cells"] == mask.sum()
    assert (support["campaigns"], support["cells"]) == (36, len(history))


def test_a_well_trodden_plan_gets_high_confidence(worlds):
    _, model = worlds[0]
    plan = pd.concat([simple_plan(category=c) for c in CATEGORY_EFFECT], ignore_index=True)
    support = history_support(model, plan)
    assert support["comparable_campaigns"] >= 5
    assert (support["confidence"], support["confidence_pt"], support["reasons"]) == ("high", "alta", [])
    assert "Confidence: high" in describe(plan_summary(predict_plan(model, plan), cost=None), support, "en")


def test_fewer_than_five_campaigns_is_refused():
    history = World(5).history(7)
    failed = history["campaign_id"].isin(["C004", "C005", "C006"])
    history.loc[failed, "status"] = "failed"
    with pytest.raises(NotEnoughHistory) as refused:
        fit_lift_model(history)
    assert (refused.value.found, refused.value.needed) == (4, 5)
    assert "4" in str(refused.value) and "5" in str(refused.value)
    assert "4 campanha(s)" in refused.value.message("pt") and "pelo menos 5" in refused.value.message("pt")
    history.loc[history["campaign_id"] == "C004", "status"] = "ok"
    model = fit_lift_model(history)  # five is enough to fit, not to trust
    support = history_support(model, simple_plan())
    assert support["campaigns"] == 5 and support["confidence"] == "low" and "few_campaigns" in support["reasons"]


def test_missing_discounts_and_types_are_handled():
    world = World(31)
    history = world.history(25)
    campaigns = history["campaign_id"].unique()
    history.loc[history["campaign_id"].isin(campaigns[:3]), "type"] = None
    history.loc[history["campaign_id"].isin(campaigns[3:6]), "discount_pct"] = np.nan
    history.loc[history["campaign_id"] == campaigns[6], "type"] = ""
    history = history.drop(columns=["lift_se"]).assign(level="cell")
    junk = history.iloc[:20].assign(campaign_id="BROKEN", actual_units=1e6, status="no_baseline")
    totals = history.iloc[:5].assign(level="campaign", store_id=None, actual_units=1e6)  # promo_lift's total rows
    model = fit_lift_model(pd.concat([history, junk, totals], ignore_index=True))
    assert np.isfinite(model.coef).all() and model.noise_per_unit == 1.0
    assert model.n_campaigns == 25 and model.n_cells == len(history)
    assert "BROKEN" not in set(model.cells["campaign_id"])
    assert (model.cells["type"] == "unknown").any()
    plan = simple_plan(kind=None, discount=np.nan)
    cells = predict_plan(model, plan)
    assert np.isfinite(cells[PREDICTION_COLUMNS[:13]].to_numpy(dtype=float)).all()
    np.testing.assert_allclose(cells["incremental_revenue"],
                               (cells["expected_units"] - plan["baseline_units"]) * plan["unit_price"])
    support = history_support(model, plan)
    assert not support["extrapolated_discount"]
    assert support["similar_discount_cells"] == int(model.cells["discount_pct"].isna().sum())


def test_bad_inputs_name_the_fix(worlds):
    _, model = worlds[0]
    with pytest.raises(PlanError, match="lacks column"):
        predict_plan(model, simple_plan().drop(columns=["unit_cost"]))
    with pytest.raises(PlanError, match="baseline_units must be above 0"):
        predict_plan(model, simple_plan().assign(baseline_units=0.0))
    with pytest.raises(PlanError, match="unknown promotion type"):
        predict_plan(model, simple_plan(kind="flash sale"))
    with pytest.raises(PlanError, match=r"lacks column\(s\) category"):
        fit_lift_model(World(1).history(6).drop(columns=["category"]))
    with pytest.raises(PlanError, match="min_campaigns"):
        PlanSettings(min_campaigns=1)


def test_texts_have_both_languages_and_numbers_follow_the_reader(worlds):
    assert all(set(texts) == {"pt", "en"} for texts in TEXTS.values())
    assert {TEXTS[f"confidence.{k}"]["pt"] for k in ("high", "medium", "low")} == {"alta", "média", "baixa"}
    _, model = worlds[0]
    plan = simple_plan(cells=40).assign(baseline_units=1000.0)
    summary = plan_summary(predict_plan(model, plan), cost=2500.0)
    pt, en = (describe(summary, history_support(model, plan), language) for language in ("pt", "en"))
    assert len(pt) == len(en) >= 8
    assert pt[1].startswith("Unidades incrementais") and "40.000" in pt[1] and "40,000" in en[1]
    assert pt[4].startswith("ROI bruto") and "R$ 2.500,00" in pt[4]


def test_black_friday_matches_the_demo_calendar():
    for year in range(2015, 2031):
        assert black_friday(year) == demo_black_friday(year)
