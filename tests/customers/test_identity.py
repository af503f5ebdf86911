"""Identity resolution against planted truth: the mall demo, the synthetic hard cases, decisions, ids, bad input."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

from shelfwise.customers.identity import (
    FIELDS,
    IdentitySettings,
    Resolution,
    assign_person_ids,
    resolve_customers,
)
from shelfwise.demo.identity_cases import identity_records
from shelfwise.privacy.vault import Vault

FAST = IdentitySettings(u_max_pairs=2e5)  # fewer pairs sampled for u: plenty for these small sets, and faster
REVIEW_MORE = IdentitySettings(u_max_pairs=2e5, review_threshold=0.01)  # a review list even on easy data
RAW = ("name", "email", "phone", "document", "birth_date")


def pair_scores(clusters: pd.DataFrame, truth: pd.DataFrame) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of `cluster_key` against `person_id`, over the records of both."""
    frame = clusters[["customer_id", "cluster_key"]].merge(truth[["customer_id", "person_id"]], on="customer_id")

    def pairs(key: str) -> set[tuple[str, str]]:
        both = frame.merge(frame, on=key)
        both = both[both["customer_id_x"] < both["customer_id_y"]]
        return set(zip(both["customer_id_x"], both["customer_id_y"], strict=True))

    found, true = pairs("cluster_key"), pairs("person_id")
    precision = len(found & true) / len(found) if found else 1.0
    recall = len(found & true) / len(true) if true else 1.0
    return precision, recall, 2 * precision * recall / (precision + recall)


def assert_well_formed(result: Resolution, people: pd.DataFrame) -> None:
    records = result.records
    assert sorted(records["customer_id"]) == sorted(people["customer_id"].dropna().unique())
    assert records["customer_id"].is_unique
    keys = records.groupby("cluster_key")["customer_id"].min()
    assert (keys.index == keys.to_numpy()).all()  # the key of a cluster is its smallest customer_id
    alone = records["cluster_key"].map(records["cluster_key"].value_counts()) == 1
    assert records.loc[alone, "match_probability"].isna().all()
    assert records.loc[~alone, "match_probability"].between(0, 1).all()
    assert result.stats["records"] == len(records)
    assert result.stats["clusters"] == records["cluster_key"].nunique()


# --- accuracy ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_people(mall_demo) -> pd.DataFrame:
    return Vault(mall_demo.workspace).read_people(None, purpose="identity resolution")


@pytest.fixture(scope="module")
def demo_resolution(demo_people) -> Resolution:
    return resolve_customers(demo_people, IdentitySettings())


def test_demo_persons_are_found(mall_demo, demo_people, demo_resolution):
    truth = pd.read_parquet(mall_demo.truth_dir / "customer_persons.parquet")
    truth = truth[~truth["quarantined"]]
    assert set(truth["customer_id"]) == set(demo_people["customer_id"])
    precision, recall, f1 = pair_scores(demo_resolution.records, truth)
    print(f"demo: precision {precision:.4f} recall {recall:.4f} F1 {f1:.4f}, {demo_resolution.stats}")
    assert min(precision, recall, f1) >= 0.95
    assert len(demo_resolution.review) <= 0.01 * len(demo_people)
    assert demo_resolution.stats["method"] == "splink"
    assert demo_resolution.stats["invalid_cpfs_ignored"] == truth["document_valid"].eq(False).sum()
    assert_well_formed(demo_resolution, demo_people)


@pytest.fixture(scope="module")
def hard_cases() -> tuple[pd.DataFrame, pd.DataFrame, Resolution]:
    people, truth = identity_records(20_000, duplicate_share=0.1, seed=0)
    return people, truth, resolve_customers(people, IdentitySettings())


def test_synthetic_hard_cases_are_resolved(hard_cases):
    people, truth, result = hard_cases
    precision, recall, f1 = pair_scores(result.records, truth)
    print(f"synthetic 20k: precision {precision:.4f} recall {recall:.4f} F1 {f1:.4f}, "
          f"{result.stats['seconds']} s, review {len(result.review)}")
    assert f1 >= 0.97
    assert len(result.review) <= 0.005 * len(people)
    assert result.stats["em_blocks"] == ["cpf", "name_sorted & dob"]  # never a name-only block (study, pitfall 10)
    assert_well_formed(result, people)


