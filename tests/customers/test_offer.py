"""The offer model against a synthetic world with a known take-up propensity, a pure-noise world and edge cases."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from shelfwise.customers.offer import (
    LIFT_COLUMNS,
    SCORE_COLUMNS,
    VALIDATION_COLUMNS,
    OfferError,
    OfferResult,
    OfferSettings,
    fit_offer,
)

ORIGIN = date(2025, 1, 1)  # the world's features are drawn for this day and drift from it
START = date(2025, 6, 1)  # the offer runs 90 days
END = START + timedelta(days=89)
AS_OF = END + timedelta(days=10)
PACKAGE = "StreamMax Família"
OTHER = "StreamMax Essencial"
DRIVERS = {"cat_cinema_share", "app_share", "age_years"}


class World:
    """Persons whose behaviour drifts slowly, and a package taken up with a known probability.

    `features_at(day)` is a pure function of the day: who had bought by then, with their shares, age and spend as
    of then. The take-up probability is logistic in the cinema share, the app share and the age on ORIGIN, and the
    take-up day is uniform over the offer period; so among people without the package on a day, the chance of
    taking it in a later window grows with that probability, which is therefore the best possible score (the
    oracle).
    """

    def __init__(self, seed: int = 7, n: int = 3000, signal: bool = True) -> None:
        rng = np.random.default_rng(seed)
        joined = np.where(rng.random(n) < 0.85, rng.integers(0, 150, n), rng.integers(150, 230, n))
        self.people = pd.DataFrame({
            "person_id": [f"P{i:05d}" for i in range(n)],
            "first_day": pd.to_datetime(ORIGIN) + pd.to_timedelta(joined, unit="D"),
            "cinema": rng.beta(2, 8, n), "cinema_drift": rng.normal(0, 0.1, n),
            "app": rng.beta(2, 3, n), "age": rng.uniform(18, 70, n), "weekend": rng.beta(3, 5, n),
            "weekend_drift": rng.normal(0, 0.1, n), "spend_per_day": rng.lognormal(2, 0.8, n),
            "noise": rng.normal(0, 1, n), "consent": rng.random(n) < 0.7,
            "store": rng.choice(["S1", "S2", "S3"], n)})
        p = self.people
        logit = (7 * (p["cinema"] - 0.2) + 4 * (p["app"] - 0.4) - 0.05 * (p["age"] - 44) - 1.6).to_numpy()
        self.propensity = pd.Series(1 / (1 + np.exp(-logit)) if signal else np.full(n, 0.2),
                                    index=p["person_id"])
        took = rng.random(n) < self.propensity.to_numpy()
        other = rng.random(n) < 0.1
        self.takeups = pd.concat([
            pd.DataFrame({"person_id": p["person_id"][took], "package": PACKAGE,
                          "start_date": pd.to_datetime(START) + pd.to_timedelta(rng.integers(0, 90, took.sum()),
                                                                                 unit="D")}),
            pd.DataFrame({"person_id": p["person_id"][other], "package": OTHER,
                          "start_date": pd.to_datetime(ORIGIN) + pd.to_timedelta(rng.integers(0, 300, other.sum()),
                                                                                  unit="D")}),
        ], ignore_index=True)

    def features_at(self, day: date) -> pd.DataFrame:
        p = self.people[self.people["first_day"] <= pd.Timestamp(day)]
        years = (day - ORIGIN).days / 365.25
        tenure = (pd.Timestamp(day) - p["first_day"]).dt.days
        subs = self.takeups[self.takeups["start_date"] <= pd.Timestamp(day)].groupby("person_id").size()
        frame = pd.DataFrame({
            "person_id": p["person_id"], "spend_total": p["spend_per_day"] * (tenure + 1),
            "tenure_days": tenure, "weekend_share": (p["weekend"] + p["weekend_drift"] * years).clip(0, 1),
            "cat_cinema_share": (p["cinema"] + p["cinema_drift"] * years).clip(0, 1),
            "app_share": (p["app"] + 0.1 * years).clip(0, 1), "age_years": p["age"] + years,
            "noise": p["noise"], "favourite_store": p["store"],
            "subscriptions_active": p["person_id"].map(subs).fillna(0).astype("int64"),
            "consent_marketing": p["consent"], "as_of": day})
        if day >= START + timedelta(days=40):  # a category first sold during the offer: only in later frames
            frame["cat_novidade_share"] = 0.05
        return frame.reset_index(drop=True)


@pytest.fixture(scope="module")
def world() -> World:
    return World()


@pytest.fixture(scope="module")
def result(world) -> OfferResult:
    return fit_offer(world.features_at, world.takeups, package=PACKAGE, as_of=AS_OF)


def test_held_out_auc_is_close_to_the_oracle_and_beats_random(world, result):
    oracle = roc_auc_score(result.validation["took"], result.validation["person_id"].map(world.propensity))
    print(f"model AUC {result.auc:.3f}, oracle {oracle:.3f}, interval {result.metrics['auc_interval_95']}")
    assert result.auc_reason is None
    assert result.auc >= 0.7
    assert abs(result.auc - oracle) <= 0.05
    assert result.metrics["auc_interval_95"][0] > 0.6


def test_validation_rows_follow_the_time_split(world, result):
    split = date.fromisoformat(result.metrics["split_date"])
    assert result.metrics["period_start"] == START.isoformat() and result.metrics["period_end"] == END.isoformat()
    assert split == START + timedelta(days=54)  # the last 36 of 90 days are held out
    mine = world.takeups[world.takeups["package"] == PACKAGE]
    had = set(mine.loc[mine["start_date"] < pd.Timestamp(split), "person_id"])
    seen = set(world.features_at(split - timedelta(days=1))["person_id"])
    assert set(result.validation["person_id"]) == seen - had
    late = set(mine.loc[mine["start_date"] >= pd.Timestamp(split), "person_id"])
    assert set(result.validation.loc[result.validation["took"] == 1, "person_id"]) == late & (seen - had)
    assert result.metrics["validation_takeups"] == len(late & (seen - had))
    assert result.metrics["train_rows"] == len(world.features_at(START - timedelta(days=1)))
    assert list(result.validation.columns) == VALIDATION_COLUMNS


def test_top_decile_lift_and_capture(result):
    lift = result.lift
    assert list(lift.columns) == LIFT_COLUMNS and list(lift["decile"]) == list(range(1, 11))
    assert lift["persons"].sum() == len(result.validation)
    assert lift.loc[0, "lift"] > 2
    assert lift["cumulative_capture"].is_monotonic_increasing and lift["cumulative_capture"].iloc[-1] == 1
    rate = result.validation["took"].mean()
    assert lift.loc[0, "rate"] / rate == pytest.approx(lift.loc[0, "lift"])


def test_true_drivers_rank_highest(result):
    importances = result.metrics["importances"]
    assert set(list(importances)[:3]) == DRIVERS
    assert all(importances[name] > 0.02 for name in DRIVERS)
    assert "consent_marketing" not in result.metrics["features"] and "favourite_store" not in result.metrics["features"]
    assert "as_of" not in result.metrics["features"] and "cat_novidade_share" in result.metrics["features"]


def test_people_with_the_package_are_kept_but_not_scored(world, result):
    scores = result.scores
    assert list(scores.columns) == SCORE_COLUMNS
    assert scores.dtypes.astype(str).tolist() == ["object", "float64", "Int64", "bool"]
    everyone = world.features_at(AS_OF)
    assert list(scores["person_id"]) == list(everyone["person_id"])
    has = set(world.takeups.loc[world.takeups["package"] == PACKAGE, "person_id"])
    assert set(scores.loc[scores["has_package"], "person_id"]) == has & set(everyone["person_id"])
    assert scores.loc[scores["has_package"], ["score", "decile"]].isna().all().all()
    open_rows = scores[~scores["has_package"]]
    assert open_rows["score"].between(0, 1).all() and open_rows["decile"].notna().all()
    assert open_rows["decile"].value_counts().sort_index().between(0.09 * len(open_rows), 0.11 * len(open_rows)).all()
    assert open_rows.groupby("decile")["score"].min().is_monotonic_decreasing
    assert result.metrics["scored_persons"] == len(open_rows)


def test_scores_rank_open_people_by_their_true_propensity(world, result):
    open_rows = result.scores[~result.scores["has_package"]]
    truth = open_rows["person_id"].map(world.propensity)
    assert open_rows["score"].corr(truth, method="spearman") > 0.6


def test_other_packages_do_not_count_and_any_package_pools_them(world):
    anything = fit_offer(world.features_at, world.takeups, package=None, as_of=AS_OF)
    assert anything.metrics["takeups"] == (world.takeups["start_date"] <= pd.Timestamp(AS_OF)).sum()
    assert anything.metrics["period_start"] == world.takeups["start_date"].min().date().isoformat()
    assert anything.scores["has_package"].sum() > 0


def test_a_pure_noise_world_scores_like_a_coin():
    noise = World(seed=11, signal=False)
    found = fit_offer(noise.features_at, noise.takeups, package=PACKAGE, as_of=AS_OF)
    print(f"noise AUC {found.auc:.3f}, interval {found.metrics['auc_interval_95']}")
    assert found.auc == pytest.approx(0.5, abs=0.08)
    low, high = found.metrics["auc_interval_95"]
    assert low < 0.5 < high


def test_features_are_read_only_the_day_before_each_label_window_and_on_as_of(world, result):
    days = []

    def recording(day: date) -> pd.DataFrame:
        days.append(day)
        return world.features_at(day)

    again = fit_offer(recording, world.takeups, package=PACKAGE, as_of=AS_OF)
    split = date.fromisoformat(result.metrics["split_date"])
    assert days == [START - timedelta(days=1), split - timedelta(days=1), AS_OF]
    pd.testing.assert_frame_equal(again.scores, result.scores)  # and the same seed gives the same scores


def test_an_unknown_package_names_the_ones_that_exist(world):
    with pytest.raises(OfferError, match=r"no take-ups of package 'Netflix'.*'StreamMax Família' \(\d+\).*"
                                         r"'StreamMax Essencial' \(\d+\)"):
        fit_offer(world.features_at, world.takeups, package="Netflix", as_of=AS_OF)
    with pytest.raises(OfferError, match="packages taken up \\(take-ups\\): none"):
        fit_offer(world.features_at, world.takeups.iloc[:0], package=None, as_of=AS_OF)


def test_take_ups_after_as_of_are_not_read(world):
    with pytest.raises(OfferError, match=f"no take-ups of package '{PACKAGE}' on or before {START - timedelta(1)}"):
        fit_offer(world.features_at, world.takeups, package=PACKAGE, as_of=START - timedelta(days=1))


def test_missing_takeup_columns_are_named(world):
    with pytest.raises(OfferError, match="takeups lacks column\\(s\\) start_date"):
        fit_offer(world.features_at, world.takeups.drop(columns="start_date"), package=PACKAGE, as_of=AS_OF)
    with pytest.raises(OfferError, match="features_at\\(2025-05-31\\) returned no person_id column"):
        fit_offer(lambda day: world.features_at(day).drop(columns="person_id"), world.takeups, package=PACKAGE,
                  as_of=AS_OF)


def test_too_few_take_ups_fit_on_all_without_an_auc(world):
    mine = world.takeups[world.takeups["package"] == PACKAGE].sort_values("person_id").head(15)
    found = fit_offer(world.features_at, mine, package=PACKAGE, as_of=AS_OF)
    assert found.auc is None
    assert found.auc_reason.startswith("too few take-ups for a time-based check: 15 (")
    assert found.lift.empty and found.validation.empty and found.metrics["importances"] == {}
    assert found.metrics["fit_takeups"] == 15
    assert found.scores.loc[~found.scores["has_package"], "score"].notna().all()


def test_a_single_class_gives_a_constant_score(world):
    strangers = pd.DataFrame({"person_id": ["X1", "X2"], "package": PACKAGE,
                              "start_date": [START, END]})  # take-ups of people nobody has features for
    found = fit_offer(world.features_at, strangers, package=PACKAGE, as_of=AS_OF)
    assert found.auc is None and found.auc_reason.startswith("too few take-ups for a time-based check: 0 (")
    assert found.metrics["model"].startswith("constant take-up rate 0.0000")
    assert (found.scores["score"] == 0).all() and not found.scores["has_package"].any()


def test_one_person(world):
    one = World(seed=3, n=1)
    one.people["first_day"] = pd.Timestamp(ORIGIN)
    takeups = pd.DataFrame({"person_id": ["P00000"], "package": PACKAGE, "start_date": [START + timedelta(days=70)]})
    found = fit_offer(one.features_at, takeups, package=PACKAGE, as_of=AS_OF)
    assert found.auc is None and found.auc_reason.startswith("no later time for a time-based check: all 1 take-up")
    assert found.scores["has_package"].tolist() == [True] and found.scores["score"].isna().all()
    before = fit_offer(one.features_at, takeups, package=PACKAGE, as_of=START + timedelta(days=70))
    assert before.scores["has_package"].tolist() == [True]


def test_constant_features_give_a_coin_and_no_crash(world):
    def flat(day: date) -> pd.DataFrame:
        frame = world.features_at(day)[["person_id", "consent_marketing"]]
        return frame.assign(receipts=3, spend_total=100.0, age_years=np.nan)

    found = fit_offer(flat, world.takeups, package=PACKAGE, as_of=AS_OF)
    assert found.auc == pytest.approx(0.5)
    scored = found.scores.loc[~found.scores["has_package"], "score"]
    assert scored.nunique() == 1
    assert set(found.metrics["importances"].values()) == {0.0}


def test_no_feature_columns_give_a_constant_score(world):
    found = fit_offer(lambda day: world.features_at(day)[["person_id", "consent_marketing"]], world.takeups,
                      package=PACKAGE, as_of=AS_OF)
    assert found.metrics["model"].endswith("(no numeric feature columns)")
    assert found.auc == pytest.approx(0.5) and found.metrics["importances"] == {}


def test_nobody_before_the_offer_is_a_clear_error(world):
    with pytest.raises(OfferError, match="nobody has person features on or before"):
        fit_offer(lambda day: world.features_at(day).iloc[:0], world.takeups, package=PACKAGE, as_of=AS_OF)


def test_large_populations_are_sampled_for_the_fit_and_scored_in_chunks(world):
    small = OfferSettings(max_train_rows=1000, score_chunk_rows=700, importance_max_rows=500)
    found = fit_offer(world.features_at, world.takeups, package=PACKAGE, as_of=AS_OF, settings=small)
    assert found.metrics["train_rows_used"] == 1000 and found.metrics["fit_rows_used"] == 1000
    assert found.metrics["fit_rows"] > 1000
    assert found.auc > 0.65
    assert found.scores.loc[~found.scores["has_package"], "score"].notna().all()


@pytest.mark.parametrize("change", [{"validation_share": 1.0}, {"min_positives": 0}, {"max_train_rows": 1}])
def test_settings_are_checked(change):
    with pytest.raises(OfferError):
        OfferSettings(**change)
