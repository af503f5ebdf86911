"""A São Paulo shopping mall: receipts, footfall and a streaming partnership, driven by latent segments.

Each segment plants behaviour a segmentation should recover (weekend share, ticket, preferred formats,
hours, dwell, app use, promotion share); the streaming offer plants a take-up propensity whose true value
per person is kept in the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from shelfwise.demo import people as ppl
from shelfwise.demo.catalog import tenants_frame
from shelfwise.demo.seasons import black_friday

MALL_DAYS = 456
N_PERSONS = 2500
PACKAGES = (("StreamMax Essencial", 29.90), ("StreamMax Família", 49.90), ("StreamMax Premium", 59.90))
_PACKAGE_SHARE = {  # Essencial, Família, Premium
    "weekend_family": (0.2, 0.7, 0.1), "premium": (0.15, 0.15, 0.7), "deal_hunter": (0.8, 0.15, 0.05),
    "young_entertainment": (0.55, 0.1, 0.35), "weekday_routine": (0.6, 0.3, 0.1),
}
_OFFER_BASE = {"weekend_family": 0.12, "premium": 0.1, "deal_hunter": 0.05, "young_entertainment": 0.16,
               "weekday_routine": 0.03}
_PAYMENTS = ("Crédito", "Débito", "Pix", "Vale-refeição")
_PAYMENT_MIX = {"weekend_family": (0.55, 0.2, 0.2, 0.05), "premium": (0.8, 0.05, 0.15, 0.0),
                "deal_hunter": (0.3, 0.35, 0.35, 0.0), "young_entertainment": (0.3, 0.25, 0.45, 0.0),
                "weekday_routine": (0.3, 0.3, 0.15, 0.25)}
_ITEMS = {"supermercado": 7.0, "alimentação": 1.5, "moda": 1.2, "farmácia": 2.0, "infantil": 1.0, "cinema": 1.2}
_SALES = (("Liquida Verão", 1, 8, 14, 30), ("Dia das Mães", 5, 1, 10, 25), ("Liquida Inverno", 7, 5, 14, 40),
          ("Dia dos Pais", 8, 1, 10, 20), ("Dia das Crianças", 10, 1, 11, 20), ("Black Friday Shopping", 11, 0, 7, 40),
          ("Natal Mágico", 12, 5, 20, 15))


@dataclass
class Mall:
    """The simulated mall and everything its systems recorded."""

    start: date
    end: date
    tenants: pd.DataFrame
    people: pd.DataFrame
    records: pd.DataFrame
    campaigns: pd.DataFrame
    receipts: pd.DataFrame
    visits: pd.DataFrame
    propensity: pd.DataFrame
    subscriptions: pd.DataFrame


def simulate_mall(rng: np.random.Generator, end_date: date) -> Mall:
    """Persons, their records, receipts, visits and subscriptions over the last ~15 months."""
    start = end_date - timedelta(days=MALL_DAYS - 1)
    tenants = tenants_frame()
    people = ppl.persons(rng, N_PERSONS, start, end_date)
    people["cards"] = _cards(rng, len(people))
    records = ppl.customer_records(rng, people, end_date, start)
    campaigns = _mall_campaigns(start, end_date, tenants)
    receipts = _receipts(rng, people, records, tenants, campaigns, start)
    visits = _visits(rng, people, records, receipts, start)
    propensity = _propensity(rng, people, receipts, tenants, end_date)
    subs = _subscriptions(rng, people, records, propensity, campaigns)
    return Mall(start=start, end=end_date, tenants=tenants, people=people, records=records, campaigns=campaigns,
                receipts=receipts, visits=visits, propensity=propensity, subscriptions=subs)


def _hex(rng: np.random.Generator, n: int, prefix: str, digits: int) -> np.ndarray:
    values = rng.integers(0, 2**63 - 1, n, dtype=np.int64) % 16**min(digits, 15)
    salt = rng.integers(0, 16, n)
    return np.array([f"{prefix}{s:x}{v:0{min(digits, 15)}x}"[: len(prefix) + digits] for s, v in zip(salt, values,
                                                                                                strict=True)],
                    dtype=object)


def _cards(rng: np.random.Generator, n: int) -> list[list[str]]:
    """One to three payment tokens per person (cards and wallets)."""
    counts = rng.choice([1, 2, 3], n, p=[0.5, 0.35, 0.15])
    tokens = _hex(rng, int(counts.sum()), "tok_", 16)
    return [list(t) for t in np.split(tokens, np.cumsum(counts)[:-1])]


def _mall_campaigns(start: date, end: date, tenants: pd.DataFrame) -> pd.DataFrame:
    """The mall's sales calendar plus the streaming partnership that sold the packages."""
    rows = []
    for year in range(start.year, end.year + 1):
        for name, month, day, length, discount in _SALES:
            first = black_friday(year) - timedelta(days=3) if month == 11 else date(year, month, day)
            last = first + timedelta(days=length - 1)
            if first >= start and last <= end:
                formats = {"moda", "infantil", "eletrônicos", "beleza"} if "Liquida" in name else None
                ids = tenants["store_id"] if formats is None else tenants.loc[tenants["format"].isin(formats),
                                                                               "store_id"]
                rows.append({"name": f"{name} {year}", "start_date": first, "end_date": last, "type": "discount",
                             "discount_pct": discount, "channel": "redes sociais", "store_ids": list(ids),
                             "segment": "Todos", "cost": 35000.0 + 1000 * length})
    stream_start = end - timedelta(days=180)
    rows.append({"name": "StreamMax no Parque Paulista", "start_date": stream_start,
                 "end_date": stream_start + timedelta(days=89), "type": "partnership", "discount_pct": 0,
                 "channel": "app", "store_ids": [], "segment": "Família de fim de semana, Jovem entretenimento",
                 "cost": 60000.0})
    frame = pd.DataFrame(rows).sort_values("start_date", kind="stable").reset_index(drop=True)
    frame.insert(0, "campaign_id", [f"SHP-C{i:02d}" for i in range(1, len(frame) + 1)])
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    frame["end_date"] = pd.to_datetime(frame["end_date"])
    return frame


