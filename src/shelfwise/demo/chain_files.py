"""The chain's exports as its systems write them (ERP, POS, WMS, marketing sheet) and its planted truth.

Each system has its own habits (encoding, delimiter, number and date style) so the demo exercises every
parsing path of ingestion. Special rows (returns, unknown ids, deliberately bad rows, typing errors) carry
meta columns so the truth can point at their final physical line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shelfwise.demo import formats as fmt
from shelfwise.demo.chain import Chain
from shelfwise.demo.formats import CsvStyle, SourceFile, mark

CURRENCY_STORES = ("004", "005")
"""Stores whose older POS writes revenue as `R$ 1.234,56`; the others write `1234,56`."""

_WMS = CsvStyle(sep=",", encoding="utf-8", lineterminator="\n")
_MARKETING = CsvStyle(sep=";", encoding="utf-8-sig", quote_all=True)


def products_file(chain: Chain) -> SourceFile:
    """The ERP catalogue as `.xlsx`: EANs as text cells, money and counts as numbers."""
    p = chain.products
    frame = pd.DataFrame({
        "EAN": p["product_id"], "Descrição": p["name"], "Categoria": p["category"],
        "Subcategoria": p["subcategory"], "Marca": p["brand"], "Cód. Fornecedor": p["supplier_id"],
        "Custo Unitário": p["unit_cost"], "Preço Venda": p["unit_price"],
        "Prazo Entrega (dias)": p["lead_time_days"].astype(float),
        "Unidades/Caixa": p["case_pack"].astype(float), "Validade (dias)": p["shelf_life_days"].astype(float),
    }).astype(object)
    columns = dict(zip(frame.columns, ["product_id", "name", "category", "subcategory", "brand", "supplier_id",
                                       "unit_cost", "unit_price", "lead_time_days", "case_pack",
                                       "shelf_life_days"], strict=True))
    return SourceFile("produtos.xlsx", "products", mark(frame), "xlsx", columns)


def stores_file(chain: Chain) -> SourceFile:
    """The chain's store register, cp1252 with `;`."""
    s = chain.stores
    frame = pd.DataFrame({"Cod Loja": s["store_id"], "Nome Fantasia": s["name"], "Município": s["city"],
                          "UF": s["state"], "Região": s["region"], "Formato": s["format"]})
    columns = dict(zip(frame.columns, ["store_id", "name", "city", "state", "region", "format"], strict=True))
    return SourceFile("lojas.csv", "stores", mark(frame), CsvStyle(), columns)


def suppliers_file(chain: Chain) -> SourceFile:
    """Suppliers from the purchasing system, cp1252 with `;`."""
    s = chain.suppliers
    frame = pd.DataFrame({"Código Fornecedor": s["supplier_id"], "Razão Social": s["name"], "E-mail": s["email"],
                          "Prazo de Entrega": fmt.integer(s["lead_time_days"])})
    columns = dict(zip(frame.columns, ["supplier_id", "name", "email", "lead_time_days"], strict=True))
    return SourceFile("fornecedores.csv", "suppliers", mark(frame), CsvStyle(), columns)


_SALES_COLUMNS = {"Data": "date", "Código Loja": "store_id", "Código Produto": "product_id",
                  "Quantidade": "units", "Preço": "price", "Valor Total": "revenue", "Promoção": "on_promo"}


def _cells(d: np.ndarray, s: np.ndarray, p: np.ndarray, units: np.ndarray, price: np.ndarray,
           promo: np.ndarray, kind: str = "", column: str = "", problem: str = "") -> pd.DataFrame:
    """Sales rows as numbers, so sorting and marking happen before any (costly) text formatting."""
    return pd.DataFrame({"d": d, "s": s, "p": p, "units": units, "price": price, "promo": promo,
                         "kind": kind, "column": column, "problem": problem, "value": ""})


