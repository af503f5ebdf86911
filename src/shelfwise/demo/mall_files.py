"""The mall's exports and the identity, segment and propensity truth behind them.

Each file imitates the system that would produce it: the loyalty CRM, the receipt hub, the Wi-Fi and app
footfall feed, the streaming partner's report, the marketing calendar and the review aggregator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shelfwise.demo import formats as fmt
from shelfwise.demo.catalog import MALL_NAME
from shelfwise.demo.formats import CsvStyle, SourceFile, mark
from shelfwise.demo.mall import Mall
from shelfwise.demo.people import segments

_UTF8 = CsvStyle(sep=";", encoding="utf-8", lineterminator="\n")


def _insert(frame: pd.DataFrame, extra: pd.DataFrame, positions: list[int]) -> pd.DataFrame:
    """Slip extra rows in at given positions, as a bad line sits among good ones in a real export."""
    parts, last = [], 0
    for pos, (_, row) in zip(sorted(positions), extra.iterrows(), strict=True):
        parts += [frame.iloc[last:pos], row.to_frame().T]
        last = pos
    parts.append(frame.iloc[last:])
    return pd.concat(parts, ignore_index=True)


def tenants_file(mall: Mall) -> SourceFile:
    """The mall's tenant register, UTF-8 with `;`."""
    t = mall.tenants
    frame = pd.DataFrame({"Código Loja": t["store_id"], "Nome Fantasia": t["name"], "Segmento": t["format"],
                          "Cidade": "São Paulo", "UF": "SP", "Região": MALL_NAME})
    columns = dict(zip(frame.columns, ["store_id", "name", "format", "city", "state", "region"], strict=True))
    return SourceFile("lojistas_shopping.csv", "stores", mark(frame), _UTF8, columns)


def customers_file(rng: np.random.Generator, mall: Mall) -> SourceFile:
    """The loyalty base, cp1252 `;`, consent as S/N, one extra record with an impossible birth date."""
    r = mall.records
    frame = pd.DataFrame({
        "ID Fidelidade": r["customer_id"], "Nome Completo": r["name"], "E-mail": r["email"], "Celular": r["phone"],
        "CPF": r["document"], "Data Nascimento": fmt.dates(r["birth_date"].fillna(pd.Timestamp(0))),
        "Sexo": r["gender"], "Cidade": r["city"], "UF": r["state"],
        "Aceita Marketing": fmt.yes_no(r["consent_marketing"], "S", "N"),
        "Data Cadastro": fmt.timestamps(r["created_at"], "br_min"),
    })
    frame.loc[r["birth_date"].isna().to_numpy(), "Data Nascimento"] = None
    mark(frame)
    frame["_person"], frame["_doc_valid"] = r["person_id"], r["document_valid"]
    source = r.iloc[int(rng.integers(len(r)))]
    bad = frame[frame["ID Fidelidade"] == source["customer_id"]].copy()
    bad["ID Fidelidade"] = str(int(r["customer_id"].iloc[-1]) + 2).zfill(7)
    bad["Data Nascimento"] = "31/02/1990"
    bad["Data Cadastro"] = frame["Data Cadastro"].iloc[-1]
    mark(bad, "bad", "birth_date", "invalid_date", "31/02/1990")
    frame = pd.concat([frame, bad], ignore_index=True)
    columns = dict(zip(frame.columns[:11], ["customer_id", "name", "email", "phone", "document", "birth_date",
                                            "gender", "city", "state", "consent_marketing", "created_at"],
                       strict=True))
    return SourceFile("clientes_fidelidade.csv", "customers", frame, CsvStyle(), columns)


def transactions_file(rng: np.random.Generator, mall: Mall) -> SourceFile:
    """Receipts from the mall's receipt hub: gzip, cp1252 `;`, `dd/mm/yyyy HH:MM:SS`, amounts `1.234,56`."""
    t = mall.receipts
    frame = pd.DataFrame({
        "Número Cupom": t["transaction_id"], "Data/Hora": fmt.timestamps(t["timestamp"]), "Loja": t["store_id"],
        "Cliente": t["customer_id"], "Token Cartão": t["card_token"], "Qtd": fmt.integer(t["quantity"]),
        "Valor Total": fmt.number(t["amount"], thousands=True), "Forma Pagamento": t["payment"],
    })
    mark(frame)
    pos = sorted(rng.choice(len(frame), 2, replace=False).tolist())
    bad = frame.iloc[pos].copy().reset_index(drop=True)
    bad["Número Cupom"] = ["0199999901", "0199999902"]
    year = t["timestamp"].iloc[pos[1]].year
    bad.loc[0, ["Valor Total"]] = [None]
    bad.loc[1, ["Data/Hora"]] = [f"31/04/{year} 15:20:00"]
    mark(bad, "bad")
    bad.loc[0, ["_column", "_problem", "_value"]] = ["amount", "missing_required", ""]
    bad.loc[1, ["_column", "_problem", "_value"]] = ["timestamp", "invalid_date", f"31/04/{year} 15:20:00"]
    frame = _insert(frame, bad, pos)
    columns = dict(zip(frame.columns[:8], ["transaction_id", "timestamp", "store_id", "customer_id", "card_token",
                                           "quantity", "amount", "payment_method"], strict=True))
    return SourceFile("cupons_fiscais_shopping.csv.gz", "transactions", frame,
                      CsvStyle(sep=";", encoding="cp1252", gzip=True), columns)