def _favourites(rng: np.random.Generator, people: pd.DataFrame, weights: np.ndarray) -> np.ndarray:
    """Three favourite tenants per person, drawn without replacement by the Gumbel top-k trick."""
    scores = np.log(weights[people["seg"].to_numpy()]) + rng.gumbel(size=(len(people), weights.shape[1]))
    return np.argsort(-scores, axis=1)[:, :3]


def _segment_weights(tenants: pd.DataFrame, seg: pd.DataFrame) -> np.ndarray:
    rows = [tenants["format"].map(lambda f, s=s: ppl.FORMATS[s].get(f, 0.15)).to_numpy() * tenants["popularity"]
            for s in seg["segment"]]
    w = np.array(rows, dtype=float)
    return w / w.sum(axis=1, keepdims=True)


def _receipt_days(rng: np.random.Generator, who: pd.DataFrame, seg: pd.DataFrame, sales: pd.DataFrame,
                  start: date) -> np.ndarray:
    """Receipt day offsets: weekday mix per segment, and deal hunters crowd into sale windows."""
    n = len(who)
    a, b = who["a"].to_numpy(), who["b"].to_numpy()
    codes = who["seg"].to_numpy()
    day = a + np.floor(rng.random(n) * (b - a + 1)).astype(np.int64)
    weekend = rng.random(n) < seg["weekend_share"].to_numpy()[codes]
    target = np.where(weekend, np.where(rng.random(n) < 0.55, 5, 6), rng.integers(0, 5, n))
    dow = (pd.Timestamp(start).day_of_week + day) % 7
    shifted = day + (target - dow) % 7
    shifted = np.where(shifted > b, shifted - 7, shifted)
    day = np.where(shifted >= a, shifted, day)
    s0 = (sales["start_date"] - pd.Timestamp(start)).dt.days.to_numpy()
    s1 = (sales["end_date"] - pd.Timestamp(start)).dt.days.to_numpy()
    pick = rng.integers(0, len(s0), n)
    lo, hi = np.maximum(a, s0[pick]), np.minimum(b, s1[pick])
    in_sale = (rng.random(n) < seg["promo_share"].to_numpy()[codes]) & (lo <= hi)
    return np.where(in_sale, lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64), day)


