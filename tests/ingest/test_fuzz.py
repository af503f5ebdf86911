"""Property-based tests of the CSV path: whatever text arrives, ingestion keeps its contract.

Either the file fails as a whole with an IngestError (the CLI prints it, no traceback), or every row read is
either stored or quarantined, and the quarantine holds exactly the rows the load counted. In stock and products
stored rows are counted one for one; sales sum rows of one key, so there the units stored are checked against the
units of the rows accepted.

Run longer with SHELFWISE_FUZZ_EXAMPLES=2000.
"""

from __future__ import annotations

import itertools
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shelfwise.ingest import FailedLoad, IngestError, LoadResult, ingest_files
from shelfwise.workspace import init_workspace

from .samples import TODAY

EXAMPLES = int(os.environ.get("SHELFWISE_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                              HealthCheck.data_too_large])

HEADERS = {
    "stock": ["Data", "DATA", "dt", "Produto", "Código Produto", "SKU", "EAN", "Saldo", "Qtd Estoque", "estoque",
              "Loja", "Filial", "Em Trânsito", "pedido"],
    "products": ["Código Produto", "sku", "Descrição", "Nome", "Categoria", "Marca", "Preço", "Preço Custo",
                 "Validade", "Embalagem", "Prazo Entrega", "fornecedor"],
    "sales": ["Data", "dt_venda", "Produto", "SKU", "Quantidade", "Qtd", "Loja", "Valor", "Preço", "Promoção"],
}
REQUIRED = {  # one header per required column, so that some files pass the header check
    "stock": ["Data", "Produto", "Saldo"],
    "products": ["Código Produto"],
    "sales": ["Data", "Produto", "Quantidade"],
}
OPTIONAL = {  # headers of distinct optional columns
    "stock": ["Loja", "Em Trânsito"],
    "products": ["Descrição", "Categoria", "Marca", "Preço", "Preço Custo", "Validade", "Embalagem"],
    "sales": ["Loja", "Valor", "Preço", "Promoção"],
}
DELIMITERS = [";", ",", "\t", "|"]

numbers_br = st.builds(
    lambda units, cents, style: {
        0: f"{units:,}".replace(",", ".") + f",{cents:02d}",
        1: f"R$ {units:,}".replace(",", ".") + f",{cents:02d}",
        2: f"({units},{cents:02d})",
        3: f"{units},{cents % 10}",
        4: f"{units},{cents:02d}-",
        5: str(units),
    }[style],
    st.integers(-2_000_000, 2_000_000), st.integers(0, 99), st.integers(0, 5),
)
numbers_us = st.builds(
    lambda units, cents, thousands: (f"{units:,}" if thousands else str(units)) + f".{cents:02d}",
    st.integers(-2_000_000, 2_000_000), st.integers(0, 99), st.booleans(),
)
dates = st.one_of(
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["31/02/2026", "05/01/2026", "2026-01-06", "13/13/2025", "1/2/25", "00/00/0000",
                     "05/01/2026 10:30", "2026-01-05T10:30:00Z"]),
)
words = st.sampled_from(["", " ", "abc", "x7", "NULL", "N/A", "três", "São Paulo", "—", "0789", "000123",
                         "=\"0789\"", "€ 10", "1e308", "-0", "nan", "inf", "1.5", "12,5", "true", "sim"])
garbage = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
cells = st.one_of(numbers_br, numbers_us, dates, words, garbage)


def quote(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"'


@st.composite
def csv_files(draw) -> tuple[str, bytes, str]:
    """(table, file bytes, line terminator): headers partly real aliases, cells of every shape, any structure."""
    table = draw(st.sampled_from(sorted(HEADERS)))
    header = draw(st.lists(st.one_of(st.sampled_from(HEADERS[table]), garbage), min_size=1, max_size=6))
    if draw(st.booleans()):
        header = REQUIRED[table] + header
    delimiter = draw(st.sampled_from(DELIMITERS))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [delimiter.join(quote(h) if draw(st.booleans()) else h for h in header)]
    for _ in range(draw(st.integers(0, 12))):
        width = len(header) + draw(st.sampled_from([0, 0, 0, 0, -1, 1]))
        row = [draw(cells) for _ in range(max(width, 0))]
        lines.append(delimiter.join(quote(c) if draw(st.integers(0, 3)) == 0 else c for c in row))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return table, text.encode(encoding, errors="replace"), newline


@pytest.fixture(scope="module")
def fuzz_workspace(tmp_path_factory):
    return init_workspace(tmp_path_factory.mktemp("fuzz") / "ws")


counter = itertools.count()


def load_once(workspace, folder, table: str, content: bytes) -> LoadResult | FailedLoad:
    path = folder / f"fuzz_{next(counter)}.csv"
    path.write_bytes(content)
    (outcome,) = ingest_files(workspace, [path], table=table, force=True, today=TODAY)
    return outcome


def assert_contract(workspace, outcome: LoadResult | FailedLoad, content: bytes) -> list[tuple]:
    """The load's own counts add up and match the warehouse; returns its quarantine rows (line, column, raw)."""
    if isinstance(outcome, FailedLoad):
        assert isinstance(outcome.error, IngestError)
        assert outcome.error.describe().startswith(outcome.file.name)
        return []
    assert outcome.status == "loaded"
    assert outcome.rows_read == outcome.rows_accepted + outcome.rows_quarantined
    if outcome.table == "sales":  # rows of one (date, store, product) are summed into one
        assert outcome.rows_loaded <= outcome.rows_accepted
        assert (outcome.rows_loaded == 0) == (outcome.rows_accepted == 0)
    else:
        assert outcome.rows_loaded == outcome.rows_accepted
    with workspace.warehouse.connect() as con:
        stored = con.execute(f"SELECT count(*) FROM {outcome.table} WHERE _load_id = ?", [outcome.load_id]).fetchone()
        quarantine = con.execute(
            "SELECT line, column_name, raw FROM quarantine WHERE load_id = ? ORDER BY line", [outcome.load_id]
        ).fetchall()
        recorded = con.execute(
            "SELECT rows_read, rows_accepted, rows_quarantined, rows_loaded FROM loads WHERE load_id = ?",
            [outcome.load_id],
        ).fetchall()
    assert stored == (outcome.rows_loaded,)
    assert len(quarantine) == outcome.rows_quarantined
    assert recorded == [(outcome.rows_read, outcome.rows_accepted, outcome.rows_quarantined, outcome.rows_loaded)]
    physical = content.count(b"\n") + content.count(b"\r") - content.count(b"\r\n") + 1
    lines = [line for line, _, _ in quarantine]
    assert all(line is not None and 1 <= line <= physical for line in lines), (lines, physical)
    assert len(set(lines)) == len(lines), lines
    return quarantine


@FUZZ
@given(data=csv_files())
def test_any_csv_text_fails_cleanly_or_accounts_for_every_row(fuzz_workspace, tmp_path_factory, data):
    table, content, _ = data
    folder = tmp_path_factory.getbasetemp() / "fuzz-any"
    folder.mkdir(exist_ok=True)
    outcome = load_once(fuzz_workspace, folder, table, content)
    assert_contract(fuzz_workspace, outcome, content)


@st.composite
def well_formed_files(draw) -> tuple[str, tuple[str, ...], bytes, list[tuple[int, list[str]]]]:
    """A structurally valid CSV (quoted where needed, blank lines, quoted newlines) and each record's line.

    Sales units are whole numbers or plainly not numbers, so that the units of the accepted rows can be added up.
    """
    table = draw(st.sampled_from(sorted(HEADERS)))
    extra = draw(st.lists(st.sampled_from(OPTIONAL[table]), max_size=3, unique=True))
    header = draw(st.permutations(REQUIRED[table] + extra))
    delimiter = draw(st.sampled_from(DELIMITERS))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    cell = st.one_of(numbers_br, numbers_us, dates, words, st.text(st.sampled_from("ab ;,|\t\"\nçã€0"), max_size=6))
    by_header = {"Quantidade": st.one_of(st.integers(-50, 5_000).map(str), st.sampled_from(["", "abc", "x7", "três"]))}
    if table == "sales":  # few keys, written several ways, so that rows of one key meet and are summed
        by_header["Data"] = st.sampled_from(["05/01/2026", "2026-01-05", "06/01/2026", "31/02/2026", ""])
        by_header["Produto"] = st.sampled_from(["0789", " 0789", "0790", ""])
        by_header["Loja"] = st.sampled_from(["L1", "L2", ""])

    def render(value: str) -> str:
        # one column has no delimiter to tell: there, any delimiter character must be quoted
        separators = DELIMITERS if len(header) == 1 else [delimiter]
        special = any(ch in value for ch in (*separators, '"', "\n", "\r")) or value != value.strip()
        return quote(value) if special or (value == "" and draw(st.booleans())) else value

    out = [delimiter.join(header)]
    line = 1
    records: list[tuple[int, list[str]]] = []
    for _ in range(draw(st.integers(1, 10))):
        for _ in range(draw(st.integers(0, 2)) if draw(st.integers(0, 4)) == 0 else 0):
            out.append("")
            line += 1
        row = [draw(by_header.get(name, cell)) for name in header]
        if not any(row) and len(row) == 1:
            row = ["x"]
        text = delimiter.join(render(value) for value in row)
        out.append(text)
        records.append((line + 1, row))
        line += 1 + text.count("\n")
    content = newline.join(out) + (newline if draw(st.booleans()) else "")
    return table, tuple(header), content.encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))), records


