"""Segmentation against planted truth: synthetic persons from latent segments with known behaviour, no mocks.

Two worlds: a mall whose category names are not the demo's (brinquedos, vestuario, drogaria, informatica...) and a
grocery chain with English categories and no visits, ages or app data -- the persona rules must read both.
"""

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import check_estimator

from shelfwise.customers.personas import PERSONAS
from shelfwise.customers.segments import (
    CustomerSegmenter,
    DensityClusters,
    SegmentSettings,
    segment_customers,
)

FAST = SegmentSettings(bootstrap_rounds=5, sample_size=5_000)


@dataclass(frozen=True)
class Planted:
    """A latent segment: the behaviour its persons are drawn around."""

    code: str
    share: float
    per_month: float = 1.8
    ticket: float = 100.0
    weekend: float = 0.35
    hours: tuple[float, float, float, float] = (0.2, 0.25, 0.35, 0.2)  # morning, lunch, afternoon, evening
    promo: float = 0.15
    app: float = 0.5
    dwell: float = 80.0
    categories: dict[str, float] = field(default_factory=dict)  # preference weights; others weigh 0.15
    ages: tuple[int, int] = (25, 65)


MALL = ("cinema", "brinquedos", "vestuario", "mercado", "drogaria", "praca_de_alimentacao", "informatica", "joias",
        "perfumaria", "papelaria")
MALL_SEGMENTS = (
    Planted("weekend_family", 0.22, per_month=1.6, ticket=130, weekend=0.7, hours=(0.1, 0.3, 0.5, 0.1), dwell=150,
            categories={"brinquedos": 3, "praca_de_alimentacao": 2.5, "cinema": 1, "vestuario": 1}, ages=(30, 50)),
    Planted("premium", 0.16, per_month=1.1, ticket=250, weekend=0.45, promo=0.05, app=0.35,
            categories={"joias": 2.5, "informatica": 2.5, "vestuario": 2, "perfumaria": 1.5}, ages=(35, 68)),
    Planted("deal_hunter", 0.24, per_month=2.5, ticket=55, weekend=0.4, promo=0.45, app=0.8,
            categories={"vestuario": 2, "mercado": 2, "drogaria": 1.5, "praca_de_alimentacao": 1.5}),
    Planted("young_entertainment", 0.18, per_month=2.0, ticket=70, weekend=0.5, hours=(0.03, 0.15, 0.27, 0.55),
            app=0.75, dwell=120, categories={"cinema": 3, "praca_de_alimentacao": 2.5, "informatica": 1.2},
            ages=(18, 27)),
    Planted("weekday_routine", 0.20, per_month=3.2, ticket=80, weekend=0.1, hours=(0.25, 0.45, 0.1, 0.2), promo=0.08,
            app=0.3, dwell=30, categories={"mercado": 3, "drogaria": 3, "praca_de_alimentacao": 1.5}),
)
MALL_NAMES = {"weekend_family": ("Família de fim de semana", "Weekend family"), "premium": ("Premium", "Premium"),
              "deal_hunter": ("Caçador de ofertas", "Deal hunter"),
              "young_entertainment": ("Jovem entretenimento", "Young entertainment"),
              "weekday_routine": ("Rotina de semana", "Weekday routine")}

GROCERY = ("produce", "bakery", "dairy", "meat", "frozen", "beverages", "wine", "snacks", "household", "personal_care",
           "baby", "toys", "pet", "pharmacy", "stationery", "books", "electronics", "deli", "seafood", "cereals",
           "canned", "pasta", "sweets", "coffee_tea", "spices", "cleaning", "paper_goods", "garden", "automotive",
           "seasonal")
