"""The demo generator: files shaped like Brazilian exports, and truth that really is true of them.

Everything here reads the files with pandas (never with Shelfwise ingestion) and checks the planted truth
against independent computations: CPF check digits, EAN check digits, parsed units and revenue.
"""

from __future__ import annotations

import csv
import gzip
import json
import time
import unicodedata
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shelfwise import schema
from shelfwise.demo import DemoFiles, generate_demo

END = date(2026, 10, 31)
CP1252 = {"sep": ";", "encoding": "cp1252"}
CSV_FORMATS = {
    "lojas.csv": CP1252,
    "fornecedores.csv": CP1252,
    "vendas_rede_sp_2024_2026.csv": CP1252,
    "estoque_diario.csv": {"sep": ",", "encoding": "utf-8"},
    "campanhas.csv": {"sep": ";", "encoding": "utf-8-sig"},
    "lojistas_shopping.csv": {"sep": ";", "encoding": "utf-8"},
    "clientes_fidelidade.csv": CP1252,
    "cupons_fiscais_shopping.csv.gz": {"sep": ";", "encoding": "cp1252", "compression": "gzip"},
    "assinaturas_streaming.csv": CP1252,
    "campanhas_shopping.csv": CP1252,
    "avaliacoes_clientes.csv": {"sep": ";", "encoding": "utf-8"},
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoFiles, float]:
    started = time.process_time()  # CPU time: neighbours on a shared CI machine must not fail the budget
    files = generate_demo(tmp_path_factory.mktemp("demo"), seed=7, end_date=END)
    return files, time.process_time() - started


@pytest.fixture(scope="module")
def landing(demo: tuple[DemoFiles, float]) -> Path:
    return demo[0].landing_dir


@pytest.fixture(scope="module")
def truth_dir(demo: tuple[DemoFiles, float]) -> Path:
    return demo[0].truth_dir


_cache: dict[tuple[str, str], pd.DataFrame] = {}


def read(landing: Path, name: str) -> pd.DataFrame:
    """A landing file as text cells, read the way its source system wrote it."""
    key = (str(landing), name)
    if key not in _cache:
        path = landing / name
        if name.endswith(".xlsx"):
            frame = pd.read_excel(path, dtype=str, engine="calamine")
        elif name.endswith(".jsonl"):
            frame = pd.read_json(path, lines=True, dtype=False)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, **CSV_FORMATS[name])
        _cache[key] = frame
    return _cache[key]


def truth(truth_dir: Path, name: str) -> pd.DataFrame:
    key = (str(truth_dir), name)
    if key not in _cache:
        _cache[key] = pd.read_parquet(truth_dir / f"{name}.parquet")
    return _cache[key]


def raw_lines(path: Path) -> list[str]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    encoding = CSV_FORMATS.get(path.name, {}).get("encoding", "utf-8")
    return data.decode(encoding).split("\n")


def br_number(values: pd.Series) -> pd.Series:
    text = values.str.replace("R$", "", regex=False).str.strip()
    return text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False).astype(float)


def cpf_ok(cpf: str) -> bool:
    """Receita Federal check digits, written independently of the generator."""
    d = [int(c) for c in cpf if c.isdigit()]
    if len(d) != 11 or len(set(d)) == 1:
        return False
    first = sum(v * w for v, w in zip(d[:9], range(10, 1, -1), strict=True)) * 10 % 11 % 10
    second = sum(v * w for v, w in zip(d[:10], range(11, 1, -1), strict=True)) * 10 % 11 % 10
    return d[9] == first and d[10] == second


def ean_ok(code: str) -> bool:
    digits = [int(c) for c in code]
    weighted = sum(v * (3 if i % 2 else 1) for i, v in enumerate(digits[:12]))
    return len(digits) == 13 and (10 - weighted % 10) % 10 == digits[12]


# --- shape of the files ---------------------------------------------------------------------------------------


def test_generation_is_fast_and_lists_every_file(demo: tuple[DemoFiles, float]) -> None:
    files, seconds = demo
    assert seconds < 20, f"generation took {seconds:.1f} s of CPU"
    names = {p.name for p, _ in files.files}
    assert names == {p.name for p in files.landing_dir.iterdir()}
    assert len(names) == 13
    for path, table in files.files:
        assert table in schema.TABLES
        stem = schema.normalize_name(path.name.split(".")[0])
        assert any(stem == a or stem.startswith(a + "_") for a in schema.table(table).file_aliases), path.name


