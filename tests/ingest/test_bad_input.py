"""Every bad input of the issue: a clean load with the bad rows quarantined and counted, or a clear error.

Quarantine lines are physical 1-based lines with the header as line 1.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import zipfile
from datetime import date

import pytest

from shelfwise.ingest import FailedLoad, IngestError, LoadResult


def write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def assert_failed(outcome, *fragments: str) -> str:
    """The load failed as a whole, with a message holding each fragment; returns the message."""
    assert isinstance(outcome, FailedLoad), outcome
    message = outcome.error.describe()
    for fragment in fragments:
        assert fragment in message, message
    return message


def assert_nothing_loaded(sql, table: str = "sales") -> None:
    assert sql(f"SELECT count(*) FROM {table}") == [(0,)]
    assert sql("SELECT count(*) FROM quarantine") == [(0,)]


# --- files that cannot be loaded at all ---------------------------------------------------------------------


def test_binary_file_is_refused_naming_the_file(files, load, sql):
    path = files / "vendas.csv"
    path.write_bytes(bytes(range(256)) * 40)
    outcome = load(path)
    assert_failed(outcome, "vendas.csv: is a binary file", "export the data as CSV or .xlsx")
    assert_nothing_loaded(sql)
    assert sql("SELECT table_name, status, message FROM loads") == [("sales", "failed", outcome.error.describe())]


def test_missing_file_and_folder_are_clear_errors(files, load, sql):
    (files / "vendas_dir").mkdir()
    missing, folder = load(files / "vendas_2025.csv", files / "vendas_dir", many=True)
    assert_failed(missing, "vendas_2025.csv: cannot be read (no such file)")
    assert_failed(folder, "vendas_dir: is a folder, not a file", "pass the files inside it")
    assert sql("SELECT file, table_name, status FROM loads ORDER BY file") == [
        (str(files / "vendas_2025.csv"), None, "failed"), (str(files / "vendas_dir"), None, "failed"),
    ]


def test_damaged_gzip_is_refused(files, load, sql):
    path = files / "vendas.csv.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + b"not deflate data" * 50)
    assert_failed(load(path), "vendas.csv.gz: is not a readable gzip file")
    assert_nothing_loaded(sql)


@pytest.mark.parametrize(("rows", "expected"), [
    (2_000, "vendas.csv.gz: is not a readable gzip file (Compressed file ended before the end-of-stream marker"),
    (200_000, "vendas.csv.gz: cannot be read to the end (IO Error: Unexpected end of GZIP stream"),
], ids=["cut-in-the-sniffed-head", "cut-where-duckdb-reads"])
def test_gzip_cut_short_is_refused_and_loads_nothing(files, load, sql, rows, expected):
    generator = random.Random(7)
    body = "data;produto;qtd\n" + "".join(
        f"05/01/2026;{generator.randrange(10**9)};{generator.randrange(1000)}\n" for _ in range(rows)
    )
    packed = gzip.compress(body.encode())
    path = files / "vendas.csv.gz"
    path.write_bytes(packed[: len(packed) * 3 // 4])
    assert_failed(load(path), expected)
    assert_nothing_loaded(sql)


def test_damaged_zip_xlsx_and_parquet_are_refused(files, load, sql):
    (files / "vendas.zip").write_bytes(b"PK\x03\x04" + b"junk" * 20)
    with zipfile.ZipFile(files / "vendas.xlsx", "w") as book:
        book.writestr("xl/workbook.xml", "not a workbook")
    (files / "vendas.parquet").write_bytes(b"PAR1" + b"\x00garbage" * 50)
    archive, workbook, parquet = load(files / "vendas.zip", files / "vendas.xlsx", files / "vendas.parquet",
                                      many=True)
    assert_failed(archive, "vendas.zip: is a .zip archive that cannot be extracted")
    assert_failed(workbook, "vendas.xlsx: is not a readable Excel workbook")
    message = assert_failed(parquet, "vendas.parquet: is not a readable Parquet file")
    assert "\n" not in message
    assert_nothing_loaded(sql)


@pytest.mark.parametrize("content", [b"", b"  \n\n\t\n", b"\xef\xbb\xbf\n"], ids=["zero-bytes", "blank", "bom"])
def test_empty_file_is_refused(files, load, sql, content):
    path = files / "vendas.csv"
    path.write_bytes(content)
    assert_failed(load(path), "vendas.csv: the file is empty", "export it again with a header and rows")
    assert_nothing_loaded(sql)


def test_header_only_is_a_clean_empty_load(files, load, sql):
    result = load(write(files / "vendas.csv", "data;produto;quantidade\n"))
    assert isinstance(result, LoadResult)
    assert (result.status, result.rows_read, result.rows_accepted, result.rows_quarantined) == ("loaded", 0, 0, 0)
    assert_nothing_loaded(sql)


def test_unknown_table_is_refused_before_anything_is_read(files, load, sql):
    path = write(files / "vendas.csv", "data;produto;quantidade\n05/01/2026;P1;1\n")
    with pytest.raises(IngestError) as raised:
        load(path, table="vendas_diarias")
    assert raised.value.describe().startswith("vendas.csv: unknown table 'vendas_diarias' — expected one of: products")
    mapping = write(files / "map.yaml", "table: vendinhas\n")
    with pytest.raises(IngestError, match=re.escape("map.yaml: the mapping names unknown table 'vendinhas'")):
        load(path, mapping_file=mapping)
    assert sql("SELECT count(*) FROM loads") == [(0,)]


def test_a_name_that_says_no_table_is_a_clear_error(files, load):
    outcome = load(write(files / "export_20260105.csv", "data;produto;quantidade\n05/01/2026;P1;1\n"))
    assert_failed(outcome, "export_20260105.csv: cannot tell which table this file is from its name",
                  "pass --table with one of: products")


def test_missing_required_column_names_what_is_missing_and_what_was_found(files, load, sql):
    outcome = load(write(files / "vendas.csv", "data;loja;valor\n05/01/2026;L1;10,00\n"))
    assert_failed(
        outcome,
        "vendas.csv: required column(s) ['product_id', 'units'] not found for table 'sales'",
        "headers found: data, loja, valor",
        "units: units, quantidade, qtd",
        "or pass --mapping to map them",
    )
    assert_nothing_loaded(sql)


def test_two_headers_for_one_column_is_an_error_naming_both(files, load, sql):
    outcome = load(write(files / "vendas.csv", "Data;Produto;Qtd;Quantidade\n05/01/2026;P1;1;1\n"))
    assert_failed(outcome, "vendas.csv, column 'Quantidade': headers 'Qtd' and 'Quantidade' both match the "
                           "column 'units'", "pass --mapping with columns: {units: <header>}")
    assert outcome.error.column == "Quantidade"
    assert_nothing_loaded(sql)


def test_a_mapping_resolves_two_headers_for_one_column(files, load, sql):
    path = write(files / "vendas.csv", "Data;Produto;Qtd;Quantidade\n05/01/2026;P1;1;7\n")
    mapping = write(files / "map.yaml", "columns:\n  units: Quantidade\n")
    result = load(path, mapping_file=mapping)
    assert result.ignored_columns == ("Qtd",)
    assert sql("SELECT product_id, units FROM sales") == [("P1", 7.0)]


def test_cp1252_file_declared_utf8_fails_naming_the_line(files, load, sql):
    text = (
        "data;loja;produto;quantidade\n"
        '05/01/2026;L1;"Pao\nde queijo";1\n'  # lines 2-3: one record
        "05/01/2026;L2 – Sé;P1;2\n"  # line 4: the first byte that is not UTF-8 (the en dash is cp1252-only)
        "06/01/2026;São Paulo;P1;3\n"
    )
    path = write(files / "vendas.csv", text, "cp1252")
    mapping = write(files / "map.yaml", "encoding: utf-8\n")
    outcome = load(path, mapping_file=mapping)
    assert_failed(outcome, "vendas.csv, line 4: bytes that are not valid utf-8", "declare the right one")
    assert outcome.error.line == 4
    assert_nothing_loaded(sql)
    # left to detection, the same file loads with its accents
    result = load(path)
    assert (result.rows_read, result.rows_quarantined, result.details["encoding"]) == (3, 0, "cp1252")
    assert sql("SELECT store_id, product_id FROM sales ORDER BY units") == [
        ("L1", "Pao\nde queijo"), ("L2 – Sé", "P1"), ("São Paulo", "P1"),
    ]


def test_utf8_with_late_cp1252_bytes_in_an_unmapped_column_loses_no_row(files, load, sql, quarantined):
    # the first megabyte is UTF-8; the cp1252 bytes come later, in a column no table column maps to, on a row
    # that breaks a rule and on a row that does not: both must be accounted for, at their lines
    rows = "".join(f"05/01/2026;P{i};1;ok\n" for i in range(60_000))
    late = "05/01/2026;PX;abc;Observação\n06/01/2026;PY;2;Não\n".encode("cp1252")
    path = files / "estoque.csv"
    path.write_bytes(("data;produto;saldo;obs\n" + rows).encode() + late + b"07/01/2026;PZ;x;ok\n")
    result = load(path)
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined, result.rows_loaded) == (
        60_003, 60_001, 2, 60_001)
    assert result.details["encoding"] == "latin-1"
    assert [(line, raw) for line, _, _, raw in quarantined(result)] == [
        (60_002, '{"data":"05/01/2026","produto":"PX","saldo":"abc","obs":"Observação"}'),
        (60_004, '{"data":"07/01/2026","produto":"PZ","saldo":"x","obs":"ok"}'),
    ]
    assert sql("SELECT on_hand FROM stock WHERE product_id = 'PY'") == [(2.0,)]


def test_an_invalid_byte_at_the_very_end_of_a_small_file(files, load, quarantined):
    path = files / "estoque.csv"
    path.write_bytes(b'Data;Produto;Saldo;\n"0,00";"0,00";"0,00";"\xa0"')
    result = load(path)
    assert (result.rows_read, result.rows_quarantined, result.details["encoding"]) == (1, 1, "latin-1")
    assert [row[:2] for row in quarantined(result)] == [(2, "Data (date)")]


# --- rows that break a rule: quarantined with line, column, reason and raw values -----------------------------


def test_mixed_date_formats_in_one_column_both_load(files, load, sql, quarantined):
    text = "data;produto;quantidade\n05/01/2026;P1;1\n2026-01-06;P1;2\n07/01/2026;P1;3\n"
    result = load(write(files / "vendas.csv", text))
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (3, 3, 0)
    assert sql("SELECT date, units FROM sales ORDER BY date") == [
        (date(2026, 1, 5), 1.0), (date(2026, 1, 6), 2.0), (date(2026, 1, 7), 3.0),
    ]


def test_impossible_date_is_quarantined(files, load, sql, quarantined):
    text = "data;produto;quantidade\n05/01/2026;P1;1\n31/02/2026;P1;2\n"
    result = load(write(files / "vendas.csv", text))
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (2, 1, 1)
    assert quarantined(result) == [(
        3, "data (date)", "data (date): '31/02/2026' não é uma data válida (dd/mm/yyyy)",
        '{"data":"31/02/2026","produto":"P1","quantidade":"2"}',
    )]
    assert sql("SELECT file, table_name FROM quarantine") == [(str(files / "vendas.csv"), "sales")]
    assert sql("SELECT date, units FROM sales") == [(date(2026, 1, 5), 1.0)]


def test_text_in_a_numeric_column_is_quarantined(files, load, sql, quarantined):
    text = "data;produto;quantidade;valor\n05/01/2026;P1;abc;10,00\n05/01/2026;P2;2;x\n05/01/2026;P3;3;30,00\n"
    result = load(write(files / "vendas.csv", text))
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (3, 1, 2)
    assert [row[:3] for row in quarantined(result)] == [
        (2, "quantidade (units)", "quantidade (units): 'abc' não é um número"),
        (3, "valor (revenue)", "valor (revenue): 'x' não é um número"),
    ]
    assert sql("SELECT product_id, units, revenue FROM sales") == [("P3", 3.0, 30.0)]


def test_brazilian_thousands_currency_and_accounting_negatives(files, load, sql):
    text = (
        "data;produto;quantidade;valor\n"
        "05/01/2026;P1;1;1.234,56\n"
        '05/01/2026;P2;1;"R$ 1.234,56"\n'
        "05/01/2026;P3;1;(12,50)\n"
        "05/01/2026;P4;1;R$ -7,25\n"
        "05/01/2026;P5;1;12,50-\n"
        "05/01/2026;P6;1.000;1.234.567,8\n"
    )
    result = load(write(files / "vendas.csv", text))
    assert result.rows_quarantined == 0
    assert sql("SELECT product_id, units, revenue FROM sales ORDER BY product_id") == [
        ("P1", 1.0, 1234.56), ("P2", 1.0, 1234.56), ("P3", 1.0, -12.5), ("P4", 1.0, -7.25), ("P5", 1.0, -12.5),
        ("P6", 1000.0, 1234567.8),
    ]


def test_a_clean_export_is_typed_by_the_csv_reader_with_the_same_values(files, load, sql):
    text = "data;produto;quantidade;valor\n05/01/2026;P1;1.000;1.234,56\n05/01/2026;P2; 12,5 ;-7,25\n" \
        "05/01/2026;P3;1e3;1.234.567,8\n05/01/2026;P4;0,050;\n"
    result = load(write(files / "vendas.csv", text))
    assert result.details.get("numbers") == "typed by the CSV reader"
    assert sql("SELECT product_id, units, revenue FROM sales ORDER BY product_id") == [
        ("P1", 1000.0, 1234.56), ("P2", 12.5, -7.25), ("P3", 1000.0, 1234567.8), ("P4", 0.05, None),
    ]


@pytest.mark.parametrize("bad", ["1.5", "12.50,3", "1234.567", ".123", "NaN", "abc", "R$ 2,00"])
def test_a_cell_the_csv_reader_would_misread_sends_the_file_to_the_full_reading(files, load, sql, quarantined, bad):
    text = f"data;produto;quantidade;valor\n05/01/2026;P1;1;1.234,56\n05/01/2026;P2;2;{bad}\n"
    result = load(write(files / "vendas.csv", text))
    assert "numbers" not in result.details
    expected = {"NaN": None, "R$ 2,00": 2.0}  # a null marker, and currency: read; the others are refused
    if bad in expected:
        assert sql("SELECT product_id, revenue FROM sales ORDER BY 1") == [("P1", 1234.56), ("P2", expected[bad])]
    else:
        reason = f"valor (revenue): '{bad}' não é um número"
        assert [row[:3] for row in quarantined(result)] == [(3, "valor (revenue)", reason)]
        assert sql("SELECT product_id, revenue FROM sales") == [("P1", 1234.56)]


def test_us_thousands_in_a_comma_file_and_a_contradicting_separator(files, load, sql, quarantined):
    text = 'date,product,units,revenue\n2026-01-05,P1,1,"1,234.56"\n2026-01-05,P2,2,10.50\n2026-01-05,P3,3,"10,5"\n'
    result = load(write(files / "sales.csv", text))
    assert sql("SELECT product_id, revenue FROM sales ORDER BY product_id") == [("P1", 1234.56), ("P2", 10.5)]
    assert [row[:3] for row in quarantined(result)] == [
        (4, "revenue", "revenue: '10,5' não é um número"),
    ]


def test_negative_stock_is_quarantined(files, load, sql, quarantined):
    text = "data;loja;produto;saldo\n05/01/2026;L1;P1;5\n05/01/2026;L1;P2;-3\n05/01/2026;L1;P3;1.234,5\n"
    result = load(write(files / "estoque.csv", text))
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (3, 2, 1)
    assert quarantined(result) == [(
        3, "saldo (on_hand)", "saldo (on_hand): -3.0 está abaixo do mínimo 0",
        '{"data":"05/01/2026","loja":"L1","produto":"P2","saldo":"-3"}',
    )]
    assert sql("SELECT product_id, on_hand FROM stock ORDER BY 1") == [("P1", 5.0), ("P3", 1234.5)]


def test_duplicate_sales_rows_are_summed(files, load, sql):
    text = (
        "data;loja;produto;quantidade;valor;preco\n"
        "05/01/2026;L1;P1;2;10,00;5,00\n"
        "05/01/2026;L1;P1;3;18,00;6,00\n"
        "05/01/2026;L1;P1;-1;-5,00;5,00\n"
        "05/01/2026;L2;P1;1;5,00;5,00\n"
    )
    result = load(write(files / "vendas.csv", text))
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined, result.rows_loaded) == (4, 4, 0, 2)
    assert result.duplicate_rows == 0
    # units and revenue summed, price weighted by the units sold (the return does not weigh)
    assert sql("SELECT store_id, units, revenue, round(price, 4) FROM sales ORDER BY 1") == [
        ("L1", 4.0, 23.0, 5.6), ("L2", 1.0, 5.0, 5.0),
    ]


def test_duplicate_product_keeps_the_later_row_and_quarantines_the_earlier(files, load, sql, quarantined):
    text = "Código Produto;Descrição;Preço\n0789;Nome antigo;1,00\n0790;Outro;2,00\n0789;Nome novo;3,50\n"
    result = load(write(files / "produtos.csv", text))
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined, result.rows_loaded) == (3, 2, 1, 2)
    assert result.duplicate_rows == 1
    assert quarantined(result) == [(
        2, "product_id",
        'duplicate key {"product_id":"0789"}; line 4 of the file, with the same key, is kept',
        '{"Código Produto":"0789","Descrição":"Nome antigo","Preço":"1,00"}',
    )]
    assert sql("SELECT product_id, name, unit_price FROM products ORDER BY 1") == [
        ("0789", "Nome novo", 3.5), ("0790", "Outro", 2.0),
    ]


def test_truncated_last_line_is_quarantined_and_the_rest_loads(files, load, sql, quarantined):
    text = "data;loja;produto;quantidade;valor\n05/01/2026;L1;P1;1;1,00\n05/01/2026;L1;P2;2;2,00\n05/01/2026;L1;P"
    result = load(write(files / "vendas.csv", text))
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (3, 2, 1)
    assert quarantined(result) == [(
        4, "quantidade", "the line has fewer fields than the 5 of the header (file cut mid-line?)",
        '{"line": "05/01/2026;L1;P"}',
    )]
    assert sql("SELECT product_id FROM sales ORDER BY 1") == [("P1",), ("P2",)]


def test_truncated_gzip_line_inside_a_complete_gzip(files, load, sql, quarantined):
    path = files / "estoque.csv.gz"
    path.write_bytes(gzip.compress(b"data;produto;saldo\n05/01/2026;P1;1\n05/01/2026;P2"))
    result = load(path)
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (2, 1, 1)
    assert [row[0] for row in quarantined(result)] == [3]


def test_line_numbers_are_physical_across_titles_blanks_quoted_newlines_and_crlf(files, load, quarantined):
    text = (
        "Relatório de estoque\n"            # 1
        "Gerado em 01/02/2026\n"            # 2
        "\n"                                # 3
        "Data;Loja;Produto;Saldo;Obs\n"     # 4 header
        "01/01/2026;L1;P1;5;ok\n"           # 5
        "01/01/2026;L1;P2;-1;neg\n"         # 6 below minimum
        "\n"                                # 7 blank
        '01/01/2026;L1;P3;2;"multi\nline"\n'  # 8-9
        "01/01/2026;L1;P4;abc;x\n"          # 10 not a number
        "01/01/2026;L1;P5;1;x;extra\n"      # 11 too many fields
        '01/01/2026;L1;P6;7;"q ""x"""\n'    # 12
        "01/01/2026;L1;P7;x7;y\n"           # 13 not a number
        "01/01/2026;L1;P8;3"                # 14 cut short
    )
    for name, content in (("estoque.csv", text), ("estoque_crlf.csv", text.replace("\n", "\r\n"))):
        result = load(write(files / name, content))
        assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (8, 3, 5), name
        rows = quarantined(result)
        assert [(line, column) for line, column, *_ in rows] == [
            (6, "Saldo (on_hand)"), (10, "Saldo (on_hand)"), (11, ""), (13, "Saldo (on_hand)"), (14, "Obs"),
        ], name
        assert json.loads(rows[2][3]) == {"line": "01/01/2026;L1;P5;1;x;extra"}


