"""Benchmark Shelfwise's customer features, segmentation and identity resolution at a chain's scale.

    python bench/customers.py [--persons 1000000] [--lines 20000000] [--records 200000]
                              [--parts generate,shelfwise,peer,identity] [--repeat 1] [--workdir DIR] [--quick]
                              [--out FILE]

`--quick` is a smoke run at ~1% of the size (10,000 persons, 200,000 receipt lines, 20,000 customer records), under a
minute, written to `bench/results/customers_quick.json`; the full run (1,000,000 persons, 20,000,000 lines, 200,000
records) takes 8-10 minutes on two cores (15 with `--repeat 2`) and writes `bench/results/customers.json`. Nothing
is downloaded. Other work on the machine moves the figures: the load average before and during each part is recorded
beside them, with each process's CPU seconds (less sensitive to it than wall time); `--repeat N` runs the shelfwise
and peer parts N times, alternated, and keeps the fastest of each (every run is listed).

What it measures, every comparison in this run, on this machine:

generate  Vectorised numpy, written in chunks of 1M rows (Arrow inserts) into a DuckDB file in the work folder: persons
          drawn from five latent behaviour segments (the demo mall's: weekend family, premium, deal hunter, young
          entertainment, weekday routine -- weekend share, ticket, hours, store formats, promotion share, app use),
          40 stores in 9 formats, six discount campaigns and a partnership (not a price campaign), one receipt per row
          (product_id NULL) over 2025, every person with 1-2 card tokens, ~55% of persons members whose loyalty id is
          on ~72% of their receipts (~40% of receipts), 8% of receipts paid in cash (no token); `person_keys` (kind,
          key, person_id) gives the true owner of every token and loyalty id, `planted` the segment of every person.
          Timed, but not part of any measured step.
shelfwise In a fresh process: DuckDB (threads=2, memory_limit 4GB, temp folder in the work folder) on that file,
          `person_features(con, 'person_keys', as_of)` then `segment_customers(features, SegmentSettings())`: wall time
          of each (and of every SQL statement person_features runs, through a timing wrapper of the connection), the
          peak size of DuckDB's spill files, persons segmented, k chosen, adjusted Rand index (ARI) of the segments
          against the planted ones on the persons clustered, the persona names against the planted segment each one
          mostly holds.
peer      In another fresh process, a notebook-style pandas + scikit-learn script on the same file: the receipts joined
          to their person and store format in one DuckDB query read with `.df()` (as an analyst with a DuckDB file
          would), flags and promotion windows with pandas, per-person features with groupby / crosstab / pivot_table
          (receipts, spend, mean ticket, recency, weekend share, hour-band shares, format spend shares, promotion
          share, stores), StandardScaler, K-means (scikit-learn defaults) for k = 3..8 chosen by silhouette_score
          with sample_size=10,000. ARI on all persons and on the persons Shelfwise clustered.
identity  `identity_records(--records, duplicate_share=0.1)` then `resolve_customers(records, IdentitySettings())`:
          time, peak memory, pairwise precision / recall / F1 (pairs of records in one resolved person against pairs
          of one true person, counted from cluster sizes: sum of n(n-1)/2 over clusters, true persons and their
          intersections -- the count a self-join on the cluster gives), review pairs; and the spreadsheet peer:
          records linked when they share the digits of their CPF or their lower-cased e-mail, transitively
          (connected components), with the same scores.

Peak memory: every part runs in its own subprocess of this script (`_worker`); the parent samples the RSS of that
process and its children every 0.2 s (psutil), reads the child's exact `ru_maxrss` from wait4, and kills a part that
passes `--memory-cap-mb` (default 8,000) -- the figures then say so. Figures are printed and written to JSON with the
targets of the issue (`targets`: value, target, met).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from harness import to_json

from shelfwise.demo import people

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "customers.json"
QUICK_RESULTS = BENCH / "results" / "customers_quick.json"
SEED = 42
START = date(2025, 1, 1)
DAYS = 365
AS_OF = START + timedelta(days=DAYS - 1)
CHUNK = 1_000_000
DUCKDB_MEMORY = "4GB"
DUCKDB_THREADS = 2
MEMORY_CAP_MB = 8_000

TARGET_F1 = 0.95

# code: share of persons, weekend share, receipts a month (relative), spend x, promotion share, app use
# (as in shelfwise.demo.people, whose mall plants the same five segments)
SEGMENTS = {
    "weekend_family": (0.22, 0.75, 1.7, 1.35, 0.12, 0.45),
    "premium": (0.15, 0.45, 1.0, 2.2, 0.05, 0.35),
    "deal_hunter": (0.25, 0.40, 2.6, 0.6, 0.45, 0.80),
    "young_entertainment": (0.18, 0.50, 2.0, 0.75, 0.10, 0.75),
    "weekday_routine": (0.20, 0.12, 3.0, 0.85, 0.08, 0.30),
}
HOURS = people.HOURS  # hour-of-day weights for 10h..21h, the demo mall's
# preference for store formats; formats not listed weigh 0.15
PREFERENCES = {
    "weekend_family": {"alimentação": 3.0, "infantil": 3.0, "cinema": 1.2, "supermercado": 1.2, "moda": 1.0},
    "premium": {"moda": 3.0, "eletrônicos": 2.5, "beleza": 1.5, "alimentação": 1.2},
    "deal_hunter": {"moda": 2.0, "supermercado": 2.2, "farmácia": 1.5, "alimentação": 1.5, "eletrônicos": 0.5,
                    "beleza": 0.5},
    "young_entertainment": {"cinema": 3.0, "alimentação": 3.0, "eletrônicos": 1.2, "moda": 1.2, "academia": 1.0},
    "weekday_routine": {"supermercado": 3.0, "farmácia": 3.0, "alimentação": 2.0, "academia": 1.5},
}
# format: stores, mean ticket (R$)
FORMATS = {"supermercado": (6, 120.0), "farmácia": (4, 60.0), "moda": (8, 180.0), "alimentação": (8, 45.0),
           "infantil": (3, 110.0), "cinema": (2, 70.0), "eletrônicos": (4, 450.0), "academia": (2, 90.0),
           "beleza": (3, 95.0)}
# name, first day, days, discount %, formats covered (None: every store)
CAMPAIGNS = (("Liquida Verão", date(2025, 1, 8), 14, 30.0, None),
             ("Dia das Mães", date(2025, 5, 1), 10, 25.0, None),
             ("Liquida Inverno", date(2025, 7, 5), 14, 40.0, ("moda", "infantil", "eletrônicos", "beleza")),
             ("Dia dos Pais", date(2025, 8, 1), 10, 20.0, None),
             ("Dia das Crianças", date(2025, 10, 1), 11, 20.0, None),
             ("Black Friday", date(2025, 11, 25), 7, 40.0, None))
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
AGE_MIX = {"weekend_family": (0.05, 0.35, 0.45, 0.15, 0.0, 0.0), "premium": (0.0, 0.15, 0.3, 0.3, 0.2, 0.05),
           "deal_hunter": (0.1, 0.2, 0.2, 0.2, 0.2, 0.1), "young_entertainment": (0.7, 0.3, 0.0, 0.0, 0.0, 0.0),
           "weekday_routine": (0.05, 0.25, 0.25, 0.2, 0.15, 0.1)}


# --------------------------------------------------------------------------------------------------- generate


def stores_frame(rng: Any) -> Any:
    """40 stores: id, format, mean ticket and popularity."""
    import numpy as np
    import pandas as pd

    formats = [f for f, (count, _) in FORMATS.items() for _ in range(count)]
    return pd.DataFrame({"store_id": [f"L{i:03d}" for i in range(1, len(formats) + 1)], "format": formats,
                         "ticket": [FORMATS[f][1] for f in formats],
                         "popularity": np.exp(rng.normal(0, 0.4, len(formats)))})


def campaigns_frame(stores: Any) -> Any:
    """The discount calendar (store lists for the format-limited sales) and a partnership with no discount."""
    import pandas as pd

    rows = []
    for i, (name, first, days, discount, formats) in enumerate(CAMPAIGNS, start=1):
        ids = [] if formats is None else stores.loc[stores["format"].isin(formats), "store_id"].tolist()
        rows.append((f"BC{i:02d}", name, first, first + timedelta(days=days - 1), "discount", discount, None, ids))
    rows.append(("BC99", "Parceria streaming", date(2025, 3, 1), date(2025, 5, 31), "partnership", 0.0, None, []))
    return pd.DataFrame(rows, columns=["campaign_id", "name", "start_date", "end_date", "type", "discount_pct",
                                       "product_ids", "store_ids"])


def persons_arrays(rng: Any, n: int, stores: Any) -> dict[str, Any]:
    """Latent persons: segment, activity, spend level, three favourite stores, cards, membership, age band."""
    import numpy as np

    names = list(SEGMENTS)
    table = np.array([SEGMENTS[s] for s in names])
    seg = rng.choice(len(names), n, p=table[:, 0] / table[:, 0].sum())
    weights = segment_store_weights(stores)
    favourites = np.empty((n, 3), dtype=np.int16)
    for lo in range(0, n, 100_000):  # Gumbel top-3 without replacement, in blocks (n x 40 floats)
        hi = min(n, lo + 100_000)
        scores = np.log(weights[seg[lo:hi]]) + rng.gumbel(size=(hi - lo, len(stores)))
        favourites[lo:hi] = np.argsort(-scores, axis=1)[:, :3]
    cards = 1 + (rng.random(n) < 0.4)
    ages = np.array([AGE_MIX[s] for s in names]).cumsum(axis=1)[seg]
    return {"seg": seg, "activity": rng.gamma(2.0, 0.5, n) * table[seg, 2], "spend": np.exp(rng.normal(0, 0.3, n)),
            "favourites": favourites, "cards": cards, "card_offset": np.concatenate([[0], np.cumsum(cards)[:-1]]),
            "member": rng.random(n) < table[seg, 5],
            "age_band": np.minimum((rng.random(n)[:, None] > ages).sum(axis=1), len(AGE_BANDS) - 1)}


def segment_store_weights(stores: Any) -> Any:
    """Per segment, the probability of each store when roaming: format preference x popularity."""
    import numpy as np

    rows = [stores["format"].map(lambda f, s=s: PREFERENCES[s].get(f, 0.15)).to_numpy() * stores["popularity"]
            for s in SEGMENTS]
    w = np.array(rows, dtype=float)
    return w / w.sum(axis=1, keepdims=True)


def receipt_chunk(rng: Any, persons: dict[str, Any], stores: Any, campaigns: Any, first_line: int, m: int) -> Any:
    """`m` receipts as an Arrow table of integers and floats (ids are formatted by DuckDB on insert)."""
    import numpy as np
    import pyarrow as pa

    names = list(SEGMENTS)
    table = np.array([SEGMENTS[s] for s in names])
    cum = persons["cum_activity"]
    p = np.minimum(np.searchsorted(cum, rng.random(m) * cum[-1], side="right"), len(cum) - 1)
    s = persons["seg"][p]
    day = rng.integers(0, DAYS, m)
    weekend = rng.random(m) < table[s, 1]
    target = np.where(weekend, np.where(rng.random(m) < 0.55, 5, 6), rng.integers(0, 5, m))  # Monday = 0
    day = day + (target - (START.weekday() + day) % 7) % 7
    day = np.where(day >= DAYS, day - 7, day)
    discount = campaigns[campaigns["type"] == "discount"]
    c0 = (discount["start_date"] - START).map(lambda d: d.days).to_numpy()
    length = (discount["end_date"] - discount["start_date"]).map(lambda d: d.days + 1).to_numpy()
    pick = rng.choice(len(c0), m, p=length / length.sum())
    in_sale = rng.random(m) < table[s, 4]
    day = np.where(in_sale, c0[pick] + np.floor(rng.random(m) * length[pick]).astype(np.int64), day)
    hours = np.array([HOURS[n] for n in names], dtype=float)
    hour_cum = np.cumsum(hours / hours.sum(axis=1, keepdims=True), axis=1)[s]
    hour = 10 + np.minimum((rng.random(m)[:, None] > hour_cum).sum(axis=1), 11)
    hour = np.where((START.weekday() + day) % 7 == 6, np.clip(hour, 14, 19), hour)  # Sunday 14h-20h
    seconds = day * 86_400 + hour * 3_600 + rng.integers(0, 3_600, m)
    ts = np.datetime64(START.isoformat(), "s") + seconds.astype("timedelta64[s]")
    store = persons["favourites"][p, rng.integers(0, 3, m)].astype(np.int64)
    roam = rng.random(m) < 0.3
    store_cum = np.cumsum(persons["store_weights"], axis=1)[s[roam]]
    store[roam] = np.minimum((rng.random(roam.sum())[:, None] > store_cum).sum(axis=1), len(stores) - 1)
    amount = (stores["ticket"].to_numpy()[store] * table[s, 3] * persons["spend"][p]
              * np.exp(rng.normal(0, 0.45, m)))
    other = np.floor(rng.random(m) * persons["cards"][p]).astype(np.int64)
    card = persons["card_offset"][p] + np.where(rng.random(m) < 0.75, 0, other)
    card = np.where(rng.random(m) < 0.92, card, -1)  # cash: no token
    shows = persons["member"][p] & (rng.random(m) < 0.72)
    return pa.table({"line": np.arange(first_line, first_line + m), "ts": ts, "amount": np.round(
        np.maximum(amount, 4.5), 2), "person": p, "card": card, "shows": shows, "store": store})


INSERT_SQL = """
INSERT INTO transactions SELECT printf('R%09d', line), ts, amount,
    CASE WHEN shows THEN printf('C%08d', person) END, CASE WHEN card >= 0 THEN printf('tok_%09d', card) END,
    printf('L%03d', store + 1), NULL FROM chunk"""


def part_generate(args: dict[str, Any]) -> dict[str, Any]:
    import duckdb
    import numpy as np
    import pyarrow as pa

    n_persons, n_lines, path = args["persons"], args["lines"], Path(args["db"])
    path.unlink(missing_ok=True)
    started = time.perf_counter()
    rng = np.random.default_rng(SEED)
    stores = stores_frame(rng)
    campaigns = campaigns_frame(stores)
    persons = persons_arrays(rng, n_persons, stores)
    persons["cum_activity"] = np.cumsum(persons["activity"])
    persons["store_weights"] = segment_store_weights(stores)
    con = duckdb.connect(str(path))
    con.execute(f"SET threads = {DUCKDB_THREADS}; SET memory_limit = '{DUCKDB_MEMORY}'")
    con.execute("""