def _receipts(rng: np.random.Generator, people: pd.DataFrame, records: pd.DataFrame, tenants: pd.DataFrame,
              campaigns: pd.DataFrame, start: date) -> pd.DataFrame:
    """Receipts (one row each) for every person over their active months."""
    seg = ppl.segments()
    span = MALL_DAYS - 1
    a = np.maximum(people["join_day"].to_numpy(), 0)
    b = np.minimum(people["churn_day"].to_numpy(), span)
    months = np.clip(b - a, 0, None) / 30.4
    rate = seg["receipts_per_month"].to_numpy()[people["seg"]] * people["activity"].to_numpy() * 1.3
    counts = rng.poisson(rate * months)
    who = people.loc[people.index.repeat(counts)].reset_index()
    who["a"], who["b"] = a[who["index"]], b[who["index"]]
    n = len(who)
    codes = who["seg"].to_numpy()
    sales = campaigns[campaigns["type"] == "discount"]
    day = _receipt_days(rng, who, seg, sales, start)
    weights = _segment_weights(tenants, seg)
    fav = _favourites(rng, people, weights)[who["index"]]
    store = fav[np.arange(n), rng.integers(0, 3, n)]
    roam = rng.random(n) >= 0.65
    cum = np.cumsum(weights, axis=1)[codes[roam]]
    store[roam] = np.minimum((rng.random(roam.sum())[:, None] > cum).sum(axis=1), len(tenants) - 1)
    date_ = pd.Timestamp(start) + pd.to_timedelta(day, unit="D")
    hour = _hours(rng, codes, seg, date_.day_of_week.to_numpy())
    ts = date_ + pd.to_timedelta(hour * 3600 + rng.integers(0, 3600, n), unit="s")
    fmt = tenants["format"].to_numpy()[store]
    amount = (tenants["ticket"].to_numpy()[store] * seg["spend"].to_numpy()[codes] * who["spend_person"].to_numpy()
              * np.exp(rng.normal(0, 0.45, n)))
    items = 1 + rng.poisson(pd.Series(fmt).map(lambda f: _ITEMS.get(f, 0.6)).to_numpy())
    payment = _payments(rng, codes, seg)
    card = _pick_cards(rng, people, who["index"].to_numpy())
    customer = _pick_customer(rng, people, who["index"].to_numpy(), records)
    frame = pd.DataFrame({"timestamp": ts, "person_id": who["person_id"], "segment": who["segment"],
                          "store_id": tenants["store_id"].to_numpy()[store], "format": fmt,
                          "amount": np.round(np.maximum(amount, 4.5), 2), "quantity": items, "payment": payment,
                          "card_token": card, "customer_id": customer, "in_sale": _in_windows(day, sales, start)})
    frame = frame.sort_values(["timestamp", "person_id"], kind="stable").reset_index(drop=True)
    frame.insert(0, "transaction_id", pd.Series(np.arange(1, n + 1) + 100_000_000).astype(str).str.zfill(10))
    return frame


def _in_windows(day: np.ndarray, sales: pd.DataFrame, start: date) -> np.ndarray:
    s0 = (sales["start_date"] - pd.Timestamp(start)).dt.days.to_numpy()
    s1 = (sales["end_date"] - pd.Timestamp(start)).dt.days.to_numpy()
    return ((day[:, None] >= s0[None]) & (day[:, None] <= s1[None])).any(axis=1)


def _hours(rng: np.random.Generator, codes: np.ndarray, seg: pd.DataFrame, dow: np.ndarray) -> np.ndarray:
    """Opening hours 10h-22h (Sunday 14h-20h), shaped per segment."""
    table = np.array([ppl.HOURS[s] for s in seg["segment"]], dtype=float)
    table /= table.sum(axis=1, keepdims=True)
    cum = np.cumsum(table, axis=1)[codes]
    hour = 10 + np.minimum((rng.random(len(codes))[:, None] > cum).sum(axis=1), 11)
    return np.where(dow == 6, np.clip(hour, 14, 19), hour)


def _payments(rng: np.random.Generator, codes: np.ndarray, seg: pd.DataFrame) -> np.ndarray:
    mix = np.cumsum(np.array([_PAYMENT_MIX[s] for s in seg["segment"]]), axis=1)[codes]
    return np.array(_PAYMENTS, dtype=object)[np.minimum((rng.random(len(codes))[:, None] > mix).sum(axis=1), 3)]


def _pick_cards(rng: np.random.Generator, people: pd.DataFrame, who: np.ndarray) -> np.ndarray:
    """Mostly the main card, sometimes another of the person's tokens (`who` indexes people per receipt)."""
    n_cards = people["cards"].map(len).to_numpy()
    flat = np.concatenate(people["cards"].to_numpy())
    offsets = np.concatenate([[0], np.cumsum(n_cards)[:-1]])
    other = np.floor(rng.random(len(who)) * n_cards[who]).astype(int)
    k = np.where(rng.random(len(who)) < 0.7, 0, other)
    return flat[offsets[who] + k]