GROCERY_SEGMENTS = (
    Planted("deal_hunter", 0.3, per_month=2.5, ticket=45, promo=0.5,
            categories={"canned": 2, "pasta": 2, "cleaning": 2, "paper_goods": 1.5}),
    Planted("premium", 0.2, per_month=1.5, ticket=250, promo=0.05,
            categories={"wine": 3, "deli": 2.5, "seafood": 2, "coffee_tea": 1.5}),
    Planted("weekend_family", 0.25, per_month=1.8, weekend=0.72, hours=(0.15, 0.2, 0.5, 0.15),
            categories={"baby": 3, "toys": 2, "snacks": 2, "dairy": 1.5}),
    # no marketing signature: mornings and stationery, average otherwise
    Planted("morning_stationery", 0.25, per_month=1.8, hours=(0.6, 0.15, 0.15, 0.1),
            categories={"stationery": 3, "books": 2.5, "bakery": 1}),
)
GROCERY_LACKS = ("visit_days", "avg_dwell_minutes", "age_years", "app_share", "subscriptions_active")


def _beta(rng, mean, concentration, n):
    mean = np.clip(mean, 0.01, 0.99)
    return rng.beta(mean * concentration, (1 - mean) * concentration, n)


def _counts(rng, receipts, probabilities):
    """Receipts spread over categories (or hours) by each person's own probabilities."""
    return np.array([rng.multinomial(r, p) for r, p in zip(receipts, probabilities, strict=True)])


def _persons(rng, s: Planted, categories, n):
    months = rng.uniform(3, 12, n)
    receipts = 1 + rng.poisson(s.per_month * months * rng.lognormal(0, 0.3, n))
    hours = _counts(rng, receipts, rng.dirichlet(np.array(s.hours) * 12, n)) / receipts[:, None]
    prefs = np.array([s.categories.get(c, 0.15) for c in categories])
    cats = _counts(rng, receipts, rng.dirichlet(prefs / prefs.sum() * 8, n)) / receipts[:, None]
    ticket = s.ticket * rng.lognormal(0, 0.35, n)
    dwell = np.where(rng.random(n) < 0.4, np.nan, s.dwell * rng.lognormal(0, 0.4, n))  # no Wi-Fi: unknown
    age = np.where(rng.random(n) < 0.5, np.nan, rng.uniform(*s.ages, n))
    tenure = months * 30.4
    return pd.DataFrame({
        "receipts": receipts, "active_days": receipts, "spend_total": ticket * receipts, "avg_ticket": ticket,
        "receipts_per_month": receipts / months,
        "recency_days": np.minimum(rng.exponential(30.4 / s.per_month, n), tenure), "tenure_days": tenure,
        "weekend_share": rng.binomial(receipts, _beta(rng, s.weekend, 12, n)) / receipts,
        "hour_morning_share": hours[:, 0], "hour_lunch_share": hours[:, 1], "hour_afternoon_share": hours[:, 2],
        "hour_evening_share": hours[:, 3], "favourite_store_share": _beta(rng, 0.4, 5, n),
        "stores_visited": 1 + rng.poisson(3, n), **{f"cat_{c}_share": cats[:, i] for i, c in enumerate(categories)},
        "promo_share": rng.binomial(receipts, _beta(rng, s.promo, 10, n)) / receipts,
        "visit_days": receipts + rng.poisson(2, n), "avg_dwell_minutes": dwell,
        "app_share": rng.binomial(receipts, _beta(rng, s.app, 6, n)) / receipts,
        "subscriptions_active": rng.binomial(1, 0.2, n), "age_years": age, "consent_marketing": rng.random(n) < 0.6,
    })


def planted_frame(segments, categories, n, seed=0, lacks=()):
    """Person features drawn from latent segments, shuffled; and each person's planted segment."""
    rng = np.random.default_rng(seed)
    shares = np.array([s.share for s in segments])
    code = rng.choice(len(segments), n, p=shares / shares.sum())
    parts = [_persons(rng, s, categories, int((code == i).sum())) for i, s in enumerate(segments)]
    truth = np.concatenate([np.full(len(p), s.code, dtype=object) for p, s in zip(parts, segments, strict=True)])
    order = rng.permutation(n)
    frame = pd.concat(parts, ignore_index=True).iloc[order].reset_index(drop=True).drop(columns=list(lacks))
    frame.insert(0, "person_id", [f"P{i:07d}" for i in range(n)])
    return frame, pd.Series(truth[order], index=frame["person_id"])