def sales_file(rng: np.random.Generator, chain: Chain) -> SourceFile:
    """The POS sell-out export, cp1252 `;`, one row per (day, store, product) with units sold."""
    n = chain.n_obs
    open_cells = ~chain.closed[:, None, None] & ~chain.outage[:, :, None]
    d, s, p = np.nonzero((chain.reported > 0) & open_cells)
    main = _cells(d, s, p, chain.reported[d, s, p], chain.price[d, s, p], chain.effects.campaign[d, s, p] >= 0)
    spike = chain.anomaly[d, s, p] == 2
    main.loc[spike, ["kind", "column", "problem"]] = ["spike", "units", "units typed x10"]
    free = np.argwhere((chain.sold == 0) & open_cells & (chain.baseline[:n] > 0)
                       & (chain.effects.campaign[:n] < 0))
    picks = free[rng.choice(len(free), size=11, replace=False)]
    raw = pd.concat([main, _returns(chain, picks[:8]), _unknown_rows(rng, chain), _bad_sales(chain, picks[8:])],
                    ignore_index=True)
    raw = raw.iloc[np.lexsort((raw["kind"].ne("").to_numpy(), raw["p"].to_numpy(), raw["s"].to_numpy(),
                               raw["d"].to_numpy()))].reset_index(drop=True)
    frame = _format_sales(chain, raw)
    for problem, header in (("not_a_number", "Quantidade"), ("invalid_date", "Data"),
                            ("missing_required", "Código Produto")):
        rows = raw.index[raw["problem"] == problem]
        frame.loc[rows, header] = raw.loc[rows, "value"].to_numpy()
    name = f"vendas_rede_sp_{chain.days[0].year}_{chain.days[n - 1].year}.csv"
    return SourceFile(name, "sales", frame, CsvStyle(), _SALES_COLUMNS)


def _format_sales(chain: Chain, raw: pd.DataFrame) -> pd.DataFrame:
    ids = pa.array(list(chain.products["product_id"]) + list(chain.unknown_products["product_id"]))
    stores = pa.array(list(chain.stores["store_id"]))
    d, s, p = raw["d"].to_numpy(), raw["s"].to_numpy(), raw["p"].to_numpy()
    units, price = raw["units"].to_numpy(), raw["price"].to_numpy()
    revenue = units * price
    currency = pa.array(np.isin(s, np.flatnonzero(chain.stores["store_id"].isin(CURRENCY_STORES))) & (units > 0))
    money = pc.if_else(currency, pa.array(fmt.number(revenue, thousands=True, currency=True)),
                       pa.array(fmt.number(revenue)))
    store_ids, product_ids = stores.take(pa.array(s)), ids.take(pa.array(p))
    frame = pd.DataFrame({"Data": fmt.dates(chain.days[d]), "Código Loja": fmt.text(store_ids),
                          "Código Produto": fmt.text(product_ids), "Quantidade": fmt.integer(units),
                          "Preço": fmt.number(price), "Valor Total": fmt.text(money),
                          "Promoção": fmt.yes_no(raw["promo"].to_numpy())})
    mark(frame)
    for col in ("kind", "column", "problem", "value"):
        frame["_" + col] = raw[col].to_numpy()
    frame["_d"], frame["_s"], frame["_p"], frame["_units"] = d, s, p, units
    frame["_date"] = chain.days[d].where(raw["problem"].to_numpy() != "invalid_date")
    frame["_store"], frame["_product"] = fmt.text(store_ids), fmt.text(product_ids)
    frame.loc[raw["problem"] == "missing_required", "_product"] = ""
    return frame


def _returns(chain: Chain, cells: np.ndarray) -> pd.DataFrame:
    """Customer returns: negative units on days the item sold nothing, legitimate and kept by a loader."""
    d, s, p = cells.T
    units = -np.array([1, 1, 2, 1, 1, 3, 1, 2])[: len(d)]
    regular = chain.products["unit_price"].to_numpy()
    return _cells(d, s, p, units, regular[p], np.zeros(len(d), bool), "return", "units",
                  "negative units: a customer return")


def _unknown_rows(rng: np.random.Generator, chain: Chain) -> pd.DataFrame:
    """New items sold before the ERP catalogue lists them: ids absent from produtos.xlsx."""
    n_rows = 6
    d = np.sort(rng.integers(chain.n_obs - 45, chain.n_obs, n_rows))
    d = np.where(chain.closed[d], d - 1, d)
    s = rng.integers(0, 2, n_rows)
    which = np.arange(n_rows) % len(chain.unknown_products)
    units = rng.integers(1, 5, n_rows)
    return _cells(d, s, len(chain.products) + which, units, chain.unknown_products["unit_price"].to_numpy()[which],
                  np.zeros(n_rows, bool), "unknown_id", "product_id", "product id not in produtos.xlsx")


