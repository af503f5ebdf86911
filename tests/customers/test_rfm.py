"""RFM scores checked by hand: quintiles of rank, ties, the R x FM grid, persons without purchases."""

import numpy as np
import pandas as pd
import pytest

from shelfwise.customers.rfm import rfm_scores


def ten_customers() -> pd.DataFrame:
    return pd.DataFrame({
        "person_id": list("abcdefghij"),
        "recency_days": [1, 5, 10, 20, 40, 80, 160, 300, 3, np.nan],
        "receipts": [30, 10, 8, 5, 3, 2, 1, 1, 1, 0],
        "spend_total": [3000, 900, 800, 400, 200, 100, 60, 50, 20, 0],
    })


def test_scores_and_segments_computed_by_hand():
    # nine persons with a purchase: rank r of n=9 scores ceil(5 r / 9) -> ranks 1..9 score 1 2 2 3 3 4 4 5 5
    # recency (lower is better): h g f e d c b i a; receipts: g h i tie at 1, ordered by spend (i < h < g)
    scores = rfm_scores(ten_customers()).set_index("person_id")
    assert scores.loc[list("abcdefghi"), "r_score"].tolist() == [5, 4, 4, 3, 3, 2, 2, 1, 5]
    assert scores.loc[list("abcdefghi"), "f_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1]
    assert scores.loc[list("abcdefghi"), "m_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1]
    assert scores["rfm_segment_en"].tolist() == [
        "Champions", "Champions", "Champions", "Loyal", "Need attention", "At risk", "Hibernating", "Lost",
        "New customers", "No purchases"]
    assert scores.loc["a", "rfm_segment_pt"] == "Campeões" and scores.loc["h", "rfm_segment_pt"] == "Perdidos"


def test_the_champion_is_the_recent_frequent_big_spender():
    frame = ten_customers().sample(frac=1, random_state=3)  # order does not matter
    scores = rfm_scores(frame).set_index("person_id")
    assert scores.loc["a", ["r_score", "f_score", "m_score"]].tolist() == [5, 5, 5]
    assert list(rfm_scores(frame)["person_id"]) == list(frame["person_id"])


def test_persons_without_a_purchase_get_no_scores():
    scores = rfm_scores(ten_customers()).set_index("person_id").loc["j"]
    assert scores[["r_score", "f_score", "m_score"]].isna().all()
    assert (scores["rfm_segment_pt"], scores["rfm_segment_en"]) == ("Sem compras", "No purchases")


def test_quintiles_exist_when_most_persons_share_a_value():
    n = 100
    frame = pd.DataFrame({"person_id": [f"p{i:03d}" for i in range(n)], "recency_days": np.arange(n),
                          "receipts": np.where(np.arange(n) < 70, 1, np.arange(n)), "spend_total": np.arange(n) * 10.0})
    scores = rfm_scores(frame)
    for column in ("r_score", "f_score", "m_score"):
        assert scores[column].value_counts().sort_index().tolist() == [20] * 5
    single = scores[frame["receipts"] == 1]  # ties broken by spend: the bigger spender ranks higher
    assert single["f_score"].is_monotonic_increasing


def test_a_missing_column_names_the_fix():
    with pytest.raises(ValueError, match="recency_days"):
        rfm_scores(ten_customers().drop(columns="recency_days"))
