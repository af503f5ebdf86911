"""Purchase proposals per supplier for the buyer: Portuguese tables, an `.xlsx` workbook and e-mail drafts.

`purchase_proposals` cuts the `replenishment` table (see `policy`) into one table per supplier with the rows
that have something to order; `write_proposals_xlsx` writes them one sheet per supplier with a totals row;
`email_draft` writes the pt-BR e-mail that goes with a supplier's sheet. Nothing here sends anything, and
nothing about customers appears: the proposals hold stores, products, quantities and costs only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from shelfwise.replenish.policy import UNKNOWN_SUPPLIER

PROPOSAL_COLUMNS: tuple[str, ...] = (
    "Loja", "Produto", "Descrição", "Quantidade sugerida", "Caixas", "Custo unitário", "Custo total",
    "Estoque atual", "Cobertura (dias)", "Ruptura prevista",
)
"""Columns of each supplier's proposal: store_id, product_id, the product's name, suggested_order (units),
suggested_order / case_pack, unit_cost, units x unit_cost (missing when the cost is), on_hand, days_of_cover
(1 decimal) and stockout_date."""

TOTAL_LABEL = "Total"
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MONEY_FORMAT = '"R$" #,##0.00'


def purchase_proposals(
    replenishment: pd.DataFrame, products: pd.DataFrame, suppliers: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """One proposal per supplier_id with the rows of `replenishment` whose suggested_order is above 0.

    Args:
        replenishment: the table of `plan_replenishment` (store_id, product_id, supplier_id, on_hand,
            suggested_order, case_pack, days_of_cover, stockout_date are read).
        products: product_id with optional name and unit_cost.
        suppliers: supplier_id with optional name; the proposals come in supplier-name order, with
            `UNKNOWN_SUPPLIER` and suppliers without a record last.

    Returns:
        supplier_id -> a frame of `PROPOSAL_COLUMNS`, sorted by store and product; suppliers with nothing to
        order are left out.
    """
    ordered = replenishment[replenishment["suggested_order"].fillna(0) > 0]
    info = products.assign(product_id=products["product_id"].astype("string"))
    info = info.drop_duplicates("product_id", keep="last").set_index("product_id")
    name = ordered["product_id"].astype("string").map(_column(info, "name"))
    cost = pd.to_numeric(ordered["product_id"].astype("string").map(_column(info, "unit_cost")), errors="coerce")
    units = ordered["suggested_order"].astype("int64")
    frame = pd.DataFrame({
        "Loja": ordered["store_id"].astype(str), "Produto": ordered["product_id"].astype(str),
        "Descrição": name.fillna("").astype(str), "Quantidade sugerida": units,
        "Caixas": (units // ordered["case_pack"].astype("int64")).astype("int64"),
        "Custo unitário": cost.astype("float64"), "Custo total": (units * cost).astype("float64"),
        "Estoque atual": ordered["on_hand"].astype("float64"),
        "Cobertura (dias)": ordered["days_of_cover"].astype("float64").round(1),
        "Ruptura prevista": pd.to_datetime(ordered["stockout_date"]),
    })
    supplier = ordered["supplier_id"].astype("string").fillna(UNKNOWN_SUPPLIER)
    out = {str(key): part.sort_values(["Loja", "Produto"]).reset_index(drop=True)
           for key, part in frame.groupby(supplier.to_numpy(), sort=False)}
    return {key: out[key] for key in _supplier_order(list(out), suppliers)}


def write_proposals_xlsx(
    proposals: Mapping[str, pd.DataFrame], path: str | Path, *, suppliers: pd.DataFrame | None = None
) -> dict[str, str]:
    """Write one sheet per supplier, each with a totals row, and return supplier_id -> sheet name.

    Sheet names are the supplier's name (from `suppliers`, else its id) made legal for Excel: at most 31
    characters, none of the characters Excel forbids, unique without regard to case (a repeated name gets ` (2)`).
    Quantities sum in the totals row, and so does `Custo total` (over the rows with a known cost).
    """
    names = supplier_names(suppliers)
    sheets = _sheet_names([names.get(key) or key for key in proposals])
    mapping = dict(zip(proposals, sheets, strict=True))
    with pd.ExcelWriter(path, engine="xlsxwriter", date_format="dd/mm/yyyy", datetime_format="dd/mm/yyyy") as xl:
        money = xl.book.add_format({"num_format": _MONEY_FORMAT})
        decimal = xl.book.add_format({"num_format": "#,##0.0"})
        for key, proposal in proposals.items():
            sheet = mapping[key]
            with_totals(proposal).to_excel(xl, sheet_name=sheet, index=False)
            ws = xl.sheets[sheet]
            ws.set_column(0, 1, 16)
            ws.set_column(2, 2, 36)
            ws.set_column(3, 4, 12)
            ws.set_column(5, 6, 14, money)
            ws.set_column(7, 8, 14, decimal)
            ws.set_column(9, 9, 14)
            ws.freeze_panes(1, 0)
    return mapping


def with_totals(proposal: pd.DataFrame) -> pd.DataFrame:
    """The proposal with a last row `Total` summing the quantities, the boxes and the total cost."""
    totals = {"Loja": TOTAL_LABEL, "Quantidade sugerida": proposal["Quantidade sugerida"].sum(),
              "Caixas": proposal["Caixas"].sum(), "Custo total": proposal["Custo total"].sum(min_count=0)}
    row = pd.DataFrame([totals], columns=list(proposal.columns))
    return pd.concat([proposal.astype(object), row.astype(object)], ignore_index=True)


def email_draft(
    supplier_row: Mapping[str, Any] | pd.Series,
    proposal: pd.DataFrame,
    *,
    sender_name: str,
    today: date,
    lead_time_days: int | None = None,
) -> str:
    """A polite pt-BR e-mail to the supplier presenting its purchase proposal (the workbook goes attached).

    Args:
        supplier_row: the supplier's record: `supplier_id`, `name`, `email`, `lead_time_days` (any may be missing).
        proposal: the supplier's frame from `purchase_proposals` (without the totals row).
        sender_name: who signs the e-mail (a buyer or the company).
        today: the date of the proposal; the delivery is expected `lead_time_days` after it.
        lead_time_days: overrides the supplier's lead time in the delivery expectation.

    Returns:
        The draft, starting with `Para:` and `Assunto:` lines.
    """
    name = _text(supplier_row.get("name")) or _text(supplier_row.get("supplier_id")) or "fornecedor"
    email = _text(supplier_row.get("email"))
    lead = lead_time_days if lead_time_days is not None else _whole(supplier_row.get("lead_time_days"))
    n_items = len(proposal)
    units = int(proposal["Quantidade sugerida"].sum())
    boxes = int(proposal["Caixas"].sum())
    total = float(proposal["Custo total"].sum())
    no_cost = int(proposal["Custo unitário"].isna().sum())
    stores = proposal["Loja"].nunique()
    lines = [f"Para: {email}" if email else "Para: (e-mail do fornecedor não cadastrado)",
             f"Assunto: Proposta de pedido de compra — {name} — {format_date(today)}", "",
             f"Prezados(as) da {name},", "",
             "Esperamos que estejam bem. Segue a nossa proposta de pedido de compra, com o detalhamento por loja "
             "e produto na planilha anexa.", "",
             "Resumo do pedido:",
             f"- {_plural(n_items, 'item', 'itens')} em {_plural(stores, 'loja', 'lojas')}",
             f"- {format_number(units, 0)} unidades ({_plural(boxes, 'caixa', 'caixas')})",
             f"- Valor total estimado: {format_brl(total)}"]
    if no_cost:
        lines.append(f"  ({_plural(no_cost, 'item', 'itens')} sem custo cadastrado, fora do total)")
    lines += ["", _delivery(lead, today), "",
              "Pedimos, por gentileza, que confirmem as quantidades, os preços e a data de entrega, e que nos "
              "avisem de qualquer item com restrição de disponibilidade.", "",
              "Ficamos à disposição para esclarecer qualquer dúvida.", "",
              "Atenciosamente,", sender_name]
    return "\n".join(lines) + "\n"


def format_number(value: float, decimals: int = 2) -> str:
    """A number in the Brazilian way: `1234.5` -> `1.234,50` (thousands `.`, decimal `,`)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_brl(value: float) -> str:
    """Reais in the Brazilian way: `1234.56` -> `R$ 1.234,56`, `-5` -> `-R$ 5,00`."""
    sign = "-" if value < 0 and round(abs(value), 2) > 0 else ""
    return f"{sign}R$ {format_number(abs(value), 2)}"