def _bad_sales(chain: Chain, cells: np.ndarray) -> pd.DataFrame:
    """Three rows a loader must quarantine: text in a quantity, an impossible date, a missing product."""
    d, s, p = cells.T
    regular = chain.products["unit_price"].to_numpy()
    frame = _cells(d, s, p, np.array([1, 2, 1]), regular[p], np.zeros(3, bool), "bad")
    days = chain.days[: chain.n_obs]
    feb = days[(days.month == 2) & (days.day == 28)][0]
    frame["d"] = [d[0], chain.days.get_loc(feb), d[2]]
    frame["column"] = ["units", "date", "product_id"]
    frame["problem"] = ["not_a_number", "invalid_date", "missing_required"]
    frame["value"] = ["abc", f"31/02/{feb.year}", ""]
    return frame


def stock_file(rng: np.random.Generator, chain: Chain) -> SourceFile:
    """The WMS end-of-day snapshot: UTF-8, `,`, ISO dates, decimal point; one row per store, product and day."""
    n_days, n_stores, n_prod = chain.on_hand.shape
    d, s, p = (a.ravel() for a in np.indices((n_days, n_stores, n_prod)))
    on_hand = fmt.number(chain.on_hand.ravel(), 1, comma=False)
    frame = pd.DataFrame({"data_posicao": fmt.dates(chain.days[d], "%Y-%m-%d"),
                          "cod_filial": fmt.pick(chain.stores["store_id"], s),
                          "ean": fmt.pick(chain.products["product_id"], p),
                          "qtd_estoque": on_hand,
                          "qtd_pedido": fmt.number(chain.on_order.ravel(), 1, comma=False)})
    mark(frame)
    out = np.flatnonzero((chain.on_hand.ravel() == 0) & (d > 30))
    row = int(rng.choice(out))
    frame.loc[row, ["qtd_estoque", "_kind", "_column", "_problem", "_value"]] = [
        "-4.0", "bad", "on_hand", "negative_value", "-4.0"]
    columns = {"data_posicao": "date", "cod_filial": "store_id", "ean": "product_id", "qtd_estoque": "on_hand",
               "qtd_pedido": "on_order"}
    return SourceFile("estoque_diario.csv", "stock", frame, _WMS, columns)


def campaigns_file(chain: Chain) -> SourceFile:
    """The marketing team's campaign sheet: UTF-8 with BOM, every field quoted, ids listed with `,`."""
    c = chain.campaigns
    frame = pd.DataFrame({
        "Código Campanha": c["campaign_id"], "Nome Campanha": c["name"],
        "Data Início": fmt.dates(c["start_date"]), "Data Fim": fmt.dates(c["end_date"]), "Tipo": c["type"],
        "Desconto (%)": fmt.integer(c["discount_pct"]), "Canal": c["channel"],
        "Investimento": fmt.number(c["cost"], thousands=True, currency=True),
        "Produtos": c["product_ids"].map(",".join), "Lojas": c["store_ids"].map(",".join),
    })
    mark(frame)
    last = c.loc[~c["is_future"], "end_date"].max()
    bad = pd.DataFrame([{
        "Código Campanha": "CMP-099", "Nome Campanha": "Queima de Estoque Inverno",
        "Data Início": (last - pd.Timedelta(days=20)).strftime("%d/%m/%Y"),
        "Data Fim": (last - pd.Timedelta(days=30)).strftime("%d/%m/%Y"), "Tipo": "discount",
        "Desconto (%)": "30", "Canal": "encarte", "Investimento": "R$ 9.500,00",
        "Produtos": ",".join(c["product_ids"].iloc[0][:2]), "Lojas": "001,002",
    }])
    mark(bad, "bad", "end_date", "end_before_start", bad["Data Fim"].iloc[0])
    frame = pd.concat([frame.iloc[:-2], bad, frame.iloc[-2:]], ignore_index=True)
    columns = dict(zip(frame.columns[:10], ["campaign_id", "name", "start_date", "end_date", "type", "discount_pct",
                                            "channel", "cost", "product_ids", "store_ids"], strict=True))
    return SourceFile("campanhas.csv", "campaigns", frame, _MARKETING, columns)


def chain_sources(rng: np.random.Generator, chain: Chain) -> list[SourceFile]:
    """Every chain export, in the order a retailer would hand them over."""
    return [products_file(chain), stores_file(chain), suppliers_file(chain), sales_file(rng, chain),
            stock_file(rng, chain), campaigns_file(chain)]