def test_mixed_line_endings_refuse_the_file_clearly(files, load, sql):
    path = files / "produtos.csv"
    path.write_bytes(b"sku;nome\r\n0789;Cafe\r\n0790;Acucar\n0791;Feijao\r\n")
    assert_failed(load(path), "produtos.csv: the CSV reader cannot split the file", "mixed line endings")
    assert_nothing_loaded(sql, "products")


@pytest.mark.parametrize("name", ["vendas.csv", "estoque.csv"], ids=["streamed", "staged"])
def test_numbers_that_read_as_infinite_or_not_a_number_are_quarantined(files, load, sql, quarantined, name):
    rows = [("1e999", 2), ("-inf", 3), ("infinity", 4)]
    text = "data;loja;produto;quantidade\n" + "".join(f"05/01/2026;1;P{line};{raw}\n" for raw, line in rows)
    result = load(write(files / name, text + "05/01/2026;1;P5;2,5\n"))
    column = "quantidade (units)" if name == "vendas.csv" else "quantidade (on_hand)"
    assert [row[:3] for row in quarantined(result)] == [
        (line, column, f"{column}: '{raw}' não é um número") for raw, line in rows
    ]
    table, value = ("sales", "units") if name == "vendas.csv" else ("stock", "on_hand")
    assert sql(f"SELECT product_id, {value} FROM {table}") == [("P5", 2.5)]