CREATE TABLE transactions (transaction_id VARCHAR, timestamp TIMESTAMP, amount DOUBLE, customer_id VARCHAR,
                           card_token VARCHAR, store_id VARCHAR, product_id VARCHAR)""")
    for first in range(0, n_lines, CHUNK):
        chunk = receipt_chunk(rng, persons, stores, campaigns, first, min(CHUNK, n_lines - first))
        con.register("chunk", chunk)
        con.execute(INSERT_SQL)
        con.unregister("chunk")
        print(f"  generated {first + chunk.num_rows:,} / {n_lines:,} lines ({time.perf_counter() - started:.0f} s)",
              flush=True)
    lines_seconds = time.perf_counter() - started
    people = pa.table({"person": np.arange(n_persons), "seg": persons["seg"], "member": persons["member"],
                       "cards": persons["cards"], "card_offset": persons["card_offset"],
                       "age": persons["age_band"], "consent": rng.random(n_persons) < 0.6,
                       "joined": rng.integers(0, 3 * 365, n_persons)})
    con.register("people", people)
    con.register("store_frame", stores[["store_id", "format"]])
    con.register("campaign_frame", campaigns)
    segments = ", ".join(f"'{s}'" for s in SEGMENTS)
    bands = ", ".join(f"'{b}'" for b in AGE_BANDS)
    con.execute(f"""