def test_every_header_is_an_alias_of_exactly_one_column(landing: Path, demo: tuple[DemoFiles, float]) -> None:
    accented = 0
    for path, table_name in demo[0].files:
        table = schema.table(table_name)
        for header in read(landing, path.name).columns:
            hits = [c.name for c in table.columns if schema.normalize_name(header) in c.aliases]
            assert len(hits) == 1, f"{path.name}: header {header!r} matches {hits}"
            accented += header != unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
        required = set(table.required)
        mapped = {next(c.name for c in table.columns if schema.normalize_name(h) in c.aliases)
                  for h in read(landing, path.name).columns}
        assert required <= mapped, f"{path.name} lacks {required - mapped}"
    assert accented >= 10


def test_files_have_the_encodings_and_shapes_of_their_systems(landing: Path) -> None:
    sales = (landing / "vendas_rede_sp_2024_2026.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        sales.decode("utf-8")  # cp1252 with accents, as Windows ERPs write
    assert b"\r\n" in sales[:200] and "Promoção".encode("cp1252") in sales[:200]
    assert (landing / "campanhas.csv").read_bytes().startswith(b"\xef\xbb\xbf\"")
    stock_head = (landing / "estoque_diario.csv").read_text("utf-8").split("\n")[1]
    assert stock_head[:4].isdigit() and stock_head[4] == "-" and stock_head.endswith(".0")
    receipts = gzip.decompress((landing / "cupons_fiscais_shopping.csv.gz").read_bytes()).decode("cp1252")
    assert "Número Cupom" in receipts.split("\r\n")[0]
    first = json.loads((landing / "visitas_wifi_app.jsonl").read_text("utf-8").split("\n")[0])
    assert "T" in first["data_hora"] and set(first) == {"data_hora", "id_dispositivo", "origem", "loja",
                                                         "permanencia_min"}


def test_brazilian_value_formats(landing: Path) -> None:
    sales = read(landing, "vendas_rede_sp_2024_2026.csv")
    money = sales["Valor Total"]
    assert money.str.startswith("R$ ").any() and (~money.str.startswith("R$ ")).any()
    assert money.str.fullmatch(r"R\$ \d{1,3}(\.\d{3})*,\d{2}|-?\d+,\d{2}").all()
    assert set(sales["Promoção"]) == {"Sim", "Não"}
    assert sales["Data"].str.fullmatch(r"\d{2}/\d{2}/\d{4}").all()
    receipts = read(landing, "cupons_fiscais_shopping.csv.gz")
    amounts = receipts["Valor Total"][receipts["Valor Total"] != ""]
    assert amounts.str.contains(r"^\d{1,3}\.\d{3},\d{2}$").any()
    assert receipts["Data/Hora"].str.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}").all()
    assert set(read(landing, "clientes_fidelidade.csv")["Aceita Marketing"]) == {"S", "N"}
    products = read(landing, "produtos.xlsx")
    assert products["EAN"].map(ean_ok).all() and products["EAN"].str.startswith("0789").sum() >= 5
    assert len(products) >= 60


def test_list_columns_are_quoted_and_comma_separated(landing: Path) -> None:
    lines = raw_lines(landing / "campanhas.csv")
    assert all(line.startswith('"') for line in lines[1:] if line)
    campaigns = read(landing, "campanhas.csv")
    products = set(read(landing, "produtos.xlsx")["EAN"])
    lists = campaigns["Produtos"].str.split(",")
    assert lists.map(len).between(2, 6).all()
    assert all(set(ids) <= products for ids in lists)
    assert campaigns["Lojas"].str.split(",").map(len).between(2, 4).all()


# --- counts and the rows a loader must set aside -------------------------------------------------------------


def test_counts_match_the_files(landing: Path, truth_dir: Path) -> None:
    counts = json.loads((truth_dir / "counts.json").read_text("utf-8"))
    bad = truth(truth_dir, "bad_rows")
    for name, c in counts["files"].items():
        assert len(read(landing, name)) == c["rows"], name
        assert c["accepted"] + c["quarantined"] == c["rows"]
        assert c["quarantined"] == (bad["file"] == name).sum()
    assert 5 <= counts["totals"]["quarantined"] <= 15
    assert set(bad["problem"]) >= {"not_a_number", "invalid_date", "negative_value", "missing_required",
                                   "end_before_start"}