def _clustered_ari(segmentation, truth):
    kept = segmentation.assignments[segmentation.assignments["segment_id"] != -2]
    return adjusted_rand_score(truth.loc[kept["person_id"]], kept["segment_id"])


def _majority_names(segmentation, truth):
    """The name most of each planted segment's persons got."""
    named = segmentation.assignments.assign(truth=truth.loc[segmentation.assignments["person_id"]].to_numpy())
    return named.groupby("truth")[["segment_name_pt", "segment_name_en"]].agg(lambda s: s.mode()[0])


@pytest.fixture(scope="module")
def mall():
    frame, truth = planted_frame(MALL_SEGMENTS, MALL, 3_000, seed=1)
    return frame, truth, segment_customers(frame, FAST)


@pytest.fixture(scope="module")
def grocery():
    frame, truth = planted_frame(GROCERY_SEGMENTS, GROCERY, 3_000, seed=2, lacks=GROCERY_LACKS)
    return frame, truth, segment_customers(frame, FAST)


# --- planted truth --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("world, planted_k", [("mall", 5), ("grocery", 4)])
def test_the_planted_number_of_segments_is_chosen_and_recovered(world, planted_k, request):
    _, truth, segmentation = request.getfixturevalue(world)
    selection = segmentation.selection
    assert selection["k"].tolist() == list(range(3, 9))
    assert selection.loc[selection["chosen"], "k"].tolist() == [planted_k]
    assert selection["silhouette"].between(-1, 1).all() and selection["stability"].between(-1, 1).all()
    assert _clustered_ari(segmentation, truth) >= 0.8


def test_mall_personas_get_the_names_a_marketer_would_give(mall):
    _, truth, segmentation = mall
    names = _majority_names(segmentation, truth)
    for code, (pt, en) in MALL_NAMES.items():
        assert tuple(names.loc[code]) == (pt, en), code


def test_grocery_rules_read_english_categories_and_an_unsigned_segment_gets_a_descriptive_name(grocery):
    _, truth, segmentation = grocery
    names = _majority_names(segmentation, truth)
    assert tuple(names.loc["deal_hunter"]) == ("Caçador de ofertas", "Deal hunter")
    assert tuple(names.loc["premium"]) == ("Premium", "Premium")
    assert tuple(names.loc["weekend_family"]) == ("Família de fim de semana", "Weekend family")
    pt, en = names.loc["morning_stationery"]
    assert (pt, en) == ("Manhã, papelaria", "Morning, stationery")
    assert en not in {p.en for p in PERSONAS}
    assert segmentation.features_used and not set(GROCERY_LACKS) & set(segmentation.features_used)


@pytest.mark.parametrize("world", ["mall", "grocery"])
def test_names_are_unique_and_never_a_cluster_number(world, request):
    _, _, segmentation = request.getfixturevalue(world)
    profiles = segmentation.profiles
    for column in ("segment_name_pt", "segment_name_en"):
        assert profiles[column].is_unique
        assert not profiles[column].str.contains(r"(?i)cluster|segmento \d|segment \d").any()