def test_no_personal_value_leaves_the_resolution(hard_cases):
    people, _, result = hard_cases
    raw = set(people[list(RAW)].stack().astype(str))
    out = pd.concat([result.records, result.review, result.conflicts]).astype(str).stack()
    assert not raw & set(out)
    model = json.dumps(result.model)
    assert not [v for v in raw if v in model]
    assert not [v for v in raw if v in str(result.stats)]
    assert set(result.review.columns) == {"customer_id_l", "customer_id_r", "match_probability", "name_similarity",
                                          *(f"{f}_agrees" for f in FIELDS)}


def test_the_model_is_m_and_u_with_floors(hard_cases):
    _, _, result = hard_cases
    for comparison in result.model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        assert sum(lv["m_probability"] for lv in levels) == pytest.approx(1)
        floor = 0.001 if comparison["output_column_name"] == "cpf" else 0.01
        assert min(lv["m_probability"] for lv in levels) >= floor / 1.1  # floored, then renormalised
        assert all(lv["u_probability"] > 0 for lv in levels)


def test_generator_is_seeded_and_plants_the_study_traps():
    records, truth = identity_records(5_000, duplicate_share=0.2, seed=3)
    again, _ = identity_records(5_000, duplicate_share=0.2, seed=3)
    pd.testing.assert_frame_equal(records, again)
    assert list(records.columns) == ["customer_id", *RAW]
    assert len(records) == 5_000 and truth["person_id"].nunique() == 4_000 and truth["is_duplicate"].sum() == 1_000
    assert 0.02 < truth["is_relative"].mean() < 0.04
    assert records["name"].str.contains(",").any() and records["name"].str.isupper().any()
    assert records["email"].dropna().str.isupper().any() and records["email"].isna().any()
    assert records["birth_date"].str.contains("/").any() and records["birth_date"].str.contains("-").any()
    assert records["document"].str.contains(r"\.").any() and records["document"].isna().any()


# --- decisions and stable ids --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> tuple[pd.DataFrame, pd.DataFrame, Resolution]:
    people, truth = identity_records(3_000, seed=3)
    return people, truth, resolve_customers(people, REVIEW_MORE)


def _key(result: Resolution) -> pd.Series:
    return result.records.set_index("customer_id")["cluster_key"]


def _in_review(result: Resolution, a: str, b: str) -> bool:
    review = result.review
    return bool(((review["customer_id_l"] == min(a, b)) & (review["customer_id_r"] == max(a, b))).any())


def test_decisions_hold_on_a_rerun(small):
    people, _, first = small
    assert len(first.review) >= 2
    (a, b), (c, d) = first.review[["customer_id_l", "customer_id_r"]].head(2).itertuples(index=False)
    sizes = first.records["cluster_key"].value_counts()
    pairs = first.records[first.records["cluster_key"].isin(sizes.index[sizes == 2])].sort_values("cluster_key")
    x, y, u, v = pairs["customer_id"].iloc[:4]
    z = sizes.index[sizes == 1][0]
    decisions = pd.DataFrame([
        (b, a, "accept"),  # a review pair, either order
        (c, d, "reject"),  # a review pair
        (y, x, "REJECT"),  # a linked pair: split
        (u, v, "reject"), (u, z, "accept"), (v, z, "accept"),  # a rejected pair still linked through z
        ("nobody", x, "accept"),
    ], columns=["customer_id_l", "customer_id_r", "decision"])
    second = resolve_customers(people, REVIEW_MORE, decisions)
    key = _key(second)
    assert key[a] == key[b]  # accepted: linked whatever the score
    assert key[c] != key[d] and key[x] != key[y]  # rejected
    assert key[u] == key[v] == key[z]
    assert second.conflicts.to_dict("records") == [{"customer_id_l": min(u, v), "customer_id_r": max(u, v),
                                                    "cluster_key": key[u]}]
    for pair in [(a, b), (c, d), (x, y), (u, v)]:
        assert not _in_review(second, *pair)  # a decided pair never comes back
    assert second.records.set_index("customer_id").loc[z, "match_probability"] == 1.0
    assert {k: second.stats[k] for k in ("decisions_accepted", "decisions_rejected", "decisions_unknown_ids",
                                         "conflicts")} == {"decisions_accepted": 3, "decisions_rejected": 3,
                                                           "decisions_unknown_ids": 1, "conflicts": 1}


def test_a_decision_other_than_accept_or_reject_is_refused(small):
    people = small[0].head(5)
    with pytest.raises(ValueError, match="'accept' or 'reject'"):
        resolve_customers(people, FAST, pd.DataFrame({"customer_id_l": ["a"], "customer_id_r": ["b"],
                                                      "decision": ["maybe"]}))