def _pick_customer(rng: np.random.Generator, people: pd.DataFrame, who: np.ndarray,
                   records: pd.DataFrame) -> np.ndarray:
    """The loyalty id, present only when the app was used; usually the person's first record."""
    recs = records.sort_values(["person_id", "created_at"], kind="stable")
    counts = recs.groupby("person_id", sort=False).size()
    position = pd.Series(np.concatenate([[0], np.cumsum(counts.to_numpy())[:-1]]), index=counts.index)
    start = people["person_id"].map(position).fillna(-1).to_numpy(dtype=np.int64)[who]
    count = people["person_id"].map(counts).fillna(0).to_numpy(dtype=np.int64)[who]
    pick = np.where(rng.random(len(who)) < 0.2, np.floor(rng.random(len(who)) * count), 0).astype(np.int64)
    used = people["app"].to_numpy()[who] & (rng.random(len(who)) < 0.8) & (count > 0)
    ids = recs["customer_id"].to_numpy(dtype=object)
    return np.where(used, ids[np.where(used, start + pick, 0)], None)


def _visits(rng: np.random.Generator, people: pd.DataFrame, records: pd.DataFrame, receipts: pd.DataFrame,
            start: date) -> pd.DataFrame:
    """Wi-Fi sessions, app check-ins and parking entrances around purchases, browsing and anonymous devices."""
    seg = ppl.segments().set_index("segment")
    people = people.set_index("person_id")
    people["wifi_id"] = _hex(rng, len(people), "wf_", 12)
    people["plate_id"] = _hex(rng, len(people), "plc_", 10)
    people["app_id"] = records.sort_values("created_at").groupby("person_id")["customer_id"].first()
    base = receipts[["timestamp", "person_id", "segment", "store_id"]]
    browse = _browsing(rng, people, start)
    trips = pd.concat([base.assign(bought=True), browse.assign(bought=False)], ignore_index=True)
    n = len(trips)
    pos = people.index.get_indexer(trips["person_id"])
    who = {c: people[c].to_numpy()[pos] for c in ("wifi", "wifi_id", "app", "app_id", "drives", "plate_id")}
    dwell = np.clip(trips["segment"].map(seg["dwell"]).to_numpy(dtype=float) * np.exp(rng.normal(0, 0.4, n)),
                    5, 480)  # nobody stays longer than the mall is open
    parts = []
    wifi = who["wifi"] & (rng.random(n) < 0.65)
    parts.append(pd.DataFrame({
        "timestamp": trips["timestamp"] - pd.to_timedelta(rng.integers(5 * 60, 40 * 60, n), unit="s"),
        "visitor_id": who["wifi_id"], "source": "wifi",
        "store_id": trips["store_id"].where(rng.random(n) < 0.5, None), "dwell_minutes": np.round(dwell, 1),
        "person_id": trips["person_id"]})[wifi])
    app = who["app"] & (rng.random(n) < 0.45)
    parts.append(pd.DataFrame({
        "timestamp": trips["timestamp"] - pd.to_timedelta(rng.integers(60, 600, n), unit="s"),
        "visitor_id": who["app_id"], "source": "app", "store_id": trips["store_id"],
        "dwell_minutes": np.nan, "person_id": trips["person_id"]})[app])
    car = who["drives"] & (rng.random(n) < 0.7)
    parts.append(pd.DataFrame({
        "timestamp": trips["timestamp"] - pd.to_timedelta(rng.integers(10 * 60, 60 * 60, n), unit="s"),
        "visitor_id": who["plate_id"], "source": "entrance", "store_id": None,
        "dwell_minutes": np.round(dwell + rng.uniform(10, 30, n), 1), "person_id": trips["person_id"]})[car])
    parts.append(_anonymous(rng, start))
    visits = pd.concat(parts, ignore_index=True)
    visits["timestamp"] = visits["timestamp"].dt.floor("s")
    return visits.sort_values(["timestamp", "visitor_id"], kind="stable").reset_index(drop=True)


