"""Table names from Portuguese and English file names, and every supported format: .xlsx, Parquet, JSON Lines,
.gz and .zip."""

from __future__ import annotations

import gzip
import json
import zipfile
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from shelfwise.ingest import IngestError, LoadResult
from shelfwise.ingest.detect import infer_table
from shelfwise.privacy.vault import Vault


@pytest.mark.parametrize(("name", "table"), [
    ("vendas_2025.csv", "sales"),
    ("produtos.xlsx", "products"),
    ("clientes_2025.csv", "customers"),
    ("cupons_fiscais.csv.gz", "transactions"),
    ("Posição Estoque 31-12.csv", "stock"),
    ("sell_out_jan.parquet", "sales"),
    ("lojas.jsonl", "stores"),
    ("export.zip/2025/Fornecedores.CSV", "suppliers"),
    ("campanhas-promocionais.xlsx", "campaigns"),
    ("store_list.csv", "stores"),
])
def test_table_is_inferred_from_the_file_name(name, table):
    assert infer_table(Path(name)) == table


def test_a_name_matching_no_table_says_to_pass_table():
    with pytest.raises(IngestError, match=r"relatorio_mensal\.csv: cannot tell which table this file is from its name"):
        infer_table(Path("relatorio_mensal.csv"))


def test_xlsx_with_a_title_blank_rows_floats_and_text_ids(files, load, sql, quarantined):
    book = Workbook()
    sheet = book.active
    sheet["B2"] = "Catálogo de produtos — janeiro"  # rows 1 and column A empty: calamine drops them
    sheet.append([])
    sheet.append([None, "Código Produto", "Descrição", "Preço", "Validade"])  # row 4
    sheet.append([None, "07891000100103", "Café", 12.5, 30])  # row 5
    sheet.append([None, "07891000100202", "Açúcar", 4.99, "abc"])  # row 6: shelf life not a number
    sheet.append([])  # row 7: blank, skipped
    sheet.append([None, "0791", "Feijão", 7, 365])  # row 8
    book.save(files / "produtos.xlsx")
    result = load(files / "produtos.xlsx")
    assert (result.table, result.details["format"]) == ("products", "xlsx")
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (3, 2, 1)
    assert quarantined(result) == [(
        6, "Validade (shelf_life_days)", "Validade (shelf_life_days): 'abc' não é um número inteiro",
        '{"Código Produto":"07891000100202","Descrição":"Açúcar","Preço":"4.99","Validade":"abc"}',
    )]
    assert sql("SELECT product_id, name, unit_price, shelf_life_days FROM products ORDER BY 1") == [
        ("07891000100103", "Café", 12.5, 30), ("0791", "Feijão", 7.0, 365),
    ]


def test_xlsx_date_cells_and_text_dates_in_one_column(files, load, sql):
    book = Workbook()
    sheet = book.active
    sheet.append(["Data", "SKU", "Qtd"])
    sheet.append([datetime(2026, 1, 5), "A1", 1])
    sheet.append(["06/01/2026", "A1", 2])
    sheet.append([date(2026, 1, 7), "A1", 3])
    book.save(files / "vendas.xlsx")
    result = load(files / "vendas.xlsx")
    assert result.rows_quarantined == 0
    assert sql("SELECT date, units FROM sales ORDER BY 1") == [
        (date(2026, 1, 5), 1.0), (date(2026, 1, 6), 2.0), (date(2026, 1, 7), 3.0),
    ]


def test_parquet_with_typed_columns(files, load, sql, quarantined):
    pq.write_table(pa.table({
        "data": [date(2026, 1, 5), date(2026, 1, 6), None],
        "produto": ["0789", "0789", "0790"],
        "quantidade": [1.5, 2.0, 3.0],
        "em_promocao": [True, False, True],
    }), files / "vendas.parquet")
    result = load(files / "vendas.parquet")
    assert (result.details["format"], result.rows_read, result.rows_accepted) == ("parquet", 3, 2)
    assert quarantined(result) == [(  # a Parquet file has no header line: the line is the row number
        3, "data (date)", "data (date): valor obrigatório ausente",
        '{"data":null,"produto":"0790","quantidade":"3.0","em_promocao":"true"}',
    )]
    assert sql("SELECT date, product_id, units, on_promo FROM sales ORDER BY 1") == [
        (date(2026, 1, 5), "0789", 1.5, True), (date(2026, 1, 6), "0789", 2.0, False),
    ]


def test_parquet_column_names_with_quotes(files, load, sql):
    columns = {"sku": ["0789"], 'nome "fantasia"': ["Café"], "preço": [10.5]}
    pq.write_table(pa.table(columns), files / "produtos.parquet")
    result = load(files / "produtos.parquet")
    assert result.ignored_columns == ('nome "fantasia"',)
    assert sql("SELECT product_id, unit_price FROM products") == [("0789", 10.5)]