@FUZZ
@given(data=well_formed_files())
def test_well_formed_csv_reads_every_record_and_quarantines_it_at_its_line(fuzz_workspace, tmp_path_factory, data):
    table, header, content, records = data
    folder = tmp_path_factory.getbasetemp() / "fuzz-valid"
    folder.mkdir(exist_ok=True)
    outcome = load_once(fuzz_workspace, folder, table, content)
    assert isinstance(outcome, LoadResult), outcome.error.describe()
    assert outcome.rows_read == len(records)  # nothing silently dropped, nothing invented
    quarantine = assert_contract(fuzz_workspace, outcome, content)
    at_line = dict(records)
    for line, _, raw in quarantine:
        assert line in at_line, (line, sorted(at_line))
        values = list(json.loads(raw).values())
        assert [v or "" for v in values] == at_line[line], (line, raw)
    if table == "sales":
        quarantined_lines = {line for line, _, _ in quarantine}
        index = header.index("Quantidade")
        expected = sum(int(row[index]) for line, row in records if line not in quarantined_lines)
        with fuzz_workspace.warehouse.connect() as con:
            stored = con.execute("SELECT coalesce(sum(units), 0) FROM sales WHERE _load_id = ?",
                                 [outcome.load_id]).fetchone()[0]
        assert stored == expected