def test_bad_rows_point_at_their_physical_line(landing: Path, truth_dir: Path) -> None:
    for row in truth(truth_dir, "bad_rows").itertuples():
        lines = raw_lines(landing / row.file)
        if row.file.endswith(".jsonl"):
            record = json.loads(lines[row.line - 1])
            assert record[row.header] == float(row.value)
            continue
        fmt = CSV_FORMATS[row.file]
        header = next(csv.reader([lines[0].lstrip("\ufeff")], delimiter=fmt["sep"]))
        fields = next(csv.reader([lines[row.line - 1].rstrip("\r")], delimiter=fmt["sep"]))
        assert fields[header.index(row.header)] == row.value, (row.file, row.line)


def test_returns_and_unknown_ids_are_listed(landing: Path, truth_dir: Path) -> None:
    sales = read(landing, "vendas_rede_sp_2024_2026.csv")
    returns = truth(truth_dir, "returns")
    assert len(returns) >= 3
    assert (sales.loc[returns["line"] - 2, "Quantidade"].astype(int).to_numpy() == returns["units"]).all()
    assert (sales["Quantidade"].str.startswith("-")).sum() == len(returns)
    unknown = truth(truth_dir, "unknown_ids")
    catalogue = set(read(landing, "produtos.xlsx")["EAN"])
    listed = sales.loc[unknown["line"] - 2, "Código Produto"]
    assert (listed.to_numpy() == unknown["id"].to_numpy()).all() and not set(listed) & catalogue
    all_unknown = set(sales["Código Produto"]) - catalogue - {""}
    assert all_unknown == set(unknown["id"])


# --- the chain's truth ----------------------------------------------------------------------------------------


def _clean_sales(landing: Path, truth_dir: Path) -> pd.DataFrame:
    sales = read(landing, "vendas_rede_sp_2024_2026.csv")
    special = pd.concat([truth(truth_dir, n).query("file == 'vendas_rede_sp_2024_2026.csv'")["line"]
                         for n in ("bad_rows", "returns", "unknown_ids")])
    keep = sales.drop(index=special - 2)
    return pd.DataFrame({"date": pd.to_datetime(keep["Data"], format="%d/%m/%Y"), "store_id": keep["Código Loja"],
                         "product_id": keep["Código Produto"], "units": keep["Quantidade"].astype(int),
                         "price": br_number(keep["Preço"]), "revenue": br_number(keep["Valor Total"]),
                         "promo": keep["Promoção"] == "Sim"})


def test_sales_file_equals_the_truth(landing: Path, truth_dir: Path) -> None:
    clean = _clean_sales(landing, truth_dir)
    assert (clean["units"] > 0).all()
    assert np.allclose(clean["units"] * clean["price"], clean["revenue"], atol=0.011)
    expected = truth(truth_dir, "sales_expected")
    merged = expected[expected["observed_units"] > 0].merge(clean, on=["date", "store_id", "product_id"],
                                                            how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["units"] == merged["observed_units"]).all()
    assert np.allclose(merged["price_x"], merged["price_y"])
    assert (merged["promo"] == merged["campaign_id"].notna()).all()
    regular = read(landing, "produtos.xlsx").set_index("EAN")["Preço Venda"].astype(float)
    discount = 1 - merged["price_y"] / merged["product_id"].map(regular)
    assert discount[merged["promo"]].between(0.09, 0.36).all() and discount[~merged["promo"]].abs().max() < 1e-9
    closed = clean["date"].dt.strftime("%m-%d").isin(["12-25", "01-01"])
    assert not closed.any()
    assert clean["date"].max() == pd.Timestamp(END) and clean["date"].min() == pd.Timestamp(END) - pd.Timedelta(
        days=729)


def test_stock_file_equals_the_truth_and_censors_sales(landing: Path, truth_dir: Path) -> None:
    stock = read(landing, "estoque_diario.csv")
    expected = truth(truth_dir, "sales_expected")
    assert len(stock) == len(expected)
    bad_line = truth(truth_dir, "bad_rows").query("file == 'estoque_diario.csv'")["line"].iloc[0]
    on_hand = stock["qtd_estoque"].astype(float).to_numpy()
    same = on_hand == expected["on_hand"].to_numpy()
    assert (~same).sum() == 1 and not same[bad_line - 2]
    assert (expected["sold_units"] <= expected["available_units"]).all()
    censored = expected[expected["censored"]]
    assert (censored["on_hand"] == 0).all()
    assert 0.005 < expected.loc[~expected["closed"], "censored"].mean() < 0.06