def test_profiles_add_up_and_say_what_distinguishes_each_segment(mall):
    frame, _, segmentation = mall
    profiles = segmentation.profiles
    assert profiles["size"].sum() == len(frame) == len(segmentation.assignments)
    assert profiles["share_of_persons"].sum() == pytest.approx(1.0)
    assert profiles["share_of_revenue"].sum() == pytest.approx(1.0)
    premium = profiles.set_index("segment_name_en").loc["Premium"]
    assert premium["avg_ticket"] > 2 * frame["avg_ticket"].median()  # planted R$ 250 against R$ 55-130
    assert premium["distinguishing_pt"].startswith("ticket médio R$ ")
    assert " vs R$ " in premium["distinguishing_pt"] and premium["distinguishing_en"].startswith("average ticket R$")
    family = profiles.set_index("segment_name_en").loc["Weekend family"]
    assert "fim de semana" in family["distinguishing_pt"] and "weekend" in family["distinguishing_en"]
    long = segmentation.feature_profile
    assert list(long.columns) == ["segment_id", "feature", "mean", "overall_mean", "z"]
    assert "consent_marketing" not in set(long["feature"]) and "age_years" in set(long["feature"])
    weekend = long[(long["feature"] == "weekend_share")].set_index("segment_id")["z"]
    assert weekend.loc[family["segment_id"]] > 0.8


def test_fixed_k_is_honoured_and_reported(mall):
    frame, _, _ = mall
    segmentation = segment_customers(frame, SegmentSettings(k=4, bootstrap_rounds=3))
    assert segmentation.selection["k"].tolist() == [4] and segmentation.selection["chosen"].all()
    assert segmentation.profiles["segment_id"].ge(0).sum() == 4


# --- other methods --------------------------------------------------------------------------------------------------

def test_gaussian_mixture_recovers_the_segments(mall):
    frame, truth, _ = mall
    segmentation = segment_customers(frame, SegmentSettings(method="gmm", bootstrap_rounds=3, k_max=6))
    assert segmentation.method == "gmm"
    assert _clustered_ari(segmentation, truth) >= 0.75


def test_hdbscan_finds_the_segments_and_leaves_strays_unclassified(mall):
    frame, truth, _ = mall
    rng = np.random.default_rng(5)
    strays = frame.sample(40, random_state=5).reset_index(drop=True)
    for column in ("weekend_share", "promo_share", "hour_evening_share", "cat_joias_share", "cat_mercado_share"):
        strays[column] = rng.choice([0.0, 1.0], len(strays))
    strays["avg_ticket"] = rng.choice([5.0, 3_000.0], len(strays))
    strays["person_id"] = [f"S{i}" for i in range(len(strays))]
    segmentation = segment_customers(pd.concat([frame, strays]), SegmentSettings(method="hdbscan",
                                                                                 bootstrap_rounds=3))
    assignments = segmentation.assignments.set_index("person_id")
    assert _clustered_ari(segmentation, pd.concat([truth, pd.Series("stray", index=strays["person_id"])])) >= 0.7
    assert assignments.loc[strays["person_id"], "segment_id"].eq(-1).mean() >= 0.8
    unclassified = segmentation.profiles.set_index("segment_id").loc[-1]
    assert (unclassified["segment_name_pt"], unclassified["segment_name_en"]) == ("Não classificado", "Unclassified")
    assert segmentation.selection["chosen"].all() and len(segmentation.selection) == 1


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")  # array-API inputs: not our concern
def test_segmenters_follow_the_scikit_learn_contract():
    check_estimator(CustomerSegmenter(bootstrap_rounds=3, random_state=0))
    check_estimator(DensityClusters(random_state=0))


# --- bad input ------------------------------------------------------------------------------------------------------

def test_a_single_customer_is_one_segment_named_for_everyone(mall):
    frame, _, _ = mall
    segmentation = segment_customers(frame.head(1), FAST)
    assert segmentation.assignments[["segment_id", "segment_name_en"]].values.tolist() == [[0, "All customers"]]
    assert segmentation.profiles.loc[0, "segment_name_pt"] == "Todos os clientes"
    assert segmentation.selection["k"].tolist() == [1]


def test_identical_customers_are_one_segment(mall):
    frame, _, _ = mall
    clones = pd.concat([frame.head(1)] * 50, ignore_index=True).assign(person_id=[f"C{i}" for i in range(50)])
    segmentation = segment_customers(clones, FAST)
    assert segmentation.assignments["segment_id"].eq(0).all() and segmentation.features_used == ()
    assert segmentation.profiles["size"].tolist() == [50]


