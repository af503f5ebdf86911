"""The demo mall's planted truth recovered by `shelfwise demo`: persons, cards, devices, segments, value, offer."""

import itertools

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score, roc_auc_score
from typer.testing import CliRunner

from shelfwise.cli import app
from shelfwise.privacy.keys import load_keys
from shelfwise.privacy.pseudonyms import Pseudonymiser


@pytest.fixture(scope="module")
def demo(mall_demo):
    return mall_demo


@pytest.fixture(scope="module")
def tables(demo):
    with demo.workspace.warehouse.connect(purpose="test") as con:
        return {name: con.execute(f"SELECT * FROM {name}").df() for name in (
            "customer_identity", "person_keys", "customer_segments", "segment_profiles", "customer_value",
            "value_model", "offer_targets", "person_features", "customer_rfm")}


@pytest.fixture(scope="module")
def truth_person(demo, tables):
    """Our person id -> the planted person: through a customer record, else through the person's card."""
    truth = demo.truth_dir
    records = pd.read_parquet(truth / "customer_persons.parquet")
    cards = pd.read_parquet(truth / "card_persons.parquet")
    cards["key"] = Pseudonymiser(load_keys(demo.workspace.key_path))("token", cards["card_token"].tolist())
    keys = tables["person_keys"]
    by_record = keys.query("kind == 'customer'").merge(records, left_on="key", right_on="customer_id",
                                                      suffixes=("", "_true"))
    by_card = keys.query("kind == 'card'").merge(cards, on="key", suffixes=("", "_true"))
    both = pd.concat([by_record[["person_id", "person_id_true"]], by_card[["person_id", "person_id_true"]]])
    return both.drop_duplicates("person_id").set_index("person_id")["person_id_true"]


def _pairs(frame: pd.DataFrame, group: str) -> set[tuple[str, str]]:
    return {pair for _, ids in frame.groupby(group)["customer_id"] for pair in itertools.combinations(sorted(ids), 2)}


def test_identity_resolution_finds_the_planted_persons(demo, tables):
    records = pd.read_parquet(demo.truth_dir / "customer_persons.parquet").query("not quarantined")
    found = tables["customer_identity"].merge(records[["customer_id", "person_id"]], on="customer_id",
                                              suffixes=("", "_true"))
    assert len(found) == len(records)
    ours, planted = _pairs(found, "person_id"), _pairs(found, "person_id_true")
    precision, recall = len(ours & planted) / len(ours), len(ours & planted) / len(planted)
    f1 = 2 * precision * recall / (precision + recall)
    print(f"identity on the demo: precision {precision:.4f} recall {recall:.4f} F1 {f1:.4f} ({len(planted)} pairs)")
    assert f1 >= 0.95


def test_cards_and_devices_are_attached_to_the_right_person(demo, tables, truth_person):
    keys = tables["person_keys"]
    cards = pd.read_parquet(demo.truth_dir / "card_persons.parquet")
    pseudonymise = Pseudonymiser(load_keys(demo.workspace.key_path))
    cards["key"] = pseudonymise("token", cards["card_token"].tolist())
    linked = keys.query("kind == 'card' and evidence == 'receipts'").merge(cards, on="key", suffixes=("", "_true"))
    assert len(linked) > 1000
    assert (linked["person_id"].map(truth_person) == linked["person_id_true"]).mean() == 1.0
    visitors = pd.read_parquet(demo.truth_dir / "visitor_persons.parquet").dropna(subset=["person_id"])
    visitors["key"] = pseudonymise("token", visitors["visitor_id"].tolist())
    devices = keys.query("kind == 'visitor'").merge(visitors, on="key", suffixes=("", "_true"))
    right = devices["person_id"].map(truth_person) == devices["person_id_true"]
    print(f"visitor ids linked: {len(devices)} of {len(visitors)}, right: {right.mean():.4f}")
    assert right.mean() >= 0.98 and len(devices) >= 0.5 * len(visitors)


def test_segments_recover_the_planted_ones_and_are_named_after_them(demo, tables, truth_person):
    segments = tables["customer_segments"].query("segment_id >= 0").copy()
    planted = pd.read_parquet(demo.truth_dir / "person_segments.parquet").set_index("person_id")
    segments["planted"] = segments["person_id"].map(truth_person).map(planted["segment_pt"])
    assert segments["planted"].notna().all()
    ari = adjusted_rand_score(segments["planted"], segments["segment_id"])
    majority = segments.groupby("planted")["segment_name"].agg(lambda names: names.value_counts().index[0])
    print(f"segments: ARI {ari:.3f} on {len(segments)} persons; names by planted segment: {majority.to_dict()}")
    assert ari >= 0.7
    assert (majority.index == majority.to_numpy()).all(), "each planted persona is named after its behaviour"
    assert not tables["segment_profiles"]["segment_name"].str.contains("Cluster").any()


def test_rfm_scores_the_recent_frequent_big_spenders_as_champions(tables):
    rfm = tables["customer_rfm"].merge(tables["person_features"], on="person_id")
    champions = rfm.query("rfm_segment_en == 'Champions'")
    assert len(champions) > 0
    assert champions["recency_days"].median() < rfm["recency_days"].median()
    assert champions["receipts"].median() > rfm["receipts"].median()


def test_value_model_sees_who_stopped_coming(demo, tables, truth_person):
    values = tables["customer_value"].copy()
    planted = pd.read_parquet(demo.truth_dir / "person_segments.parquet").set_index("person_id")
    values["churned"] = values["person_id"].map(truth_person).map(planted["churned_on"]).notna()
    auc = roc_auc_score(~values["churned"], values["probability_alive"])
    print(f"P(alive) separates the planted churners: AUC {auc:.3f}")
    assert auc >= 0.75
    assert np.isfinite(values[["expected_purchases_12m", "probability_alive", "value_12m"]].to_numpy()).all()
    assert set(tables["value_model"]["parameter"]) >= {"r", "alpha", "a", "b", "p", "q", "v"}


def test_offer_beats_random_on_held_out_time_and_only_eligible_people_are_targets(demo, tables):
    result = demo.offer.result
    low, _ = result.metrics["auc_interval_95"]
    print(f"offer: held-out AUC {result.auc:.3f}, 95% interval from {low:.3f}")
    assert result.auc >= 0.62 and low > 0.5
    targets = tables["offer_targets"]
    eligible = targets[targets["eligible"]]
    assert not eligible["has_package"].any() and eligible["score"].notna().all()
    with demo.workspace.warehouse.connect(purpose="test") as con:
        refused = con.execute("SELECT count(*) FROM customers WHERE customer_id IN (SELECT unnest(?)) AND NOT "
                              "consent_marketing", [eligible["contact_customer_id"].tolist()]).fetchall()[0][0]
    assert refused == 0


def test_the_contact_list_holds_only_eligible_targets(demo, tmp_path):
    out = tmp_path / "contatos.csv"
    outcome = CliRunner().invoke(app, ["offer", "-w", str(demo.workspace.root), "--contacts", str(out)])
    assert outcome.exit_code == 0, outcome.output
    exported = pd.read_csv(out, dtype=str)
    with duckdb.connect(str(demo.workspace.warehouse.path), read_only=True) as con:
        eligible = set(con.execute("SELECT contact_customer_id FROM offer_targets WHERE run_id = (SELECT max(run_id) "
                                   "FROM offer_targets) AND eligible AND decile <= 3").df()["contact_customer_id"])
    assert 0 < len(exported) <= len(eligible) and set(exported["customer_id"]) <= eligible