def test_json_lines_quarantines_a_broken_line_with_its_number_and_text(files, load, sql, quarantined, workspace):
    lines = [
        '{"id_cliente": "000123", "nome": "Ana", "uf": "SP"}',  # 1
        '{"id_cliente": "000124", "nome": ',                     # 2 broken
        "",                                                      # 3 blank
        '{"id_cliente": "000125", "nome": "Zé", "cidade": "Belém"}',  # 4: a key the first line lacks
        "[1, 2]",                                                # 5 not an object
        '{"nome": "sem id"}',                                    # 6 required id missing
        '{"id_cliente": "000126", "nome": "cortado',              # 7 cut mid-line, no newline
    ]
    (files / "clientes_2025.jsonl").write_text("\n".join(lines), encoding="utf-8")
    result = load(files / "clientes_2025.jsonl")
    assert (result.table, result.rows_read, result.rows_accepted, result.rows_quarantined) == ("customers", 6, 2, 4)
    rows = quarantined(result)
    assert [(line, column, reason) for line, column, reason, _ in rows] == [
        (2, "", "line is not a valid JSON object"),
        (5, "", "line is not a valid JSON object"),
        (6, "id_cliente (customer_id)", "id_cliente (customer_id): valor obrigatório ausente"),
        (7, "", "line is not a valid JSON object"),
    ]
    assert json.loads(rows[0][3]) == {"line": "[vault]"}  # a customer's line may hold anything personal
    sealed = Vault(workspace).read_quarantined(purpose="test")
    originals = [content["raw"] for content in sealed["content"]]
    assert {"line": lines[1]} in originals and {"line": lines[6]} in originals
    assert sql("SELECT customer_id, state, city FROM customers ORDER BY 1") == [
        ("000123", "SP", None), ("000125", None, "Belém"),
    ]


def test_gzip_csv_named_after_receipts_loads_as_transactions(files, load, sql, quarantined):
    text = "cupom;data_hora;valor;cliente\nC1;05/01/2026 10:00;10,50;000123\nC2;05/01/2026 11:00;x;000124\n"
    (files / "cupons_fiscais.csv.gz").write_bytes(gzip.compress(text.encode("cp1252")))
    result = load(files / "cupons_fiscais.csv.gz")
    assert (result.table, result.details["format"], result.rows_accepted) == ("transactions", "csv.gz", 1)
    assert [row[:2] for row in quarantined(result)] == [(3, "valor (amount)")]
    assert sql("SELECT transaction_id, timestamp, amount, customer_id FROM transactions") == [
        ("C1", datetime(2026, 1, 5, 10, 0), 10.5, "000123"),
    ]
    assert result.unknown_ids == {"customers": 1}


def test_zip_with_two_members_loads_each_into_its_table(files, load, sql):
    with zipfile.ZipFile(files / "export.zip", "w") as archive:
        archive.writestr("lojas.csv", "loja,cidade,uf\n001,São Paulo,SP\n002,Rio de Janeiro,RJ\n")
        archive.writestr("estoque/estoque_jan.csv", "data,loja,produto,saldo\n2026-01-05,001,0789,3\n")
        archive.writestr("__MACOSX/._lojas.csv", "resource fork")
    results = load(files / "export.zip", many=True)
    assert [(r.file.as_posix(), r.table, r.rows_loaded) for r in results] == [
        (f"{(files / 'export.zip').as_posix()}/lojas.csv", "stores", 2),
        (f"{(files / 'export.zip').as_posix()}/estoque/estoque_jan.csv", "stock", 1),
    ]
    assert sql("SELECT store_id, city FROM stores ORDER BY 1") == [("001", "São Paulo"), ("002", "Rio de Janeiro")]
    assert sql("SELECT file FROM loads ORDER BY file") == [
        (f"{files / 'export.zip'}/estoque/estoque_jan.csv",), (f"{files / 'export.zip'}/lojas.csv",),
    ]


def test_zip_members_with_the_same_name_in_two_folders_are_both_loaded(files, load, sql):
    with zipfile.ZipFile(files / "vendas.zip", "w") as archive:
        archive.writestr("jan/vendas.csv", "data;produto;qtd\n05/01/2026;P1;1\n")
        archive.writestr("fev/vendas.csv", "data;produto;qtd\n12/01/2026;P2;2\n13/01/2026;P2;2\n")
    results = load(files / "vendas.zip", many=True)
    assert all(isinstance(r, LoadResult) for r in results)
    assert sql("SELECT product_id, count(*) FROM sales GROUP BY 1 ORDER BY 1") == [("P1", 1), ("P2", 2)]