def visits_file(rng: np.random.Generator, mall: Mall) -> SourceFile:
    """Wi-Fi sessions, app check-ins and parking entrances as JSON Lines with ISO timestamps."""
    v = mall.visits
    frame = pd.DataFrame({"data_hora": fmt.timestamps(v["timestamp"], "iso"), "id_dispositivo": v["visitor_id"],
                          "origem": v["source"], "loja": v["store_id"], "permanencia_min": v["dwell_minutes"]})
    mark(frame)
    pos = int(rng.integers(len(frame)))
    bad = frame.iloc[[pos]].copy().reset_index(drop=True)
    bad["origem"], bad["permanencia_min"] = "wifi", -5.0
    mark(bad, "bad", "dwell_minutes", "negative_value", "-5.0")
    frame = _insert(frame, bad, [pos])
    columns = {"data_hora": "timestamp", "id_dispositivo": "visitor_id", "origem": "source", "loja": "store_id",
               "permanencia_min": "dwell_minutes"}
    return SourceFile("visitas_wifi_app.jsonl", "visits", frame, "jsonl", columns)


def subscriptions_file(rng: np.random.Generator, mall: Mall) -> SourceFile:
    """Streaming packages sold through the partnership, from the partner's report (cp1252 `;`)."""
    s = mall.subscriptions
    frame = pd.DataFrame({"Cliente": s["customer_id"], "Plano": s["package"], "Data Adesão": fmt.dates(s["start_date"]),
                          "Mensalidade": fmt.number(s["monthly_price"], currency=True), "Canal": s["channel"],
                          "Campanha": s["campaign_id"]})
    mark(frame)
    others = mall.records.loc[~mall.records["person_id"].isin(s["person_id"]), "customer_id"].to_numpy()
    year = s["start_date"].iloc[0].year
    bad = pd.DataFrame([{"Cliente": str(rng.choice(others)), "Plano": "StreamMax Essencial",
                         "Data Adesão": f"31/04/{year}", "Mensalidade": "R$ 29,90", "Canal": "quiosque",
                         "Campanha": s["campaign_id"].iloc[0]}])
    mark(bad, "bad", "start_date", "invalid_date", f"31/04/{year}")
    frame = _insert(frame, bad, [len(frame) // 3])
    columns = dict(zip(frame.columns[:6], ["customer_id", "package", "start_date", "monthly_price", "channel",
                                           "campaign_id"], strict=True))
    return SourceFile("assinaturas_streaming.csv", "subscriptions", frame, CsvStyle(), columns)


def mall_campaigns_file(mall: Mall) -> SourceFile:
    """The mall's marketing calendar, cp1252 `;`, tenant lists separated by `,`."""
    c = mall.campaigns
    frame = pd.DataFrame({
        "Código Campanha": c["campaign_id"], "Nome": c["name"], "Início": fmt.dates(c["start_date"]),
        "Término": fmt.dates(c["end_date"]), "Tipo": c["type"], "Desconto": fmt.integer(c["discount_pct"]),
        "Canal": c["channel"], "Verba": fmt.number(c["cost"], thousands=True, currency=True),
        "Lojas Participantes": c["store_ids"].map(",".join), "Público-alvo": c["segment"],
    })
    columns = dict(zip(frame.columns, ["campaign_id", "name", "start_date", "end_date", "type", "discount_pct",
                                       "channel", "cost", "store_ids", "segment"], strict=True))
    return SourceFile("campanhas_shopping.csv", "campaigns", mark(frame), CsvStyle(), columns)


def feedback_file(rng: np.random.Generator, feedback: pd.DataFrame) -> SourceFile:
    """Reviews, social posts, surveys and supplier messages: UTF-8 `;`, quoted texts with `;` and line breaks."""
    f = feedback
    rating = f["rating"].astype("Float64")
    frame = pd.DataFrame({
        "Data/Hora": fmt.timestamps(f["timestamp"], "br_min"), "Comentário": f["text"], "Origem": f["source"],
        "Idioma": f["language"], "Produto": f["product_id"], "Loja": f["store_id"], "Fornecedor": f["supplier_id"],
        "Nota": rating.astype("Int64").astype(str).replace("<NA>", None),
    })
    mark(frame)
    frame["_index"] = np.arange(len(frame))
    pos = int(rng.integers(len(frame)))
    bad = frame.iloc[[pos]].copy().reset_index(drop=True)
    bad["Comentário"], bad["_index"] = None, -1
    mark(bad, "bad", "text", "missing_required", "")
    frame = _insert(frame, bad, [pos])
    columns = dict(zip(frame.columns[:8], ["timestamp", "text", "source", "language", "product_id", "store_id",
                                           "supplier_id", "rating"], strict=True))
    return SourceFile("avaliacoes_clientes.csv", "feedback", frame, _UTF8, columns)


def mall_sources(rng: np.random.Generator, mall: Mall, feedback: pd.DataFrame) -> list[SourceFile]:
    """Every mall export."""
    return [tenants_file(mall), customers_file(rng, mall), transactions_file(rng, mall), visits_file(rng, mall),
            subscriptions_file(rng, mall), mall_campaigns_file(mall), feedback_file(rng, feedback)]


def mall_truth(mall: Mall, customers: SourceFile, feedback: pd.DataFrame,
               feedback_source: SourceFile, lines: np.ndarray) -> dict[str, pd.DataFrame]:
    """Identity, segment, propensity and sentiment truth for the mall's data."""
    seg = segments().set_index("segment")
    p = mall.people
    records = mall.records.copy()
    records["quarantined"] = False
    bad = customers.frame[customers.frame["_kind"] == "bad"]
    extra = pd.DataFrame({"customer_id": bad["ID Fidelidade"].to_numpy(), "person_id": bad["_person"].to_numpy(),
                          "quarantined": True, "is_duplicate": True, "document": bad["CPF"].to_numpy(),
                          "document_valid": bad["_doc_valid"].array})
    extra["segment"] = extra["person_id"].map(p.set_index("person_id")["segment"])
    customer_persons = pd.concat([records[["customer_id", "person_id", "segment", "is_duplicate", "document",
                                           "document_valid", "quarantined"]], extra], ignore_index=True)
    customer_persons["document_valid"] = customer_persons["document_valid"].astype("boolean")
    cards = p[["person_id", "cards"]].explode("cards").rename(columns={"cards": "card_token"})
    start = pd.Timestamp(mall.start)
    person_segments = pd.DataFrame({
        "person_id": p["person_id"], "segment": p["segment"],
        "segment_pt": p["segment"].map(seg["segment_pt"]), "segment_en": p["segment"].map(seg["segment_en"]),
        "member": p["member"], "app_user": p["app"], "gender": p["gender"], "birth_date": p["birth_date"],
        "active_from": start + pd.to_timedelta(np.maximum(p["join_day"], 0), unit="D"),
        "churned_on": (start + pd.to_timedelta(p["churn_day"], unit="D")).where(
            p["churn_day"] < (pd.Timestamp(mall.end) - start).days, pd.NaT),
        "n_receipts": p["person_id"].map(mall.receipts.groupby("person_id").size()).fillna(0).astype(int),
    })
    visitors = mall.visits.dropna(subset=["visitor_id"]).drop_duplicates("visitor_id")[
        ["visitor_id", "source", "person_id"]].sort_values("visitor_id").reset_index(drop=True)
    good = feedback_source.frame[feedback_source.frame["_index"] >= 0]
    sentiment = feedback.iloc[good["_index"].to_numpy()].reset_index(drop=True)
    sentiment["line"] = lines[good.index.to_numpy()]
    sentiment["file"] = feedback_source.name
    return {
        "customer_persons": customer_persons,
        "card_persons": cards.sort_values("card_token").reset_index(drop=True),
        "person_segments": person_segments,
        "offer_propensity": mall.propensity,
        "subscriptions_truth": mall.subscriptions,
        "transaction_persons": mall.receipts[["transaction_id", "timestamp", "person_id", "segment", "store_id",
                                              "card_token", "customer_id", "amount", "in_sale"]],
        "visitor_persons": visitors,
        "feedback_sentiment": sentiment[["timestamp", "file", "line", "text", "sentiment", "language", "source",
                                         "rating", "store_id", "product_id", "supplier_id", "pii_kind", "pii_value",
                                         "burst"]],
    }
