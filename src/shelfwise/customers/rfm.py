"""Classic RFM scoring: recency, frequency and money in quintiles, and the segment names every CRM team knows.

Clusters describe how people shop; RFM describes where each one stands with the business today, in a vocabulary
("Campeões", "Em risco", "Hibernando") that needs no explanation. The two are read side by side.

Each score is 1-5 by quintile of rank among the persons with a purchase (5 = most recent, most receipts, most
spent). Ranks, not values, set the quintiles, so they exist even when most persons share a value (a single
receipt); equal values are ordered by the person's other two scores' measures, then by person_id, so the result
is reproducible and the better customer on the other measures ranks higher.

The segment comes from the usual grid of R against the mean of F and M (rounded half up), after the eleven-segment
RFM map popularised by Putler ("RFM Analysis for Successful Customer Segmentation") and used by most CRM tools:

             FM 1            FM 2               FM 3             FM 4             FM 5
    R 5      New customers   Potential loyalist Loyal            Champions        Champions
    R 4      Promising       Potential loyalist Loyal            Champions        Champions
    R 3      About to sleep  Need attention     Need attention   Loyal            Loyal
    R 2      Hibernating     Hibernating        At risk          At risk          At risk
    R 1      Lost            Lost               At risk          Can't lose them  Can't lose them

Persons without a purchase get no scores and the segment "Sem compras" / "No purchases".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEGMENTS: dict[str, tuple[str, str]] = {
    "champions": ("Campeões", "Champions"),
    "loyal": ("Fiéis", "Loyal"),
    "potential": ("Potencial fiel", "Potential loyalist"),
    "new": ("Novos clientes", "New customers"),
    "promising": ("Promissores", "Promising"),
    "attention": ("Precisam de atenção", "Need attention"),
    "sleep": ("Quase dormindo", "About to sleep"),
    "risk": ("Em risco", "At risk"),
    "cant_lose": ("Não pode perder", "Can't lose them"),
    "hibernating": ("Hibernando", "Hibernating"),
    "lost": ("Perdidos", "Lost"),
}
GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: ("new", "potential", "loyal", "champions", "champions"),
    4: ("promising", "potential", "loyal", "champions", "champions"),
    3: ("sleep", "attention", "attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "risk", "risk", "risk"),
    1: ("lost", "lost", "risk", "cant_lose", "cant_lose"),
}
"""R score -> the segment for FM = 1..5."""
NO_PURCHASES = ("Sem compras", "No purchases")
REQUIRED = ("person_id", "recency_days", "receipts", "spend_total")


def rfm_scores(features: pd.DataFrame) -> pd.DataFrame:
    """R, F and M scores (1-5, by quintile of rank) and the RFM segment of each person.

    Args:
        features: The person-features frame; uses person_id, recency_days (R), receipts (F) and spend_total (M).

    Returns:
        person_id, r_score, f_score, m_score (nullable integers, missing without a purchase), rfm_segment_pt,
        rfm_segment_en; one row per row of `features`, in its order.

    Raises:
        ValueError: A column RFM needs is missing.
    """
    missing = [c for c in REQUIRED if c not in features.columns]
    if missing:
        raise ValueError(f"RFM needs the person-features columns {missing}; compute them with customers.features")
    recency = -features["recency_days"].to_numpy(dtype=float, na_value=np.nan)  # higher is better, like F and M
    frequency = features["receipts"].to_numpy(dtype=float, na_value=np.nan)
    money = features["spend_total"].fillna(0).to_numpy(dtype=float, na_value=np.nan)
    scored = (frequency > 0) & ~np.isnan(recency)
    ids = pd.factorize(features["person_id"].astype(str), sort=True)[0]
    r = _quintiles(recency, (frequency, money), ids, scored)
    f = _quintiles(frequency, (money, recency), ids, scored)
    m = _quintiles(money, (frequency, recency), ids, scored)
    fm = (f + m + 1) // 2  # mean of F and M, rounded half up
    codes = [GRID[int(a)][int(b) - 1] if ok else None for a, b, ok in zip(r, fm, scored, strict=True)]
    names = [SEGMENTS[c] if c else NO_PURCHASES for c in codes]
    return pd.DataFrame({
        "person_id": features["person_id"].to_numpy(),
        **{name: pd.Series(score).where(scored).astype("Int64")  # no purchase: <NA>
           for name, score in (("r_score", r), ("f_score", f), ("m_score", m))},
        "rfm_segment_pt": [n[0] for n in names], "rfm_segment_en": [n[1] for n in names]})


def _quintiles(values: np.ndarray, tiebreaks: tuple[np.ndarray, ...], ids: np.ndarray,
               scored: np.ndarray) -> np.ndarray:
    """Score 1-5 by quintile of rank among the scored rows (0 elsewhere); ties ordered by `tiebreaks`, then id."""
    rows = np.flatnonzero(scored)
    keys = [ids[rows], *(np.nan_to_num(t[rows], nan=-np.inf) for t in reversed(tiebreaks)), values[rows]]
    order = rows[np.lexsort(keys)]
    score = np.zeros(len(values), dtype=np.int64)
    score[order] = np.ceil(5 * np.arange(1, len(order) + 1) / max(len(order), 1)).astype(np.int64)
    return score