CREATE TABLE stores AS SELECT * FROM store_frame;
CREATE TABLE campaigns AS SELECT campaign_id, name, CAST(start_date AS DATE) AS start_date,
    CAST(end_date AS DATE) AS end_date, type, discount_pct, CAST(product_ids AS VARCHAR[]) AS product_ids,
    CAST(store_ids AS VARCHAR[]) AS store_ids FROM campaign_frame;
CREATE TABLE person_keys AS
    SELECT 'customer' AS kind, printf('C%08d', person) AS key, printf('P%07d', person) AS person_id,
           'benchmark truth' AS evidence FROM people WHERE member
    UNION ALL
    SELECT 'card', printf('tok_%09d', card_offset + k), printf('P%07d', person), 'benchmark truth'
    FROM people, range(2) r(k) WHERE k < cards;
CREATE TABLE customers AS SELECT printf('C%08d', person) AS customer_id, [{bands}][age + 1] AS age_band,
    consent AS consent_marketing, TIMESTAMP '2025-01-01' - to_days(CAST(joined AS INTEGER)) AS created_at
    FROM people WHERE member;
CREATE TABLE planted AS SELECT printf('P%07d', person) AS person_id, [{segments}][seg + 1] AS segment
    FROM people""")
    counts = con.execute("""SELECT count(*), count(customer_id), count(card_token),
        count(*) FILTER (WHERE customer_id IS NULL AND card_token IS NULL) FROM transactions""").fetchall()[0]
    con.close()
    return {"persons": n_persons, "lines": n_lines, "stores": len(stores), "campaigns": len(campaigns),
            "seconds": time.perf_counter() - started, "lines_seconds": lines_seconds,
            "db_bytes": path.stat().st_size, "receipts_with_customer_id": counts[1],
            "receipts_with_card_token": counts[2], "receipts_without_any_key": counts[3],
            "share_with_customer_id": counts[1] / max(counts[0], 1),
            "planted_segment_shares": {s: SEGMENTS[s][0] for s in SEGMENTS}}


# --------------------------------------------------------------------------------------------------- scoring


def planted_ari(con: Any, labels: Any) -> dict[str, Any]:
    """ARI of `labels` (person_id, label) against the planted segments, and the planted mix of each label."""
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score

    truth = con.execute("SELECT person_id, segment FROM planted").df()
    both = labels.merge(truth, on="person_id", how="inner")
    mix = pd.crosstab(both["label"], both["segment"], normalize="index")
    top = pd.DataFrame({"size": both["label"].value_counts(), "planted_majority": mix.idxmax(axis=1),
                        "purity": mix.max(axis=1)})
    return {"ari": float(adjusted_rand_score(both["segment"], both["label"])), "persons": len(both),
            "segments": {str(k): v for k, v in top.sort_index().to_dict(orient="index").items()}}


def pair_scores(found: Any, truth: Any, cluster: str) -> dict[str, Any]:
    """Pairwise precision, recall and F1 of `found[cluster]` against `truth.person_id`, joined on customer_id."""
    both = found[["customer_id", cluster]].merge(truth[["customer_id", "person_id"]], on="customer_id")

    def pairs(columns: list[str]) -> int:
        sizes = both.groupby(columns, sort=False).size().to_numpy().astype("int64")
        return int((sizes * (sizes - 1) // 2).sum())

    predicted, true, hit = pairs([cluster]), pairs(["person_id"]), pairs([cluster, "person_id"])
    precision = hit / predicted if predicted else 1.0
    recall = hit / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "pairs_predicted": predicted, "pairs_true": true,
            "pairs_correct": hit, "clusters": int(both[cluster].nunique()), "persons_true": int(
                both["person_id"].nunique()), "records": len(both)}


class Clock:
    """Wall seconds per named phase, printed as they end."""

    def __init__(self, label: str) -> None:
        self.label, self.phases = label, {}
        self.started = self.last = time.perf_counter()

    def __call__(self, name: str) -> float:
        now = time.perf_counter()
        self.phases[name] = now - self.last
        self.last = now
        print(f"    {self.label}: {name} {self.phases[name]:.1f} s", flush=True)
        return self.phases[name]

    @property
    def total(self) -> float:
        return time.perf_counter() - self.started


class TimedConnection:
    """A DuckDB connection that times each statement `person_features` runs; anything else goes straight through."""

    def __init__(self, con: Any) -> None:
        self.con, self.statements = con, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)

    def execute(self, sql: str, parameters: Any = None) -> Any:
        started = time.perf_counter()
        result = self.con.execute(sql, parameters) if parameters is not None else self.con.execute(sql)
        self.statements.append({"seconds": time.perf_counter() - started, "rss_mb": rss_mb(),
                                "sql": " ".join(sql.split())[:160]})
        return result


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


# --------------------------------------------------------------------------------------------------- Shelfwise


def part_shelfwise(args: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    from shelfwise.customers.features import person_features
    from shelfwise.customers.segments import SegmentSettings, segment_customers

    baseline = rss_mb()
    clock = Clock("shelfwise")
    con = duckdb.connect(args["db"], read_only=True)
    con.execute(f"SET threads = {DUCKDB_THREADS}; SET memory_limit = '{DUCKDB_MEMORY}'; "
                f"SET temp_directory = '{args['temp']}'; SET enable_progress_bar = false")
    timed = TimedConnection(con)
    features = person_features(timed, "person_keys", AS_OF)
    feature_seconds = clock("person_features")
    for statement in sorted(timed.statements, key=lambda x: -x["seconds"])[:5]:
        print(f"      {statement['seconds']:6.1f} s  {statement['sql'][:110]}", flush=True)
    settings = SegmentSettings()
    segmentation = segment_customers(features, settings)
    segment_seconds = clock("segment_customers")
    wall = clock.total
    labels = segmentation.assignments[segmentation.assignments["segment_id"] >= 0]
    names = segmentation.profiles.set_index("segment_id")[["segment_name_en", "segment_name_pt"]]
    quality = planted_ari(con, labels.rename(columns={"segment_id": "label"}))
    for key, row in quality["segments"].items():
        row["name_en"], row["name_pt"] = names.loc[int(key)].tolist()
    con.close()
    selection = segmentation.selection
    return {"wall_seconds": wall, "features_seconds": feature_seconds, "segmentation_seconds": segment_seconds,
            "rss_after_imports_mb": baseline, "persons_with_features": len(features),
            "feature_columns": [c for c in features.columns if c != "person_id"],
            "features_used": list(segmentation.features_used), "persons_segmented": len(labels),
            "person_features_statements": [s for s in timed.statements if s["seconds"] >= 0.05],
            "excluded": segmentation.excluded, "k_chosen": int(selection.loc[selection["chosen"], "k"].iloc[0]),
            "selection": selection.to_dict(orient="records"), "planted": quality,
            "settings": repr(settings), "duckdb": {"threads": DUCKDB_THREADS, "memory_limit": DUCKDB_MEMORY}}


# --------------------------------------------------------------------------------------------------- peer

PEER_SQL = """
SELECT coalesce(kc.person_id, kk.person_id) AS person_id, t.timestamp, t.amount, t.store_id, s.format
FROM transactions t
LEFT JOIN person_keys kc ON kc.kind = 'customer' AND kc.key = t.customer_id
LEFT JOIN person_keys kk ON kk.kind = 'card' AND kk.key = t.card_token
LEFT JOIN stores s ON s.store_id = t.store_id
WHERE t.timestamp < ? AND coalesce(kc.person_id, kk.person_id) IS NOT NULL"""


def part_peer(args: dict[str, Any]) -> dict[str, Any]:
    """The notebook: one query for the receipts, then pandas and scikit-learn with their defaults."""
    import duckdb
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    baseline = rss_mb()
    clock = Clock("peer")
    as_of = pd.Timestamp(AS_OF)
    con = duckdb.connect(args["db"], read_only=True)
    df = con.execute(PEER_SQL, [as_of + pd.Timedelta(days=1)]).df()
    campaigns = con.execute("SELECT * FROM campaigns").df()
    con.close()
    clock("read receipts (DuckDB .df())")

    df["weekend"] = df["timestamp"].dt.dayofweek >= 5
    df["hour_band"] = pd.cut(df["timestamp"].dt.hour, [-1, 11, 13, 17, 24],
                             labels=["morning", "lunch", "afternoon", "evening"])
    day = df["timestamp"].dt.normalize()
    df["promo"] = False
    for c in campaigns.itertuples():
        if c.discount_pct > 0 or c.type in ("discount", "coupon", "bundle"):
            in_store = df["store_id"].isin(c.store_ids) if len(c.store_ids) else True
            df["promo"] |= day.between(pd.Timestamp(c.start_date), pd.Timestamp(c.end_date)) & in_store
    clock("receipt flags")

    feats = df.groupby("person_id").agg(receipts=("amount", "size"), spend=("amount", "sum"),
                                        avg_ticket=("amount", "mean"), last=("timestamp", "max"),
                                        weekend_share=("weekend", "mean"), promo_share=("promo", "mean"),
                                        stores=("store_id", "nunique"))
    feats["recency_days"] = (as_of - feats.pop("last").dt.normalize()).dt.days
    hours = pd.crosstab(df["person_id"], df["hour_band"], normalize="index").add_prefix("hour_")
    cats = df.pivot_table(index="person_id", columns="format", values="amount", aggfunc="sum", fill_value=0)
    cats = cats.div(cats.sum(axis=1), axis=0).add_prefix("cat_")
    feats = feats.join(hours).join(cats).fillna(0)
    del df, day
    clock("features (groupby, crosstab, pivot_table)")

    X = StandardScaler().fit_transform(feats)
    scores, models = {}, {}
    for k in range(3, 9):
        models[k] = KMeans(n_clusters=k, random_state=0).fit(X)
        scores[k] = float(silhouette_score(X, models[k].labels_, sample_size=10_000, random_state=0))
        print(f"      k={k} silhouette {scores[k]:.3f}", flush=True)
    best = max(scores, key=scores.get)
    labels = pd.DataFrame({"person_id": feats.index, "label": models[best].labels_})
    clock("scale + K-means k=3..8 + silhouette")
    wall = clock.total

    con = duckdb.connect(args["db"], read_only=True)
    everyone = planted_ari(con, labels)
    thick = labels[feats["receipts"].to_numpy() >= 2]
    clustered = planted_ari(con, thick)
    con.close()
    return {"wall_seconds": wall, "phases_seconds": clock.phases, "rss_after_imports_mb": baseline,
            "persons": len(feats), "feature_columns": list(feats.columns), "k_chosen": best,
            "silhouette_by_k": scores, "planted_all_persons": everyone,
            "ari_persons_with_2_receipts": clustered["ari"], "persons_with_2_receipts": clustered["persons"]}


# --------------------------------------------------------------------------------------------------- identity


def exact_key_clusters(records: Any) -> Any:
    """The spreadsheet way: records sharing the digits of their CPF or their lower-cased e-mail are one person."""
    import numpy as np
    import pandas as pd
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    cpf = records["document"].str.replace(r"\D", "", regex=True).str.zfill(11)
    email = records["email"].str.strip().str.lower()
    keys = pd.concat([("cpf:" + cpf[cpf.str.len() == 11]), ("email:" + email[email.str.len() > 0])])
    key_codes, _ = pd.factorize(keys)
    n = len(records)
    rows = records.index.get_indexer(keys.index)
    graph = coo_matrix((np.ones(len(keys)), (rows, n + key_codes)), shape=(n + key_codes.max() + 1,) * 2)
    _, component = connected_components(graph, directed=False)
    return pd.DataFrame({"customer_id": records["customer_id"], "cluster_key": component[:n]})


def part_identity(args: dict[str, Any]) -> dict[str, Any]:
    from shelfwise.customers.identity import IdentitySettings, resolve_customers
    from shelfwise.demo.identity_cases import identity_records

    baseline = rss_mb()
    started = time.perf_counter()
    records, truth = identity_records(args["records"], duplicate_share=0.1, seed=0)
    generated = time.perf_counter() - started
    print(f"    identity: {len(records):,} records generated in {generated:.1f} s", flush=True)
    settings = IdentitySettings()
    started = time.perf_counter()
    resolution = resolve_customers(records, settings)
    seconds = time.perf_counter() - started
    shelfwise_scores = pair_scores(resolution.records, truth, "cluster_key")
    print(f"    identity: resolve_customers {seconds:.1f} s, F1 {shelfwise_scores['f1']:.4f}", flush=True)
    rss_shelfwise = rss_mb()
    started = time.perf_counter()
    exact = exact_key_clusters(records)
    exact_seconds = time.perf_counter() - started
    exact_scores = pair_scores(exact, truth, "cluster_key")
    print(f"    identity: exact CPF/e-mail keys {exact_seconds:.1f} s, F1 {exact_scores['f1']:.4f}", flush=True)
    return {"records": len(records), "duplicate_share": 0.1, "generate_seconds": generated,
            "rss_after_imports_mb": baseline, "rss_after_resolve_mb": rss_shelfwise,
            "shelfwise": {"seconds": seconds, **shelfwise_scores, "review_pairs": len(resolution.review),
                          "conflicts": len(resolution.conflicts), "settings": repr(settings),
                          "stats": resolution.stats},
            "exact_keys_peer": {"seconds": exact_seconds, **exact_scores,
                                "rule": "same digits-only CPF (11 digits) or same lower-cased e-mail, transitively"}}


# --------------------------------------------------------------------------------------------------- driver


def worker(argv: list[str]) -> None:
    """`_worker PART ARGS_JSON RESULT_JSON`: run one part, write its figures."""
    part, arguments, target = argv
    warnings.filterwarnings("ignore")
    run = {"generate": part_generate, "shelfwise": part_shelfwise, "peer": part_peer, "identity": part_identity}
    out = run[part](json.loads(arguments))
    Path(target).write_text(json.dumps(to_json(out), indent=2, ensure_ascii=False), encoding="utf-8")


def tree_rss(process: Any) -> int:
    """RSS of a process and its children (bytes); 0 when it is gone."""
    import psutil

    total = 0
    with contextlib.suppress(psutil.Error):
        for proc in [process, *process.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
    return total


def folder_mb(folder: Path | None) -> float:
    """Size of the files under `folder` (DuckDB's spill files), 0 when it is missing."""
    total = 0
    with contextlib.suppress(OSError):  # DuckDB creates and removes the folder as it goes
        for root, _, files in os.walk(folder or "/nonexistent"):
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.stat(os.path.join(root, name)).st_size
    return total / 2**20


def run_part(part: str, arguments: dict[str, Any], folder: Path, cap_mb: float,
             spill: Path | None = None) -> dict[str, Any]:
    """Run a part in a fresh subprocess, sampling its memory; its figures with wall time, peaks and load.

    `spill`: a folder whose size is sampled too (DuckDB's temp_directory).
    """
    import psutil

    target = folder / f"{part}.json"
    target.unlink(missing_ok=True)
    load_before = os.getloadavg()
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "_worker", part,
                              json.dumps(arguments), str(target)])
    process = psutil.Process(child.pid)
    peak, loads, killed, last_load, spilled = 0, [], False, 0.0, 0.0
    try:
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, tree_rss(process))
            if peak > cap_mb * 2**20 and not killed:
                print(f"  {part}: RSS {peak / 2**20:,.0f} MB passed the cap of {cap_mb:,.0f} MB; stopping it",
                      flush=True)
                child.kill()
                killed = True
            if time.perf_counter() - last_load >= 2:
                loads.append(os.getloadavg()[0])
                spilled = max(spilled, folder_mb(spill))
                last_load = time.perf_counter()
            time.sleep(0.2)
    except BaseException:  # never leave the worker running behind us
        child.kill()
        child.wait()
        raise
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    memory = {"peak_rss_sampled_mb": peak / 2**20, "ru_maxrss_mb": usage.ru_maxrss / 1024,
              "cpu_seconds": usage.ru_utime + usage.ru_stime, "process_seconds": wall,
              **({"duckdb_spill_peak_mb": spilled} if spill is not None else {}),
              "load_average_before": load_before,
              "load_average_1min_during": {"mean": sum(loads) / len(loads), "max": max(loads)} if loads else None}
    if child.returncode != 0 or not target.exists():
        reason = f"killed at the memory cap of {cap_mb:,.0f} MB" if killed else f"exited with {child.returncode}"
        return {"error": f"worker {part} {reason}", **memory}
    return {**json.loads(target.read_text(encoding="utf-8")), **memory}