def test_customers_without_receipts_are_a_counted_exclusion(mall):
    frame, truth, _ = mall
    empty = pd.DataFrame({"person_id": ["Z1", "Z2", "Z3"], "receipts": [0, 0, np.nan]})
    duplicated = frame.head(2)
    nameless = frame.head(1).assign(person_id=None)
    segmentation = segment_customers(pd.concat([frame, empty, duplicated, nameless], ignore_index=True), FAST)
    assert segmentation.excluded == {"no_person_id": 1, "duplicate_person_id": 2,
                                     "too_few_receipts": 3 + int((frame["receipts"] < 2).sum())}
    thin = segmentation.assignments.set_index("person_id").loc[["Z1", "Z2", "Z3"]]
    assert thin["segment_id"].eq(-2).all() and thin["segment_name_pt"].eq("Poucos dados").all()
    assert thin["segment_name_en"].eq("Too little data").all()
    assert len(segmentation.assignments) == len(frame) + 3
    assert _clustered_ari(segmentation, truth) >= 0.8


def test_nobody_with_receipts_still_gives_tables():
    segmentation = segment_customers(pd.DataFrame({"person_id": ["A", "B"], "receipts": [0, 1]}), FAST)
    assert segmentation.assignments["segment_name_en"].eq("Too little data").all()
    assert segmentation.excluded["too_few_receipts"] == 2 and segmentation.selection.empty
    empty = segment_customers(pd.DataFrame({"person_id": pd.Series(dtype=str)}), FAST)
    assert empty.assignments.empty and empty.profiles.empty


def test_a_frame_without_visits_categories_or_ages_still_segments(mall):
    frame, truth, _ = mall
    lean = frame[["person_id", "receipts", "spend_total", "avg_ticket", "receipts_per_month", "recency_days",
                  "weekend_share", "promo_share", "hour_morning_share", "hour_lunch_share", "hour_afternoon_share",
                  "hour_evening_share"]].assign(loyalty_points=frame["spend_total"] // 10)
    segmentation = segment_customers(lean, FAST)
    assert "loyalty_points" not in segmentation.features_used
    assert "loyalty_points" in segmentation.profiles.columns  # profiled, not clustered
    assert segmentation.profiles["segment_name_en"].is_unique
    assert _clustered_ari(segmentation, truth) >= 0.5  # ticket, promotion, weekend and hours still tell most apart
    chosen = segment_customers(lean, SegmentSettings(features=("avg_ticket", "loyalty_points"), k=3,
                                                     bootstrap_rounds=3))
    assert chosen.features_used == ("avg_ticket", "loyalty_points")


def test_bad_settings_name_the_fix(mall):
    frame, _, _ = mall
    with pytest.raises(ValueError, match=r"SegmentSettings\.features"):
        segment_customers(frame, SegmentSettings(features=("no_such_column",)))
    with pytest.raises(ValueError, match="method"):
        segment_customers(frame, SegmentSettings(method="dbscan"))
    with pytest.raises(ValueError, match="category_weight"):
        segment_customers(frame, SegmentSettings(category_weight=-1))
    with pytest.raises(ValueError, match="person_id"):
        segment_customers(frame.drop(columns="person_id"))


# --- scale ----------------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_two_hundred_thousand_persons_segment_in_well_under_a_minute():
    frame, truth = planted_frame(MALL_SEGMENTS, MALL, 200_000, seed=3)
    start = time.perf_counter()
    segmentation = segment_customers(frame)
    elapsed = time.perf_counter() - start
    print(f"\n200,000 persons segmented in {elapsed:.1f} s; k={segmentation.selection.query('chosen')['k'].item()}, "
          f"ARI {_clustered_ari(segmentation, truth):.3f}")
    assert _clustered_ari(segmentation, truth) >= 0.8
    assert elapsed < 120