def test_a_whole_number_past_the_integer_range_is_quarantined(files, load, sql, quarantined):
    text = "sku;nome;embalagem\n0789;Café;12\n0790;Açúcar;1e308\n"
    result = load(write(files / "produtos.csv", text))
    assert [row[:3] for row in quarantined(result)] == [
        (3, "embalagem (case_pack)", "embalagem (case_pack): '1e308' não é um número inteiro"),
    ]
    assert sql("SELECT product_id, case_pack FROM products") == [("0789", 12)]


def test_line_numbers_in_a_latin1_file_count_bytes_as_the_file_has_them(files, load, quarantined):
    text = (
        "Código Produto;Descrição;Categoria\n"   # 1
        "0789;Pão de queijo;Padaria\n"            # 2
        "0790;Açúcar ações çã;Mercearia\n"        # 3 many accents: UTF-8 offsets run ahead of latin-1 bytes
        "0791;É\n"                                # 4 too few fields
        ";Sem código;X\n"                         # 5 product id missing
        "0792;Ó;Y;Z\n"                            # 6 too many fields
    )
    result = load(write(files / "produtos.csv", text, "latin-1"))
    assert result.details["encoding"] == "latin-1"
    assert [row[:2] for row in quarantined(result)] == [
        (4, "Categoria"), (5, "Código Produto (product_id)"), (6, ""),
    ]