def machine() -> dict[str, Any]:
    """What the figures were measured on, and which source they measured."""
    def package(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=BENCH.parent, capture_output=True, text=True, check=False)
        return done.stdout.rstrip()

    memory_gb = None
    with contextlib.suppress(ValueError, OSError):
        memory_gb = round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1)
    names = ("shelfwise", "pandas", "numpy", "duckdb", "scikit-learn", "scipy", "splink", "pyarrow", "psutil")
    sources = sorted((BENCH.parent / "src" / "shelfwise" / "customers").glob("*.py"))
    sources.append(BENCH.parent / "src" / "shelfwise" / "demo" / "identity_cases.py")
    digests = {path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:12] for path in sources if path.exists()}
    return {"cpu_count": os.cpu_count(), "cpu": platform.processor() or platform.machine(), "memory_gb": memory_gb,
            "python": platform.python_version(), "platform": platform.platform(),
            "load_average_at_start": os.getloadavg(),
            "versions": {name: package(name) for name in names},
            "git_head": git("rev-parse", "--short", "HEAD").strip(),
            "src_uncommitted_changes": git("status", "--porcelain", "--", "src").splitlines(),
            "customers_source_sha256": digests}


def best_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest successful run, with every run's wall time, peak and load beside it."""
    ok = [r for r in runs if "wall_seconds" in r] or runs
    best = dict(min(ok, key=lambda r: r.get("wall_seconds", math.inf)))
    best["runs"] = [{"wall_seconds": r.get("wall_seconds"), "ru_maxrss_mb": r["ru_maxrss_mb"],
                     "cpu_seconds": r["cpu_seconds"], "load_average_before": r["load_average_before"][0],
                     "load_average_1min_during": r["load_average_1min_during"], "error": r.get("error")}
                    for r in runs]
    return best


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def compare(report: dict[str, Any]) -> dict[str, Any] | None:
    """Peer over Shelfwise: wall time, peak memory, ARI."""
    ours, peer = report.get("shelfwise", {}), report.get("peer", {})
    if "wall_seconds" not in ours or "wall_seconds" not in peer:
        return None
    return {"time_peer_over_shelfwise": ratio(peer["wall_seconds"], ours["wall_seconds"]),
            "peak_memory_peer_over_shelfwise": ratio(peer["ru_maxrss_mb"], ours["ru_maxrss_mb"]),
            "cpu_seconds_peer_over_shelfwise": ratio(peer["cpu_seconds"], ours["cpu_seconds"]),
            "ari_shelfwise": ours["planted"]["ari"], "ari_peer_all_persons": peer["planted_all_persons"]["ari"],
            "ari_peer_persons_with_2_receipts": peer["ari_persons_with_2_receipts"]}


