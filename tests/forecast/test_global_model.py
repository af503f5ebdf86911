"""The global model trains on every event day and a weighted sample of ordinary days, and still learns both."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from shelfwise.forecast.candidates import DYNAMIC_FEATURES
from shelfwise.forecast.global_model import SampledLGBMRegressor, training_sample

LEVEL = 10.0
LIFT = 1.8


def planted_days(n: int, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """`n` days: 4% promotion (demand x LIFT), 2% holidays, 1% Black Friday week, the rest ordinary; Poisson."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(["regular", "promo", "holiday", "peak"], size=n, p=[0.93, 0.04, 0.02, 0.01])
    frame = pd.DataFrame(0, index=range(n), columns=DYNAMIC_FEATURES)
    frame["to_christmas"] = 31
    frame["promo"] = (kind == "promo").astype(int)
    frame["holiday"] = (kind == "holiday").astype(int)
    frame["black_friday_week"] = (kind == "peak").astype(int)
    frame["dayofweek"] = rng.integers(0, 7, n)
    y = rng.poisson(LEVEL * np.where(kind == "promo", LIFT, 1.0)).astype(float)
    return frame, y


def test_every_event_day_is_kept_and_ordinary_days_are_sampled_to_the_budget_with_compensating_weights():
    frame, _ = planted_days(200_000)
    regular = (frame[["promo", "holiday", "black_friday_week"]].sum(axis=1) == 0).to_numpy()
    rows, weight = training_sample(frame, regular_rows=20_000)
    kept = np.zeros(len(frame), dtype=bool)
    kept[rows] = True
    assert kept[~regular].all()  # promotions, holidays and peaks: all of them
    assert abs(kept[regular].sum() - 20_000) < 4 * np.sqrt(20_000)  # binomial: within four standard deviations
    assert abs(weight[regular[rows]].sum() - regular.sum()) / regular.sum() < 0.02  # weighted, they count as all
    assert (weight[~regular[rows]] == 1.0).all()
    again_rows, again_weight = training_sample(frame, regular_rows=20_000)
    assert np.array_equal(rows, again_rows) and np.array_equal(weight, again_weight)  # seeded: runs repeat
    assert training_sample(frame, regular_rows=len(frame)) is None  # under the budget: every row, unweighted


def test_the_model_trains_on_the_sample_at_its_weights_and_still_learns_the_level_and_the_promotion_lift():
    class SmallBudget(SampledLGBMRegressor):
        regular_rows = 5_000

    frame, y = planted_days(100_000)
    rows, weight = training_sample(frame, SmallBudget.regular_rows)
    model = SmallBudget(objective="regression", n_estimators=100, learning_rate=0.1, num_leaves=15, verbosity=-1,
                        random_state=0)
    model.fit(frame, y)
    root = model.booster_.dump_model()["tree_info"][0]["tree_structure"]
    assert root["internal_count"] == len(rows) < 15_000  # 5,000 ordinary days and the ~7,000 event days
    assert root["internal_weight"] == pytest.approx(weight.sum())  # at the sample's weights (L2: hessian = weight)
    assert abs(weight.sum() - len(frame)) / len(frame) < 0.02  # which make the sample stand for every day
    regular = frame.iloc[[0]].assign(promo=0, holiday=0, black_friday_week=0)
    level = float(model.predict(regular)[0])
    lift = float(model.predict(regular.assign(promo=1))[0]) / level
    assert abs(level - LEVEL) / LEVEL < 0.05, level
    assert abs(lift - LIFT) / LIFT < 0.05, lift
    mlforecast_like = clone(model).fit(frame, y, sample_weight=np.full(len(frame), 2.0))  # weight_col's weights
    root = mlforecast_like.booster_.dump_model()["tree_info"][0]["tree_structure"]
    assert type(mlforecast_like) is SmallBudget  # sklearn's clone, as mlforecast calls it, keeps the sampling
    assert abs(root["internal_weight"] - 2 * len(frame)) / len(frame) < 0.04  # the caller's weights multiply in