def test_observed_matches_expected_where_stock_was_plentiful(truth_dir: Path) -> None:
    e = truth(truth_dir, "sales_expected")
    ok = (~e["closed"]) & (e["anomaly"] == "") & (e["available_units"] > 3 * e["expected_units"] + 10)
    ratio = e.loc[ok, "sold_units"].sum() / e.loc[ok, "expected_units"].sum()
    assert abs(ratio - 1) < 0.02, ratio
    by_store = e[ok].groupby("store_id")[["sold_units", "expected_units"]].sum()
    assert ((by_store["sold_units"] / by_store["expected_units"] - 1).abs() < 0.04).all()
    # Overdispersion: the variance of units around the expectation exceeds a Poisson's.
    fast = e[ok & (e["expected_units"].between(20, 40))]
    assert ((fast["sold_units"] - fast["expected_units"]) ** 2).mean() > 1.3 * fast["expected_units"].mean()


def test_calendar_shapes_demand(truth_dir: Path) -> None:
    e = truth(truth_dir, "sales_expected")
    products = truth(truth_dir, "sales_expected")[["product_id"]].drop_duplicates()
    assert len(products) >= 60
    open_days = e[~e["closed"]]
    weekday = open_days["date"].dt.day_of_week
    assert open_days.loc[weekday == 5, "baseline_units"].mean() > 1.15 * open_days.loc[weekday == 1,
                                                                                       "baseline_units"].mean()
    daily = open_days.groupby("date")["baseline_units"].sum()
    bf = daily[pd.Timestamp(2025, 11, 28)]
    assert bf > 1.2 * daily[pd.Timestamp(2025, 11, 14)]
    series = e.groupby(["store_id", "product_id"])["expected_units"].mean()
    assert (series < 0.5).sum() >= 10 and (series > 30).sum() >= 10


def test_promotions_lift_observed_sales_as_planted(truth_dir: Path) -> None:
    e = truth(truth_dir, "sales_expected")
    promo = e[e["promo_role"] == "promo"]
    true = promo["expected_units"].sum() / promo["baseline_units"].sum()
    seen = promo["sold_units"].sum() / promo["baseline_units"].sum()
    assert abs(seen / true - 1) < 0.05, (seen, true)
    campaigns = truth(truth_dir, "promo_campaigns").set_index("campaign_id")
    per = promo.groupby("campaign_id")[["sold_units", "baseline_units"]].sum()
    per = per[per["baseline_units"] > 400]
    implied = per["sold_units"] / per["baseline_units"] - 1
    planted = campaigns.loc[per.index, "true_lift_pct"] / 100
    assert (abs(implied - planted) < 0.2 + 0.15 * planted).all()
    assert np.corrcoef(implied, planted)[0, 1] > 0.8
    for role in ("post_promo", "cannibalised"):
        cells = e[e["promo_role"] == role]
        assert cells["sold_units"].sum() < 0.99 * cells["baseline_units"].sum(), role


def test_promo_truth_is_consistent(truth_dir: Path) -> None:
    cells = truth(truth_dir, "promo_cells")
    campaigns = truth(truth_dir, "promo_campaigns")
    assert cells["true_lift_pct"].between(15, 160).all()
    assert np.corrcoef(cells["discount_pct"], cells["true_lift_pct"])[0, 1] > 0.3
    sums = cells.groupby("campaign_id")[["expected_promo_units", "expected_baseline_units"]].sum()
    lift = 100 * (sums["expected_promo_units"] / sums["expected_baseline_units"] - 1)
    assert np.allclose(lift, campaigns.set_index("campaign_id").loc[lift.index, "true_lift_pct"])
    assert 20 <= len(campaigns) <= 28
    assert campaigns["occasion"].isin(["black_friday", "natal"]).sum() >= 3
    assert campaigns["overlaps_with"].notna().sum() >= 2
    assert 1 <= campaigns["is_future"].sum() <= 2
    assert (campaigns.loc[campaigns["is_future"], "start_date"] > pd.Timestamp(END)).all()
    per_campaign = cells.groupby("campaign_id").agg(stores=("store_id", "nunique"), products=("product_id",
                                                                                               "nunique"))
    assert per_campaign["stores"].between(2, 4).all() and per_campaign["products"].between(2, 6).all()
    days = (campaigns["end_date"] - campaigns["start_date"]).dt.days + 1
    assert days.between(7, 14).all()