def target(value: Any, goal: str, met: bool | None, **extra: Any) -> dict[str, Any]:
    return {"value": value, "target": goal, "met": met, **extra}


def targets(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target of the issue: value, target, met (None when it is a figure to report, not a threshold)."""
    out: dict[str, dict[str, Any]] = {}
    ours = report.get("shelfwise", {})
    size = f"{report['persons']:,} persons / {report['lines']:,} lines"
    if "wall_seconds" in ours:
        out["segmentation_feasible_on_this_machine"] = target(
            ours["wall_seconds"], f"features + segmentation of {size} complete on {os.cpu_count()} cores under the "
            f"{report['memory_cap_mb']:,} MB cap (report, no time threshold)", True,
            peak_rss_mb=ours["ru_maxrss_mb"], features_seconds=ours["features_seconds"],
            segmentation_seconds=ours["segmentation_seconds"], ari=ours["planted"]["ari"])
    elif "shelfwise" in report:
        out["segmentation_feasible_on_this_machine"] = target(None, f"complete for {size}", False,
                                                              error=ours.get("error"))
    identity = report.get("identity", {})
    if "shelfwise" in identity:
        f1 = identity["shelfwise"]["f1"]
        out["identity_f1"] = target(f1, f">= {TARGET_F1} at {identity['records']:,} records", f1 >= TARGET_F1,
                                    precision=identity["shelfwise"]["precision"],
                                    recall=identity["shelfwise"]["recall"],
                                    exact_keys_peer_f1=identity["exact_keys_peer"]["f1"])
    ratios = report.get("peer_comparison")
    if ratios:
        out["peer_time_ratio"] = target(ratios["time_peer_over_shelfwise"],
                                        "report: pandas + scikit-learn wall time / Shelfwise's (> 1: Shelfwise faster)",
                                        None)
        out["peer_memory_ratio"] = target(ratios["peak_memory_peer_over_shelfwise"],
                                          "report: peak RSS of the notebook / Shelfwise's (> 1: Shelfwise leaner)",
                                          None)
        out["peer_cpu_ratio"] = target(ratios["cpu_seconds_peer_over_shelfwise"],
                                       "report: CPU seconds of the notebook process / Shelfwise's (less sensitive "
                                       "to other work on the machine than wall time)", None)
        out["peer_ari"] = target(ratios["ari_peer_persons_with_2_receipts"],
                                 f"report: the notebook's ARI against the planted segments (Shelfwise "
                                 f"{ratios['ari_shelfwise']:.3f}), on the persons Shelfwise clusters", None)
    return out


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def load_text(part: dict[str, Any]) -> str:
    """The 1-minute load average before and during a part, and every run's wall time when it was repeated."""
    during = part.get("load_average_1min_during") or {}
    text = f"load {part['load_average_before'][0]:.1f} before, {during.get('mean', math.nan):.1f} during"
    if len(part.get("runs", [])) > 1:
        text += "; runs " + ", ".join(f"{fmt(r['wall_seconds'], 1)} s" for r in part["runs"])
    return text


def print_summary(report: dict[str, Any]) -> None:
    print()
    gen = report.get("generate")
    if gen and "seconds" in gen:
        print(f"generate: {gen['persons']:,} persons, {gen['lines']:,} lines in {gen['seconds']:.0f} s "
              f"({gen['db_bytes'] / 2**20:,.0f} MB file; {gen['share_with_customer_id']:.0%} of receipts carry a "
              f"loyalty id)")
    for name in ("shelfwise", "peer", "identity"):
        part = report.get(name)
        if part and "error" in part:
            print(f"{name}: FAILED ({part['error']}); peak RSS {part['ru_maxrss_mb']:,.0f} MB")
    ours, peer = report.get("shelfwise", {}), report.get("peer", {})
    if "wall_seconds" in ours:
        print(f"shelfwise: {ours['wall_seconds']:.1f} s (person_features {ours['features_seconds']:.1f} s, "
              f"segment_customers {ours['segmentation_seconds']:.1f} s), peak RSS {ours['ru_maxrss_mb']:,.0f} MB, "
              f"{ours['persons_segmented']:,} persons segmented (excluded {ours['excluded']}), k = {ours['k_chosen']},"
              f" ARI {ours['planted']['ari']:.3f}; {ours['cpu_seconds']:.0f} CPU s, DuckDB spilled up to "
              f"{ours.get('duckdb_spill_peak_mb', 0):,.0f} MB; {load_text(ours)}")
        for key, row in ours["planted"]["segments"].items():
            print(f"    segment {key}: {row['name_en']:<28} {row['size']:>9,}  mostly {row['planted_majority']:<20} "
                  f"purity {row['purity']:.2f}")
    if "wall_seconds" in peer:
        print(f"peer (pandas + scikit-learn): {peer['wall_seconds']:.1f} s "
              f"({', '.join(f'{k} {v:.1f}' for k, v in peer['phases_seconds'].items())}), peak RSS "
              f"{peer['ru_maxrss_mb']:,.0f} MB, k = {peer['k_chosen']}, ARI {peer['planted_all_persons']['ari']:.3f} "
              f"(all {peer['persons']:,}), {peer['ari_persons_with_2_receipts']:.3f} (>= 2 receipts); "
              f"{peer['cpu_seconds']:.0f} CPU s; {load_text(peer)}")
    if report.get("peer_comparison"):
        c = report["peer_comparison"]
        print(f"peer / shelfwise: wall time {fmt(c['time_peer_over_shelfwise'], 2)}x, CPU time "
              f"{fmt(c['cpu_seconds_peer_over_shelfwise'], 2)}x, "
              f"peak memory {fmt(c['peak_memory_peer_over_shelfwise'], 2)}x")
    identity = report.get("identity", {})
    if "shelfwise" in identity:
        for label, key in (("resolve_customers", "shelfwise"), ("exact CPF/e-mail keys", "exact_keys_peer")):
            s = identity[key]
            print(f"identity {identity['records']:,} records, {label}: {s['seconds']:.1f} s, P {s['precision']:.4f} "
                  f"R {s['recall']:.4f} F1 {s['f1']:.4f}" + (f", {s['review_pairs']:,} review pairs"
                                                           if "review_pairs" in s else ""))
        print(f"    peak RSS {identity['ru_maxrss_mb']:,.0f} MB (process, generator included)")
    print()
    for name, check in report["targets"].items():
        mark = {True: "MET ", False: "MISS", None: "info"}[check["met"]]
        print(f"  [{mark}] {name}: {fmt(check['value'])} ({check['target']})")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000, help="persons of the synthetic chain")
    parser.add_argument("--lines", type=int, default=20_000_000, help="receipt lines (one per receipt)")
    parser.add_argument("--records", type=int, default=200_000, help="customer records for identity resolution")
    parser.add_argument("--parts", default="generate,shelfwise,peer,identity", help="parts to run (comma separated)")
    parser.add_argument("--workdir", type=Path,
                        help="folder for the DuckDB file, kept afterwards (reused when it holds the same size); "
                             "default: a temporary folder, removed")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of the shelfwise and peer parts, alternated; the fastest of each is kept")
    parser.add_argument("--memory-cap-mb", type=float, default=MEMORY_CAP_MB, help="a part passing this is stopped")
    parser.add_argument("--quick", action="store_true", help="smoke run at ~1%%: 10,000 persons, 200,000 lines, "
                                                             "20,000 records")
    parser.add_argument("--out", type=Path, help="JSON file to write (default bench/results/customers.json)")
    args = parser.parse_args()
    if args.quick:
        args.persons, args.lines, args.records = 10_000, 200_000, 20_000
    return args