def test_blank_lines_in_a_one_column_file_are_not_rows(files, load, sql, quarantined):
    result = load(write(files / "produtos.csv", 'sku\n\n0789\n\n"a\nb"\n0789\n'))
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (3, 2, 1)
    assert [row[:3] for row in quarantined(result)] == [
        (3, "product_id", 'duplicate key {"product_id":"0789"}; line 7 of the file, with the same key, is kept'),
    ]
    assert sql("SELECT product_id FROM products ORDER BY 1") == [("0789",), ("a\nb",)]


def test_line_numbers_in_a_gzip_file_do_not_trust_the_compressed_bytes(files, load, quarantined):
    # padding chosen so that the compressed bytes hold as many newlines as the file would if every record were
    # one line: a shortcut counting them would put the kept row on line 3 instead of 4
    generator = random.Random(17)
    pad = "".join(generator.choice("abcdefghij") for _ in range(40))
    text = f'sku;nome;obs\n0789;"multi\nline";{pad}\n0789;later;{pad[::-1]}\n'
    packed = gzip.compress(text.encode(), mtime=0)
    assert packed.count(b"\n") + (not packed.endswith(b"\n")) == 3
    path = files / "produtos.csv.gz"
    path.write_bytes(packed)
    assert [row[:3] for row in quarantined(load(path))] == [
        (2, "product_id", 'duplicate key {"product_id":"0789"}; line 4 of the file, with the same key, is kept'),
    ]