def test_anomalies_and_low_cover_are_real(landing: Path, truth_dir: Path) -> None:
    anomalies = truth(truth_dir, "anomalies")
    assert set(anomalies["kind"]) == {"spike", "outage", "level_drop", "negative_feedback_burst"}
    sales = read(landing, "vendas_rede_sp_2024_2026.csv")
    e = truth(truth_dir, "sales_expected").set_index(["date", "store_id", "product_id"])
    for spike in anomalies[anomalies["kind"] == "spike"].itertuples():
        units = int(sales.loc[spike.line - 2, "Quantidade"])
        assert units == 10 * e.loc[(spike.start_date, spike.store_id, spike.product_id), "sold_units"]
    outage = anomalies[anomalies["kind"] == "outage"].iloc[0]
    days = pd.date_range(outage["start_date"], outage["end_date"]).strftime("%d/%m/%Y")
    assert not (sales["Data"].isin(days) & (sales["Código Loja"] == outage["store_id"])).any()
    low = truth(truth_dir, "low_cover_items")
    assert 8 <= len(low) <= 20 and low["planted"].sum() == 10
    assert (low["cover_days"] < low["lead_time_days"]).all()
    e = truth(truth_dir, "sales_expected")
    last = e[e["date"] == pd.Timestamp(END)].set_index(["store_id", "product_id"])["on_hand"]
    keys = pd.MultiIndex.from_frame(low[["store_id", "product_id"]])
    assert (last.loc[keys].to_numpy() == low["on_hand"].to_numpy()).all()


# --- the mall's truth -----------------------------------------------------------------------------------------


def test_cpfs_and_duplicate_persons(landing: Path, truth_dir: Path) -> None:
    customers = read(landing, "clientes_fidelidade.csv")
    persons = truth(truth_dir, "customer_persons").set_index("customer_id")
    assert set(customers["ID Fidelidade"]) == set(persons.index)
    merged = customers.join(persons, on="ID Fidelidade")
    with_doc = merged[merged["CPF"] != ""]
    assert (with_doc["CPF"].map(cpf_ok) == with_doc["document_valid"].astype(bool)).all()
    assert 5 <= (~with_doc["document_valid"].astype(bool)).sum() <= 40
    assert (merged.loc[merged["CPF"] == "", "document_valid"].isna()).all()
    assert merged["CPF"].str.contains(r"\.").any() and merged["CPF"].str.fullmatch(r"\d{11}").any()
    digits = with_doc[with_doc["document_valid"].astype(bool)]["CPF"].str.replace(r"\D", "", regex=True)
    owners = with_doc[with_doc["document_valid"].astype(bool)].groupby(digits)["person_id"].nunique()
    assert (owners == 1).all()  # a valid CPF never belongs to two persons
    sizes = merged[~merged["quarantined"]].groupby("person_id").size()
    assert 0.10 <= (sizes > 1).mean() <= 0.15 and sizes.max() <= 3
    key = pd.DataFrame({
        "person": merged["person_id"], "cpf": merged["CPF"].str.replace(r"\D", "", regex=True).where(
            merged["document_valid"].astype("boolean").fillna(False).astype(bool)),
        "email": merged["E-mail"].str.lower().replace("", None),
        "phone": merged["Celular"].str.replace(r"\D", "", regex=True).str[-11:].replace("", None)})
    for person, group in key[key["person"].isin(sizes[sizes > 1].index)].groupby("person"):
        shared = any(group[c].dropna().duplicated().any() for c in ("cpf", "email", "phone"))
        assert shared, f"records of {person} share no identifier"


def test_receipts_cards_and_customers_agree(landing: Path, truth_dir: Path) -> None:
    receipts = read(landing, "cupons_fiscais_shopping.csv.gz")
    assert 60_000 <= len(receipts) <= 100_000
    cards = truth(truth_dir, "card_persons").set_index("card_token")["person_id"]
    customers = truth(truth_dir, "customer_persons").set_index("customer_id")["person_id"]
    assert receipts["Token Cartão"].str.startswith("tok_").all()
    with_id = receipts[receipts["Cliente"] != ""]
    assert 0.2 < len(with_id) / len(receipts) < 0.7
    assert (with_id["Token Cartão"].map(cards) == with_id["Cliente"].map(customers)).all()
    assert cards.groupby(cards).size().between(1, 3).all()