def main() -> None:
    if sys.argv[1:2] == ["_worker"]:
        worker(sys.argv[2:])
        return
    args = arguments()
    out_path = args.out or (QUICK_RESULTS if args.quick else RESULTS)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    started = time.perf_counter()
    if os.getloadavg()[0] > 0.5:
        print(f"warning: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; figures will be noisy")
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="shelfwise-bench-customers-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / f"chain_{args.persons}_{args.lines}.duckdb"
    report: dict[str, Any] = {
        "command": "python bench/customers.py " + " ".join(sys.argv[1:]),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "method": "each part in a fresh subprocess of this script on the same DuckDB file; wall times exclude "
                  "interpreter start and imports (process_seconds includes them); peak memory = the part process's "
                  "ru_maxrss (wait4) and the RSS of its process tree sampled every 0.2 s; ARI against the planted "
                  "segments; identity scored on record pairs",
        "persons": args.persons, "lines": args.lines, "records": args.records, "as_of": AS_OF.isoformat(),
        "memory_cap_mb": args.memory_cap_mb,
    }
    size = {"persons": args.persons, "lines": args.lines, "db": str(db)}
    try:
        needs_data = {"shelfwise", "peer"} & set(parts)
        if "generate" in parts or (needs_data and not db.exists()):
            print(f"generate: {args.persons:,} persons, {args.lines:,} lines -> {db} ...", flush=True)
            report["generate"] = run_part("generate", size, folder, args.memory_cap_mb)
        runs: dict[str, list[dict[str, Any]]] = {"shelfwise": [], "peer": []}
        for attempt in range(1, args.repeat + 1):  # alternated, so a burst of other work hits both alike
            if "shelfwise" in parts:
                print(f"shelfwise ({attempt}/{args.repeat}): person_features + segment_customers ...", flush=True)
                temp = folder / "duckdb_temp"
                runs["shelfwise"].append(run_part("shelfwise", {**size, "temp": str(temp)}, folder,
                                                  args.memory_cap_mb, spill=temp))
                shutil.rmtree(temp, ignore_errors=True)
            if "peer" in parts:
                print(f"peer ({attempt}/{args.repeat}): pandas + scikit-learn notebook ...", flush=True)
                runs["peer"].append(run_part("peer", size, folder, args.memory_cap_mb))
        for name, done in runs.items():
            if done:
                report[name] = best_of(done)
        if "identity" in parts:
            print(f"identity: {args.records:,} records ...", flush=True)
            report["identity"] = run_part("identity", {"records": args.records}, folder, args.memory_cap_mb)
    finally:
        if args.workdir is None:
            shutil.rmtree(folder, ignore_errors=True)
    report["peer_comparison"] = compare(report)
    report["total_seconds"] = time.perf_counter() - started
    report["targets"] = targets(report)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_summary(report)
    print(f"\ntotal {report['total_seconds'] / 60:.1f} min; written {out_path}")


if __name__ == "__main__":
    main()