def format_date(day: date) -> str:
    """`dd/mm/aaaa`."""
    return day.strftime("%d/%m/%Y")


def supplier_names(suppliers: pd.DataFrame | None) -> dict[str, str]:
    """supplier_id -> name, for the suppliers that have a name."""
    if suppliers is None or "name" not in suppliers:
        return {}
    named = suppliers.dropna(subset=["name"]).drop_duplicates("supplier_id", keep="last")
    return dict(zip(named["supplier_id"].astype(str), named["name"].astype(str), strict=True))


def _supplier_order(keys: list[str], suppliers: pd.DataFrame) -> list[str]:
    names = supplier_names(suppliers)
    return sorted(keys, key=lambda k: (k not in names, k == UNKNOWN_SUPPLIER, names.get(k, "").casefold(), k))


def _sheet_names(labels: list[str]) -> list[str]:
    """Legal, case-insensitively unique Excel sheet names for the labels, in order."""
    taken: set[str] = set()
    out = []
    for label in labels:
        base = _SHEET_FORBIDDEN.sub("_", str(label)).strip().strip("'") or "Fornecedor"
        if base.casefold() == "history":  # Excel reserves it
            base += "_"
        name, n = base[:31].rstrip(), 1
        while name.casefold() in taken:
            n += 1
            suffix = f" ({n})"
            name = base[: 31 - len(suffix)].rstrip() + suffix
        taken.add(name.casefold())
        out.append(name)
    return out


def _delivery(lead: int | None, today: date) -> str:
    if lead is None:
        return "Solicitamos a entrega no prazo habitual combinado; por favor, informem a data prevista."
    if lead == 0:
        return f"Considerando o prazo de entrega combinado, contamos com a entrega ainda hoje, {format_date(today)}."
    arrival = today + timedelta(days=lead)
    return (f"Considerando o prazo de entrega de {_plural(lead, 'dia', 'dias')}, contamos com a entrega até "
            f"{format_date(arrival)}.")


def _plural(n: int, one: str, many: str) -> str:
    return f"{format_number(n, 0)} {one if n == 1 else many}"


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(index=frame.index, dtype="object")


def _text(value: Any) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value).strip()


def _whole(value: Any) -> int | None:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return None if pd.isna(number) or number < 0 else math.ceil(number)