def test_segments_plant_distinct_behaviour(truth_dir: Path) -> None:
    tx = truth(truth_dir, "transaction_persons")
    tx = tx.assign(weekend=tx["timestamp"].dt.day_of_week >= 5, app=tx["customer_id"].notna(),
                   hour=tx["timestamp"].dt.hour)
    by = tx.groupby("segment").agg(weekend=("weekend", "mean"), ticket=("amount", "median"),
                                   sale=("in_sale", "mean"), app=("app", "mean"), evening=("hour",
                                                                                          lambda h: (h >= 18).mean()))
    assert by["weekend"].idxmax() == "weekend_family" and by["weekend"].idxmin() == "weekday_routine"
    assert by["ticket"].idxmax() == "premium" and by["sale"].idxmax() == "deal_hunter"
    assert by["evening"].idxmax() == "young_entertainment"
    segments = truth(truth_dir, "person_segments")
    assert segments["segment"].nunique() == 5 and 2000 <= len(segments) <= 3000
    assert segments["segment_pt"].str.contains("Família de fim de semana").any()


def test_visits_and_subscriptions(landing: Path, truth_dir: Path) -> None:
    visits = read(landing, "visitas_wifi_app.jsonl")
    assert 80_000 <= len(visits) <= 130_000
    assert set(visits["origem"]) == {"wifi", "app", "entrance"}
    mapping = truth(truth_dir, "visitor_persons")
    assert set(visits["id_dispositivo"]) == set(mapping["visitor_id"])
    dwell = visits.join(mapping.set_index("visitor_id")["person_id"], on="id_dispositivo").merge(
        truth(truth_dir, "person_segments")[["person_id", "segment"]], on="person_id")
    medians = dwell[dwell["origem"] == "wifi"].groupby("segment")["permanencia_min"].median()
    assert medians.idxmax() == "weekend_family" and medians.idxmin() == "weekday_routine"
    subs = read(landing, "assinaturas_streaming.csv")
    propensity = truth(truth_dir, "offer_propensity")
    assert propensity["probability"].between(0, 1).all()
    taken = truth(truth_dir, "subscriptions_truth")
    assert len(subs) == len(taken) + 1 and 100 <= len(taken) <= 600
    p_any = propensity.groupby("person_id")["probability"].sum()
    members = truth(truth_dir, "person_segments").set_index("person_id")["member"]
    took = p_any.index.isin(taken["person_id"])
    assert p_any[took].mean() > 1.5 * p_any[~took & members.loc[p_any.index].to_numpy()].mean()


def test_feedback_plants_sentiment_pii_and_a_burst(landing: Path, truth_dir: Path) -> None:
    feedback = read(landing, "avaliacoes_clientes.csv")
    sentiment = truth(truth_dir, "feedback_sentiment")
    assert len(feedback) == len(sentiment) + 1
    assert 550 <= (sentiment["language"] == "pt").sum() <= 650 and (sentiment["language"] == "en").sum() >= 120
    assert feedback["Comentário"].str.contains(";").sum() >= 10
    assert feedback["Comentário"].str.contains("\n").sum() >= 10
    pii = sentiment[sentiment["pii_kind"].notna()]
    assert set(pii["pii_kind"]) == {"cpf", "email", "phone"} and len(pii) >= 20
    assert all(v in t for v, t in zip(pii["pii_value"], pii["text"], strict=True))
    lines = raw_lines(landing / "avaliacoes_clientes.csv")
    assert all(lines[n - 1].lstrip('"').split(";")[0] == ts.strftime("%d/%m/%Y %H:%M")
               for n, ts in zip(sentiment["line"], sentiment["timestamp"], strict=True))
    ok = sentiment["rating"].notna()
    means = sentiment[ok].groupby("sentiment")["rating"].mean()
    assert means["positive"] > means["neutral"] > means["negative"]
    burst = truth(truth_dir, "anomalies").query("kind == 'negative_feedback_burst'").iloc[0]
    week = sentiment[sentiment["timestamp"].between(burst["start_date"], burst["end_date"] + pd.Timedelta(days=1))]
    negative = week[(week["store_id"] == burst["store_id"]) & (week["sentiment"] == "negative")]
    assert len(negative) >= 25


# --- determinism ----------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(demo: tuple[DemoFiles, float], tmp_path: Path) -> None:
    again = generate_demo(tmp_path, seed=7, end_date=END)
    first = demo[0]
    for folder_a, folder_b in ((first.landing_dir, again.landing_dir), (first.truth_dir, again.truth_dir)):
        names = sorted(p.name for p in folder_a.iterdir())
        assert names == sorted(p.name for p in folder_b.iterdir())
        for name in names:
            assert (folder_a / name).read_bytes() == (folder_b / name).read_bytes(), name
