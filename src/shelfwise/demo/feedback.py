"""Free-text feedback with planted sentiment, personal data to mask and a burst of complaints.

Texts come from templates so the true sentiment of every message is known; some carry a CPF, an e-mail
or a phone number (the privacy step must mask them), some contain `;` or line breaks (the CSV reader
must respect quotes), and one store gets a week of angry messages (the anomaly detector must see it).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

N_PT, N_EN, N_BURST = 570, 150, 30
_SENTIMENTS = ("positive", "neutral", "negative")

_PT: dict[tuple[str, str], tuple[str, ...]] = {
    ("store", "positive"): (
        "Adorei o atendimento na {loja}, equipe muito atenciosa!",
        "A {loja} está sempre limpa e organizada, dá gosto de fazer compras.",
        "Fui na {loja} ontem e achei tudo o que precisava; preços ótimos.",
        "Parabéns à equipe da {loja}: caixa rápido e gôndolas cheias.",
        "Melhor mercado da região! A {loja} está de parabéns.",
        "Encontrei ótimas ofertas na {loja}, voltarei com certeza.",
    ),
    ("store", "neutral"): (
        "Passei na {loja} para comprar o básico. Nada de especial.",
        "A {loja} abre às 7h no domingo? Gostaria de confirmar o horário.",
        "Estacionamento da {loja} estava cheio, mas consegui vaga.",
        "Preços na {loja} parecidos com os da concorrência.",
    ),
    ("store", "negative"): (
        "Fila enorme no caixa da {loja}; esperei mais de 40 minutos.",
        "Péssimo atendimento na {loja}, ninguém sabia informar nada.",
        "Faltou muita coisa na {loja} hoje, prateleiras vazias.",
        "Comprei na {loja} e fui cobrado duas vezes no cartão. Absurdo!",
        "Encontrei produtos vencidos na {loja}; isso é inaceitável.",
    ),
    ("product", "positive"): (
        "O {produto} é excelente, compro toda semana.",
        "Gostei muito do {produto}; qualidade ótima pelo preço.",
        "{produto} de ótima qualidade, recomendo!",
        "Finalmente o {produto} voltou ao estoque, obrigado!",
        "A promoção do {produto} valeu muito a pena.",
    ),
    ("product", "neutral"): (
        "O {produto} mudou de embalagem?",
        "Comprei {produto}, preço dentro do normal.",
        "Vocês vão ter {produto} em promoção de novo?",
    ),
    ("product", "negative"): (
        "O {produto} veio com a embalagem violada.",
        "{produto} em falta há duas semanas, que decepção.",
        "O preço do {produto} subiu demais este mês; assim não dá.",
        "Comprei {produto} vencido, quero meu dinheiro de volta.",
        "{produto} com gosto estranho, não compro mais.",
    ),
    ("tenant", "positive"): (
        "Amei a {loja}! Atendimento nota 10.",
        "Experiência ótima na {loja}, voltarei com a família.",
        "A {loja} tem as melhores opções do shopping.",
        "Vendedores da {loja} muito simpáticos, saí com tudo que queria.",
        "Programa perfeito de fim de semana: {loja} e praça de alimentação.",
    ),
    ("tenant", "neutral"): (
        "A {loja} fecha que horas no domingo?",
        "Fui na {loja}, preços normais para shopping.",
        "Troquei um produto na {loja} sem problemas, mas demorou um pouco.",
    ),
    ("tenant", "negative"): (
        "A {loja} estava lotada e desorganizada; não volto tão cedo.",
        "Demora absurda para ser atendido na {loja}.",
        "Cobraram errado na {loja} e ninguém resolveu.",
        "Banheiros perto da {loja} estavam sujos e sem papel.",
        "Produto com defeito comprado na {loja}; troca negada.",
    ),
    ("supplier", "positive"): (
        "Pedido faturado e entregue no prazo. Contem com a {fornecedor} para a Black Friday!",
        "A {fornecedor} agradece a parceria; nova linha chegando no próximo mês.",
        "Ótima reunião com o time comercial, seguimos juntos. Equipe {fornecedor}.",
    ),
    ("supplier", "neutral"): (
        "A {fornecedor} informa reajuste de 6% na tabela a partir do próximo mês.",
        "Segue a nova tabela de preços da {fornecedor}; favor confirmar o recebimento.",
        "Pedido recebido pela {fornecedor}. Previsão de entrega em 5 dias úteis.",
    ),
    ("supplier", "negative"): (
        "A {fornecedor} registra atraso no pagamento das notas do mês passado; favor regularizar.",
        "Mercadoria devolvida sem justificativa. A {fornecedor} solicita esclarecimento urgente.",
        "Falta de matéria-prima: a {fornecedor} não conseguirá atender o pedido completo.",
    ),
}
_EN: dict[tuple[str, str], tuple[str, ...]] = {
    ("store", "positive"): (
        "Great service at {loja}, the staff were really helpful!",
        "{loja} is clean and well organised. Love shopping here.",
        "Found everything I needed at {loja}; good prices too.",
        "Lovely afternoon at {loja}, will come back with the kids.",
    ),
    ("store", "neutral"): (
        "Stopped by {loja} for a few things. Nothing special.",
        "What time does {loja} close on Sundays?",
        "Prices at {loja} are about the same as elsewhere.",
    ),
    ("store", "negative"): (
        "Huge queue at {loja}; waited over 30 minutes to pay.",
        "Rude staff at {loja}, nobody could help me.",
        "Shelves were empty at {loja} today, very disappointing.",
        "Charged twice at {loja} and no one sorted it out.",
    ),
    ("product", "positive"): (
        "The {produto} is excellent, I buy it every week.",
        "Really good {produto} for the price.",
        "{produto} is top quality, recommended!",
    ),
    ("product", "neutral"): ("Did the {produto} packaging change?", "Bought {produto}, usual price."),
    ("product", "negative"): (
        "The {produto} was past its expiry date.",
        "{produto} out of stock again, two weeks now.",
        "{produto} tasted off, won't buy again.",
    ),
}
_BURST = (
    "De novo sem ar-condicionado na {loja}! Calor insuportável.",
    "Produtos vencidos na {loja} esta semana; vergonha.",
    "Fila de 1 hora na {loja}, só 2 caixas abertos.",
    "Carne estragada na {loja}. Nunca mais!",
    "Alguém da {loja} pode explicar por que o ar está quebrado há dias?",
    "Pior semana da {loja}: sujeira, fila e falta de produto.",
)
_SIGN_PT = ("Att.,\nCliente fiel", "Enviado do meu celular", "Abraços,\nDona Cida")
_SIGN_EN = ("Cheers,\nTom", "Sent from my phone")
_PII_PT = {"cpf": " Meu CPF é {v}, para localizarem a compra.", "email": " Respondam para {v}, por favor.",
           "phone": " Me liguem no {v}."}
_PII_EN = {"cpf": " My CPF is {v} if you need it.", "email": " Please reply to {v}.", "phone": " Call me on {v}."}


def _subjects(rng: np.random.Generator, n: int, lang: str) -> np.ndarray:
    kinds = ("store", "product", "tenant", "supplier") if lang == "pt" else ("store", "product", "tenant")
    p = (0.3, 0.25, 0.3, 0.15) if lang == "pt" else (0.35, 0.3, 0.35)
    return rng.choice(kinds, n, p=p)


def _template(rng: np.random.Generator, lang: str, kind: str, sentiment: str) -> str:
    table = _PT if lang == "pt" else _EN
    options = table[("store" if kind == "tenant" and lang == "en" else kind, sentiment)]
    return options[int(rng.integers(len(options)))]


def feedback(rng: np.random.Generator, chain_stores: pd.DataFrame, products: pd.DataFrame,
             suppliers: pd.DataFrame, tenants: pd.DataFrame, people: pd.DataFrame, start: pd.Timestamp,
             end: pd.Timestamp) -> tuple[pd.DataFrame, dict]:
    """All feedback rows with their true sentiment, personal data planted and the burst week."""
    pools = {name: frame.to_dict("records") for name, frame in (
        ("store", chain_stores), ("product", products), ("supplier", suppliers), ("tenant", tenants),
        ("person", people[["cpf", "phone", "email"]]))}
    rows = [_message(rng, lang, pools) for lang in ["pt"] * N_PT + ["en"] * N_EN]  # ~750 texts: a loop reads best
    frame = pd.DataFrame(rows)
    span = (end - start).days
    frame["timestamp"] = (start + pd.to_timedelta(rng.integers(0, span + 1, len(frame)), unit="D")
                          + pd.to_timedelta(rng.integers(8 * 60, 23 * 60, len(frame)), unit="m"))
    burst, info = _burst(rng, chain_stores, end)
    frame = pd.concat([frame, burst], ignore_index=True)
    frame = frame.sort_values(["timestamp", "text"], kind="stable").reset_index(drop=True)
    return frame, info


def _message(rng: np.random.Generator, lang: str, pools: dict[str, list[dict]]) -> dict:
    kind = _subjects(rng, 1, lang)[0]
    sentiment = str(rng.choice(_SENTIMENTS, p=(0.45, 0.25, 0.30)))
    row = {"language": lang, "sentiment": sentiment, "subject": kind, "product_id": None, "store_id": None,
           "supplier_id": None, "burst": False}
    fill = {}
    if kind in ("store", "product"):
        s = pools["store"][int(rng.integers(len(pools["store"])))]
        row["store_id"], fill["loja"] = s["store_id"], ("loja " if lang == "pt" else "") + s["name"]
    if kind == "product":
        p = pools["product"][int(rng.integers(len(pools["product"])))]
        row["product_id"], fill["produto"] = p["product_id"], p["name"]
    if kind == "tenant":
        t = pools["tenant"][int(rng.integers(len(pools["tenant"])))]
        row["store_id"], fill["loja"] = t["store_id"], t["name"]
    if kind == "supplier":
        f = pools["supplier"][int(rng.integers(len(pools["supplier"])))]
        row["supplier_id"], fill["fornecedor"] = f["supplier_id"], f["name"]
    text = _template(rng, lang, kind, sentiment).format(**fill)
    row["pii_kind"], row["pii_value"] = None, None
    if kind != "supplier" and rng.random() < 0.07:
        text, row["pii_kind"], row["pii_value"] = _with_pii(rng, text, lang, pools["person"])
    if rng.random() < 0.05:
        text += "\n" + str(rng.choice(_SIGN_PT if lang == "pt" else _SIGN_EN))
    row["text"] = text
    row["source"] = "supplier" if kind == "supplier" else str(rng.choice(["review", "social", "survey"],
                                                                         p=(0.45, 0.35, 0.2)))
    row["rating"] = _rating(rng, sentiment, row["source"])
    return row


def _with_pii(rng: np.random.Generator, text: str, lang: str, people: list[dict]) -> tuple[str, str, str]:
    """Append a real-looking CPF, e-mail or phone of a (synthetic) person."""
    person = people[int(rng.integers(len(people)))]
    kind = str(rng.choice(["cpf", "email", "phone"]))
    cpf, phone = person["cpf"], person["phone"]
    value = {"cpf": f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}", "email": person["email"],
             "phone": f"({phone[:2]}) {phone[2:7]}-{phone[7:]}"}[kind]
    return text + (_PII_PT if lang == "pt" else _PII_EN)[kind].format(v=value), kind, value


def _rating(rng: np.random.Generator, sentiment: str, source: str) -> float | None:
    if source in ("supplier",) or (source == "social" and rng.random() < 0.5):
        return None
    return float({"positive": rng.choice([4, 5], p=(0.35, 0.65)), "neutral": 3,
                  "negative": rng.choice([1, 2], p=(0.6, 0.4))}[sentiment])


def _burst(rng: np.random.Generator, chain_stores: pd.DataFrame, end: pd.Timestamp) -> tuple[pd.DataFrame, dict]:
    """A week of complaints about one chain store (the air conditioning broke, stock went off)."""
    store = chain_stores.iloc[2]
    first = (end - pd.Timedelta(days=int(rng.integers(40, 110)))).normalize()
    first -= pd.Timedelta(days=first.day_of_week)  # a Monday
    texts = [str(rng.choice(_BURST)).format(loja="loja " + store["name"]) for _ in range(N_BURST)]
    stamps = first + pd.to_timedelta(rng.integers(0, 7, N_BURST), unit="D") + pd.to_timedelta(
        rng.integers(8 * 60, 23 * 60, N_BURST), unit="m")
    frame = pd.DataFrame({"language": "pt", "sentiment": "negative", "subject": "store", "product_id": None,
                          "store_id": store["store_id"], "supplier_id": None, "burst": True, "pii_kind": None,
                          "pii_value": None, "text": texts,
                          "source": rng.choice(["social", "review"], N_BURST, p=(0.7, 0.3)),
                          "rating": np.where(rng.random(N_BURST) < 0.5, 1.0, np.nan), "timestamp": stamps})
    info = {"kind": "negative_feedback_burst", "store_id": store["store_id"], "product_id": None,
            "start_date": first, "end_date": first + timedelta(days=6), "factor": float(N_BURST),
            "description": f"{N_BURST} negative messages about one store in one week"}
    return frame, info
