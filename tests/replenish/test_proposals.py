"""Purchase proposals: per-supplier tables, the workbook read back, and the pt-BR e-mail draft."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from shelfwise.replenish import (
    PROPOSAL_COLUMNS,
    UNKNOWN_SUPPLIER,
    email_draft,
    format_brl,
    purchase_proposals,
    write_proposals_xlsx,
)
from shelfwise.replenish.proposals import format_number, with_totals


def replenishment_rows():
    """A hand-made `replenishment` table: three lines for F1 (two stores), one for F2, one unknown, one not ordered."""
    rows = [
        # store, product, supplier, on_hand, order, case_pack, cover, stock-out
        ("001", "0789000000017", "F1", 12.0, 120, 12, 1.2, "2026-11-02"),
        ("002", "0789000000017", "F1", 30.0, 24, 12, 3.0, "2026-11-04"),
        ("001", "7890000000024", "F1", 0.0, 600, 6, 0.0, "2026-11-01"),
        ("001", "7890000000031", "F2", 8.0, 10, 1, 2.0, None),
        ("001", "7890000000048", UNKNOWN_SUPPLIER, 1.0, 5, 1, 0.5, "2026-11-01"),
        ("002", "7890000000031", "F2", 80.0, 0, 1, 20.0, None),
    ]
    frame = pd.DataFrame(rows, columns=["store_id", "product_id", "supplier_id", "on_hand", "suggested_order",
                                        "case_pack", "days_of_cover", "stockout_date"])
    frame["suggested_order"] = frame["suggested_order"].astype("Int64")
    frame.loc[5, "suggested_order"] = pd.NA  # a series without stock: never ordered
    frame.loc[len(frame)] = ["003", "7890000000031", "F2", 50.0, 0, 1, 10.0, None]
    frame["stockout_date"] = pd.to_datetime(frame["stockout_date"])
    return frame


PRODUCTS = pd.DataFrame({
    "product_id": ["0789000000017", "7890000000024", "7890000000031", "7890000000048"],
    "name": ["Arroz Tipo 1 5kg", "Água Mineral 500ml", "Detergente 500ml", None],
    "unit_cost": [21.5, 1.15, np.nan, 3.0],
})
SUPPLIERS = pd.DataFrame({
    "supplier_id": ["F1", "F2"],
    "name": ["Zeta Alimentos Ltda", "Alfa Química: Limpeza [Atacado] e Distribuição S.A."],
    "email": ["vendas@zeta.example.com", "pedidos@alfa.example.com"],
    "lead_time_days": [4, np.nan],
})


@pytest.fixture
def proposals():
    return purchase_proposals(replenishment_rows(), PRODUCTS, SUPPLIERS)


def test_one_proposal_per_supplier_with_something_to_order(proposals):
    # named suppliers by name (Alfa before Zeta), the unknown one last
    assert list(proposals) == ["F2", "F1", UNKNOWN_SUPPLIER]
    assert all(list(p.columns) == list(PROPOSAL_COLUMNS) for p in proposals.values())
    assert len(proposals["F2"]) == 1  # the zero and the missing order are left out


def test_proposal_figures(proposals):
    f1 = proposals["F1"]
    assert f1["Loja"].tolist() == ["001", "001", "002"]
    assert f1["Produto"].tolist() == ["0789000000017", "7890000000024", "0789000000017"]
    assert f1["Descrição"].tolist() == ["Arroz Tipo 1 5kg", "Água Mineral 500ml", "Arroz Tipo 1 5kg"]
    assert f1["Quantidade sugerida"].tolist() == [120, 600, 24]
    assert f1["Caixas"].tolist() == [10, 100, 2]  # 120/12, 600/6, 24/12
    # 120 * 21.50 = 2580.00; 600 * 1.15 = 690.00; 24 * 21.50 = 516.00
    assert f1["Custo total"].tolist() == pytest.approx([2580.0, 690.0, 516.0])
    assert f1["Ruptura prevista"].tolist() == [pd.Timestamp("2026-11-02"), pd.Timestamp("2026-11-01"),
                                               pd.Timestamp("2026-11-04")]
    assert np.isnan(proposals["F2"]["Custo total"].iloc[0])  # no unit cost, no total


def test_workbook_has_one_sheet_per_supplier_with_the_totals(proposals, tmp_path):
    path = tmp_path / "propostas.xlsx"
    sheets = write_proposals_xlsx(proposals, path, suppliers=SUPPLIERS)
    book = pd.read_excel(path, sheet_name=None, engine="calamine", dtype={"Loja": str, "Produto": str})
    assert list(book) == list(sheets.values())
    # legal names: no [ ] :, at most 31 characters
    assert sheets == {"F2": "Alfa Química_ Limpeza _Atacado_", "F1": "Zeta Alimentos Ltda",
                      UNKNOWN_SUPPLIER: UNKNOWN_SUPPLIER}
    f1 = book["Zeta Alimentos Ltda"]
    assert list(f1.columns) == list(PROPOSAL_COLUMNS) and len(f1) == 4
    assert f1["Produto"].iloc[0] == "0789000000017"  # ids stay text, leading zero and all
    total = f1.iloc[-1]
    # 120 + 600 + 24 = 744 units; 10 + 100 + 2 = 112 boxes; 2580 + 690 + 516 = 3786.00
    assert total["Loja"] == "Total" and total["Quantidade sugerida"] == 744 and total["Caixas"] == 112
    assert total["Custo total"] == pytest.approx(3786.0)
    assert f1["Ruptura prevista"].iloc[1] == pd.Timestamp("2026-11-01")


def test_sheet_names_are_unique_short_and_legal(tmp_path):
    long = "Distribuidora de Alimentos e Bebidas do Vale do Paraíba"
    suppliers = pd.DataFrame({"supplier_id": ["A", "B", "C"], "name": [long, long.upper(), "History"]})
    frame = purchase_proposals(replenishment_rows(), PRODUCTS, SUPPLIERS)["F2"]
    sheets = write_proposals_xlsx({"A": frame, "B": frame, "C": frame}, tmp_path / "x.xlsx", suppliers=suppliers)
    names = list(sheets.values())
    assert names == ["Distribuidora de Alimentos e Be", "DISTRIBUIDORA DE ALIMENTOS (2)", "History_"]
    assert all(len(n) <= 31 for n in names)
    assert len({n.casefold() for n in names}) == 3
    assert list(pd.read_excel(tmp_path / "x.xlsx", sheet_name=None, engine="calamine")) == names


def test_email_draft_in_portuguese_with_the_order_summary(proposals):
    big = proposals["F1"].assign(**{"Custo total": [1000.0, 200.0, 34.56]})
    text = email_draft(SUPPLIERS.iloc[0], big, sender_name="Equipe de Compras — Rede Exemplo",
                       today=date(2026, 11, 3))
    assert text.startswith("Para: vendas@zeta.example.com\nAssunto: Proposta de pedido de compra — "
                           "Zeta Alimentos Ltda — 03/11/2026\n")
    assert "Prezados(as) da Zeta Alimentos Ltda," in text
    assert "- 3 itens em 2 lojas" in text
    assert "- 744 unidades (112 caixas)" in text
    assert "Valor total estimado: R$ 1.234,56" in text  # 1000 + 200 + 34.56
    assert "prazo de entrega de 4 dias, contamos com a entrega até 07/11/2026" in text
    assert text.rstrip().endswith("Atenciosamente,\nEquipe de Compras — Rede Exemplo")


def test_email_draft_without_lead_time_cost_or_email(proposals):
    supplier = {"supplier_id": "F2", "name": SUPPLIERS["name"].iloc[1], "email": None, "lead_time_days": None}
    text = email_draft(supplier, proposals["F2"], sender_name="Compras", today=date(2026, 11, 3))
    assert "Para: (e-mail do fornecedor não cadastrado)" in text
    assert "- 1 item em 1 loja" in text and "(1 item sem custo cadastrado, fora do total)" in text
    assert "Valor total estimado: R$ 0,00" in text and "prazo habitual" in text
    override = email_draft(supplier, proposals["F2"], sender_name="Compras", today=date(2026, 11, 3),
                           lead_time_days=1)
    assert "prazo de entrega de 1 dia, contamos com a entrega até 04/11/2026" in override


@pytest.mark.parametrize(("value", "text"), [
    (1234.56, "R$ 1.234,56"), (0, "R$ 0,00"), (1234567.891, "R$ 1.234.567,89"), (-5, "-R$ 5,00"),
    (999.999, "R$ 1.000,00"), (-0.001, "R$ 0,00"),
])
def test_brazilian_money(value, text):
    assert format_brl(value) == text


def test_totals_row_of_a_proposal(proposals):
    total = with_totals(proposals["F2"]).iloc[-1]
    # the only line has no unit cost: the total cost sums to 0 over no known cost
    assert total["Loja"] == "Total" and total["Quantidade sugerida"] == 10 and total["Custo total"] == 0


def test_brazilian_numbers():
    assert format_number(14184, 0) == "14.184"
    assert format_number(3.5, 1) == "3,5"