def _browsing(rng: np.random.Generator, people: pd.DataFrame, start: date) -> pd.DataFrame:
    """Trips without a purchase (window shopping, a coffee paid in cash, the cinema queue)."""
    span = MALL_DAYS - 1
    a = np.maximum(people["join_day"].to_numpy(), 0)
    b = np.minimum(people["churn_day"].to_numpy(), span)
    counts = rng.poisson(np.clip(b - a, 0, None) / 30.4 * 0.6)
    idx = np.repeat(np.arange(len(people)), counts)
    day = a[idx] + np.floor(rng.random(len(idx)) * (b - a + 1)[idx]).astype(np.int64)
    ts = (pd.Timestamp(start) + pd.to_timedelta(day, unit="D")
          + pd.to_timedelta(rng.integers(10 * 3600, 21 * 3600, len(idx)), unit="s"))
    return pd.DataFrame({"timestamp": ts, "person_id": people.index.to_numpy()[idx],
                         "segment": people["segment"].to_numpy()[idx], "store_id": None})


def _anonymous(rng: np.random.Generator, start: date) -> pd.DataFrame:
    """Devices of passers-by that never bought or signed up: visits with no person behind them."""
    n_dev = 4000
    counts = rng.integers(1, 3, n_dev)
    ids = np.repeat(_hex(rng, n_dev, "wf_", 12), counts)
    n = len(ids)
    ts = (pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, MALL_DAYS, n), unit="D")
          + pd.to_timedelta(rng.integers(10 * 3600, 21 * 3600, n), unit="s"))
    return pd.DataFrame({"timestamp": ts, "visitor_id": ids, "source": "wifi", "store_id": None,
                         "dwell_minutes": np.round(rng.gamma(2.0, 20.0, n), 1), "person_id": None})


def _propensity(rng: np.random.Generator, people: pd.DataFrame, receipts: pd.DataFrame, tenants: pd.DataFrame,
                end_date: date) -> pd.DataFrame:
    """True take-up probability of each package for each person: segment base, cinema habit, app, age."""
    cinema = receipts.assign(c=receipts["format"].eq("cinema")).groupby("person_id")["c"].mean()
    share = people["person_id"].map(cinema).fillna(0).to_numpy()
    age = (pd.Timestamp(end_date) - people["birth_date"]).dt.days.to_numpy() / 365.25
    base = people["segment"].map(_OFFER_BASE).to_numpy()
    logit = (np.log(base / (1 - base)) + 3.0 * (share - share.mean()) + 0.6 * people["app"].to_numpy()
             - 0.015 * (age - 35) + rng.normal(0, 0.3, len(people)))
    p_any = 1 / (1 + np.exp(-logit))
    shares = np.array([_PACKAGE_SHARE[s] for s in people["segment"]])
    rows = [pd.DataFrame({"person_id": people["person_id"], "segment": people["segment"], "package": pkg,
                          "probability": p_any * shares[:, k], "reachable": people["member"].to_numpy()})
            for k, (pkg, _) in enumerate(PACKAGES)]
    return pd.concat(rows, ignore_index=True).sort_values(["person_id", "package"]).reset_index(drop=True)


def _subscriptions(rng: np.random.Generator, people: pd.DataFrame, records: pd.DataFrame, propensity: pd.DataFrame,
                   campaigns: pd.DataFrame) -> pd.DataFrame:
    """Draw take-up from the true probabilities, for members only (the offer went through the app)."""
    camp = campaigns[campaigns["type"] == "partnership"].iloc[0]
    probs = propensity.pivot(index="person_id", columns="package", values="probability")[[p for p, _ in PACKAGES]]
    probs = probs.loc[people["person_id"]].to_numpy()
    cum = np.cumsum(probs, axis=1)
    choice = (rng.random(len(people))[:, None] > cum).sum(axis=1)  # 3 = declined
    took = (choice < 3) & people["member"].to_numpy()
    chosen = people.loc[took]
    length = (camp["end_date"] - camp["start_date"]).days + 1
    first = records.sort_values("created_at").groupby("person_id")["customer_id"].first()
    prices = dict(PACKAGES)
    pkg = np.array([p for p, _ in PACKAGES], dtype=object)[choice[took]]
    frame = pd.DataFrame({
        "customer_id": chosen["person_id"].map(first).to_numpy(), "person_id": chosen["person_id"].to_numpy(),
        "package": pkg, "start_date": camp["start_date"] + pd.to_timedelta(rng.integers(0, length, len(chosen)),
                                                                             unit="D"),
        "monthly_price": [prices[p] for p in pkg], "channel": rng.choice(["app", "quiosque", "site"], len(chosen),
                                                                         p=[0.6, 0.25, 0.15]),
        "campaign_id": camp["campaign_id"],
    })
    return frame.sort_values(["start_date", "customer_id"]).reset_index(drop=True)