def test_person_ids_are_stable_across_runs(small):
    people, _, first = small
    ids = assign_person_ids(first.records, None)
    assert ids["customer_id"].tolist() == first.records["customer_id"].tolist()
    assert ids["person_id"].str.fullmatch(r"P[0-9a-f]{10}").all()
    assert ids["person_id"].nunique() == first.stats["clusters"]
    rerun = resolve_customers(people, REVIEW_MORE)
    pd.testing.assert_frame_equal(rerun.records, first.records)
    pd.testing.assert_frame_equal(assign_person_ids(rerun.records, None), ids)  # a fresh run: the same ids
    pd.testing.assert_frame_equal(assign_person_ids(rerun.records, ids), ids)  # a run after it: the same ids

    sizes = first.records["cluster_key"].value_counts()
    member = first.records[first.records["cluster_key"].isin(sizes.index[sizes == 2])]["customer_id"].iloc[0]
    copy = people[people["customer_id"] == member].assign(customer_id="00000000")  # sorts first: a new cluster_key
    second = resolve_customers(pd.concat([people, copy], ignore_index=True), REVIEW_MORE)
    again = assign_person_ids(second.records, ids).set_index("customer_id")["person_id"]
    before = ids.set_index("customer_id")["person_id"]
    assert again["00000000"] == again[member] == before[member]  # the new record joined and the id held
    assert (again[before.index] == before).all()  # nobody else changed either


def test_merge_keeps_the_majority_id_and_a_split_the_larger_part():
    previous = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e", "f", "g"],
                             "person_id": ["P1", "P1", "P2", "P3", "P3", "P3", "P4"]})
    records = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e", "f", "g", "h"],
                            "cluster_key": ["a", "a", "a", "d", "d", "f", "g", "h"]})
    ids = assign_person_ids(records, previous).set_index("customer_id")["person_id"]
    assert ids[["a", "b", "c"]].tolist() == ["P1"] * 3  # merge: two of three records were P1
    assert ids[["d", "e"]].tolist() == ["P3", "P3"]  # split: the larger part keeps P3
    assert ids["g"] == "P4"
    assert ids["f"] not in {"P1", "P2", "P3", "P4"} and ids["h"] not in {"P1", "P2", "P3", "P4", ids["f"]}
    assert ids["h"] == "P" + hashlib.sha1(b"h").hexdigest()[:10]


def test_a_new_id_never_takes_one_already_used():
    taken = "P" + hashlib.sha1(b"b").hexdigest()[:10]
    previous = pd.DataFrame({"customer_id": ["a", "b", "c"], "person_id": [taken, taken, taken]})
    records = pd.DataFrame({"customer_id": ["a", "c", "b"], "cluster_key": ["a", "a", "b"]})  # b split off
    ids = assign_person_ids(records, previous).set_index("customer_id")["person_id"]
    assert ids["a"] == ids["c"] == taken
    assert ids["b"] != taken and re.fullmatch(r"P[0-9a-f]{10}", ids["b"])


# --- normalisation through the exact rules (small inputs) ----------------------------------------------------


def _people(*rows: dict) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    frame.insert(0, "customer_id", [f"c{i}" for i in range(len(frame))])
    return frame


def test_exact_rules_see_through_formats_and_obey_the_cpf_rule():
    people = _people(
        {"name": "Inês Bezerra Lima", "document": "529.982.247-25"},
        {"name": "LIMA, Ines Bezerra", "document": "52998224725"},  # same valid CPF, other format
        {"name": "João Souza", "phone": "(11) 98765-4321"},
        {"name": "Souza, João", "phone": "+55 11 98765 4321"},  # same phone and name
        {"name": "joao souza", "phone": "8765-4321"},  # an old 8-digit mobile, no area code: DDD 11 + 9
        {"name": "Ana Lima", "email": "Ana.Lima@Gmail.com ", "document": "111.111.111-11"},
        {"name": "Ana Paula Lima", "email": "ana.lima@gmail.com", "document": "11111111111"},  # same e-mail
        {"name": "Caio Dias", "email": "familia@uol.com.br", "document": "529.982.247-25"},
        {"name": "Rita Dias", "email": "familia@uol.com.br", "document": "390.533.447-05"},  # another valid CPF
        {"name": "Rui Reis", "document": "529.982.247-24"},  # check digit wrong: not c0's CPF
    )
    result = resolve_customers(people, IdentitySettings())
    key = _key(result)
    assert result.stats["method"] == "exact rules" and "min_training_records" in result.stats["fallback_reason"]
    assert key["c0"] == key["c1"] and key["c2"] == key["c3"] == key["c4"] and key["c5"] == key["c6"]
    assert key["c7"] == key["c0"] and key["c8"] != key["c7"]  # c8 shares c7's e-mail but has another valid CPF
    assert key["c9"] == "c9"
    assert _in_review(result, "c7", "c8")  # the model would link them; the analyst decides
    assert result.stats["invalid_cpfs_ignored"] == 3  # 111.111.111-11 twice (all digits equal), and c9


# --- bad input -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base() -> tuple[pd.DataFrame, pd.DataFrame]:
    return identity_records(400, seed=5)


@pytest.mark.parametrize("case", ["no cpf", "invalid cpf", "cnpj"])
def test_documents_unusable_for_everyone_still_resolve(base, case):
    people, truth = base
    document = {"no cpf": None, "invalid cpf": "123.456.789-00", "cnpj": "11.222.333/0001-81"}[case]
    result = resolve_customers(people.assign(document=document), FAST)
    precision, recall, f1 = pair_scores(result.records, truth)
    print(f"{case}: precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}, {result.stats['method']}")
    assert result.stats["method"] == "splink" and f1 >= 0.9
    assert result.stats["em_blocks"] == ["name_sorted & dob", "email"]  # no CPF: e-mail stands in for it
    if case != "no cpf":
        assert result.stats["invalid_cpfs_ignored" if case == "invalid cpf" else "documents_not_cpf"] == len(people)
    assert_well_formed(result, people)


def test_single_record_and_no_record(base):
    people = base[0]
    one = resolve_customers(people.head(1), FAST)
    assert one.records["cluster_key"].tolist() == people["customer_id"].head(1).tolist()
    assert one.records["match_probability"].isna().all() and one.review.empty
    none = resolve_customers(people.head(0), FAST)
    assert none.records.empty and none.stats["clusters"] == 0 and none.stats["method"] == "exact rules"


def test_identical_records_are_one_person(base):
    people = pd.concat([base[0].head(1)] * 300, ignore_index=True)
    people["customer_id"] = [f"c{i:03d}" for i in range(300)]
    result = resolve_customers(people, FAST)
    assert result.records["cluster_key"].eq("c000").all() and result.records["match_probability"].eq(1.0).all()
    assert result.stats["exact_copies"] == 299 and result.stats["placeholder_values_ignored"] == 0


def test_empty_strings_and_missing_columns_leave_everyone_alone(base):
    people = base[0]
    blank = people.assign(**{c: "" for c in RAW})
    only_ids = people[["customer_id"]]
    for frame in (blank, only_ids):
        result = resolve_customers(frame, FAST)
        assert result.records["cluster_key"].tolist() == result.records["customer_id"].tolist()
        assert result.stats["records_without_fields"] == len(people)
        assert "no two records share" in result.stats["fallback_reason"]


def test_missing_and_repeated_ids_are_counted_out(base):
    people = base[0].copy()
    people.loc[:4, "customer_id"] = [None, "", " ", np.nan, people["customer_id"].iloc[10]]
    result = resolve_customers(people, FAST)
    assert result.stats["excluded_missing_id"] == 4 and result.stats["excluded_repeated_id"] == 1
    assert len(result.records) == len(people) - 5 and result.records["customer_id"].is_unique


def test_a_shared_placeholder_email_is_ignored(base):
    people, truth = base
    result = resolve_customers(people.assign(email="naotem@naotem.com.br"), FAST)
    assert result.stats["placeholder_values_ignored"] == 1
    assert pair_scores(result.records, truth)[0] >= 0.95  # the shared address linked nobody


def test_other_types_are_read_as_text(base):
    people, truth = base
    typed = people.assign(document=pd.to_numeric(people["document"].str.replace(r"\D", "", regex=True)),
                          birth_date=pd.to_datetime(people["birth_date"], format="mixed", dayfirst=True,
                                                    errors="coerce"))
    result = resolve_customers(typed, FAST)
    assert pair_scores(result.records, truth)[2] >= 0.9


def test_settings_are_validated_and_documented():
    doc = IdentitySettings.__doc__ or ""
    assert all(f"{f.name}:" in doc for f in fields(IdentitySettings))
    for bad in ({"review_threshold": 0.97}, {"link_threshold": 1.5}, {"default_area_code": "011"},
                {"m_floor": 0.0}, {"min_training_records": 0}, {"max_block_size": "1000"}, {"threads": True}):
        with pytest.raises(ValueError):
            IdentitySettings(**bad)
