"""Reading a user's CSV of experimental units: delimiter, header, encoding and number format found, errors located."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import duckdb
import pandas as pd

from shelfwise.ingest.errors import IngestError
from shelfwise.schema import normalize_name


class UnitsFileError(IngestError):
    """A units CSV that cannot be read; the message names the file, and the line and column where known."""


ALIASES: dict[str, tuple[str, ...]] = {
    "unit": ("unit", "unit_id", "unidade", "id_unidade", "store_id", "loja", "id_loja", "customer_id", "cliente",
             "id_cliente", "person_id", "id"),
    "group": ("group", "grupo", "variant", "variante", "arm", "braco"),
    "outcome": ("outcome", "resultado", "valor", "vendas", "value", "sales", "metric", "metrica", "receita"),
    "pre": ("pre", "pre_periodo", "pre_period", "preperiodo", "baseline", "linha_de_base", "covariate"),
}
"""Canonical column -> header names (after `normalize_name`: lower case, accents and punctuation folded)."""
_ALIAS_INDEX = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
_DELIMITERS = (";", ",", "\t", "|")
_MISSING = ("", "na", "n/a", "nan", "null", "none", "#n/d", "#n/a")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|\Z)")
_NUMBER_SHAPES = {  # decimal mark -> (plain shape, shape with thousands marks)
    ",": (r"[+-]?([0-9]+(,[0-9]*)?|,[0-9]+)([eE][+-]?[0-9]+)?", r"[+-]?[0-9]{1,3}(\.[0-9]{3})+(,[0-9]*)?"),
    ".": (r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?"),
}
_EVIDENCE = {  # decimal mark -> a shape only that mark explains (1,5 or 1.234,56; not the ambiguous 1,234)
    ",": r"^[+-]?[0-9]*,([0-9]{1,2}|[0-9]{4,})$|^[+-]?[0-9]{1,3}(\.[0-9]{3})+,[0-9]*$",
    ".": r"^[+-]?[0-9]*\.([0-9]{1,2}|[0-9]{4,})$|^[+-]?[0-9]{1,3}(,[0-9]{3})+\.[0-9]*$",
}


def read_units_csv(path: str | Path) -> pd.DataFrame:
    """Read a user's CSV of experimental units, one row per unit, as `analyse_experiment` takes it.

    The delimiter is `;`, `,`, tab or `|`, whichever makes the first lines' header name the most known columns (see
    ALIASES; case, accents and punctuation do not matter); the header is the first line naming them. The file is
    UTF-8, else Windows-1252/latin-1. Numbers may use a decimal comma (1.234,56) or point (1,234.56): the mark is
    chosen per column from the values only one reading explains, else the file's (`;` files are Brazilian); a value
    contradicting the choice, like 1.5 in a decimal-comma column, is an error rather than fifteen. "R$" and spaces
    are ignored; empty cells and NA, N/A, null, #N/D are missing (`analyse_experiment` counts those units).

    Returns:
        Columns unit (when the file has one), group, outcome and pre (when the file has one); other columns are
        left out. Group and unit are text, outcome and pre floats with NaN where missing.

    Raises:
        UnitsFileError: The file cannot be read, lacks a group or outcome column, has a line that does not split
            into the header's columns, a value that is not a number, or a unit twice; the message names the file,
            the line and the column.
    """
    path = Path(path)
    text = _decoded(path)
    line_no, end, delimiter, header = _find_header(path, text)
    positions = _map_columns(path, header)
    body = text[end:]
    if not body.strip():
        raise UnitsFileError(path, "has a header but no rows", line=line_no, hint="add one row per unit")
    with duckdb.connect() as con:
        raw = _raw_rows(con, path, body, line_no + 1, delimiter, len(header))
        frame = _typed(con, raw, positions, delimiter)
    _check_values(path, frame, header, positions, body, delimiter, line_no + 1)
    columns = [c for c in ("unit", "group", "outcome", "pre") if c in positions]
    return frame[columns].reset_index(drop=True)


def _decoded(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UnitsFileError(path, f"cannot be read ({error.strerror or error})") from None
    if not raw.strip():
        raise UnitsFileError(path, "the file is empty", hint="export it with a header and one row per unit")
    if b"\x00" in raw:
        raise UnitsFileError(path, "is a binary file, not a CSV", hint="export the units as CSV")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _find_header(path: Path, text: str) -> tuple[int, int, str, list[str]]:
    """(1-based line, offset where the rows start, delimiter, header fields) of the line naming most columns."""
    best: tuple[tuple[int, int, int], int, int, str, list[str]] | None = None
    first_fields: list[str] = []
    for line_no, match in enumerate(_LINE.finditer(text), start=1):
        line = match.group().rstrip("\r\n")
        if line_no > 20 or match.start() == match.end():
            break
        if not line.strip():
            continue
        for rank, delimiter in enumerate(_DELIMITERS):
            fields = _split(line, delimiter)
            first_fields = first_fields or max((_split(line, d) for d in _DELIMITERS), key=len)
            score = len({_ALIAS_INDEX.get(normalize_name(f)) for f in fields} - {None})
            key = (score, -line_no, -rank)
            if best is None or key > best[0]:
                best = (key, line_no, match.end(), delimiter, fields)
    if best is None or best[0][0] == 0:
        _missing_columns(path, ["group", "outcome"], first_fields)
    assert best is not None
    return best[1], best[2], best[3], best[4]


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return [f.strip() for f in next(csv.reader([line], delimiter=delimiter), [])]
    except csv.Error:
        return []


def _missing_columns(path: Path, missing: list[str], header: list[str]) -> None:
    expected = "; ".join(f"{name}: {', '.join(ALIASES[name])}" for name in missing)
    raise UnitsFileError(path, f"column(s) {', '.join(missing)} not found; columns found: "
                         f"{', '.join(repr(h) for h in header) or '(none)'}",
                         hint=f"expected one of — {expected}")


def _map_columns(path: Path, header: list[str]) -> dict[str, int]:
    """Canonical column -> its index in the header; two headers for one column are an error, never a guess."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        canonical = _ALIAS_INDEX.get(normalize_name(name))
        if canonical in positions:
            raise UnitsFileError(path, f"columns '{header[positions[canonical]]}' and '{name}' both read as the "
                                 f"{canonical} column", column=name, hint="rename or remove one of them")
        if canonical:
            positions[canonical] = index
    missing = [name for name in ("group", "outcome") if name not in positions]
    if missing:
        _missing_columns(path, missing, header)
    return positions


def _raw_rows(con: duckdb.DuckDBPyConnection, path: Path, body: str, first_line: int, delimiter: str,
              width: int) -> duckdb.DuckDBPyRelation:
    """The rows as text columns c0.. plus their ordinal `_rn`; a line that does not split right is an error."""
    data = body.encode("utf-8")
    try:
        relation = con.read_csv(
            io.BytesIO(data), header=False, delimiter=delimiter, quotechar='"', escapechar='"', auto_detect=False,
            columns={f"c{i}": "VARCHAR" for i in range(width)}, strict_mode=True, null_padding=False,
            store_rejects=True,
        )
        relation.project("*, row_number() OVER () AS _rn").create("units_raw")
        reject = con.execute("SELECT line_byte_position, error_message FROM reject_errors "
                             "ORDER BY line_byte_position LIMIT 1").fetchone()
    except duckdb.Error as error:
        raise UnitsFileError(path, f"is not a readable CSV ({str(error).splitlines()[0]})") from None
    if reject is not None:  # DuckDB's position is where the previous record ended, before any blank lines
        start = reject[0] or 0
        head = data[: start + len(data[start:]) - len(data[start:].lstrip(b"\r\n"))]
        line = first_line + head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n")
        raise UnitsFileError(path, f"the line does not split into the header's {width} columns with "
                             f"'{delimiter}' ({reject[1]})", line=line,
                             hint="check the delimiter and the quotes on that line")
    return con.table("units_raw")


def _typed(con: duckdb.DuckDBPyConnection, raw: duckdb.DuckDBPyRelation, positions: dict[str, int],
           delimiter: str) -> pd.DataFrame:
    """Each canonical column's text (`<name>_text`) and value, and the row ordinal; empty rows left out."""
    texts = {name: _cell(f"c{index}") for name, index in positions.items()}
    numbers = [name for name in ("outcome", "pre") if name in texts]
    marks = {name: _decimal_mark(con, texts[name], delimiter) for name in numbers}
    values = [f'{texts[n]} AS "{n}_text", {_number(texts[n], marks[n])} AS "{n}"' for n in numbers]
    labels = [f'{texts[n]} AS "{n}"' for n in ("unit", "group") if n in texts]
    any_cell = " OR ".join(f"{t} IS NOT NULL" for t in texts.values())
    return con.execute(f"SELECT _rn, {', '.join(labels + values)} FROM units_raw WHERE {any_cell} ORDER BY _rn").df()


def _cell(raw: str) -> str:
    markers = ", ".join(f"'{m}'" for m in _MISSING)
    return f"(CASE WHEN lower(trim({raw})) IN ({markers}) THEN NULL ELSE trim({raw}) END)"


def _decimal_mark(con: duckdb.DuckDBPyConnection, text: str, delimiter: str) -> str:
    """The decimal mark the column's values show, else the file's default (a comma in `;` files)."""
    cleaned = _cleaned(text)
    comma, point = con.execute(
        f"SELECT count(*) FILTER (WHERE regexp_matches({cleaned}, '{_EVIDENCE[',']}')), "
        f"count(*) FILTER (WHERE regexp_matches({cleaned}, '{_EVIDENCE['.']}')) FROM units_raw").fetchone()
    if comma != point:
        return "," if comma > point else "."
    return "," if delimiter == ";" else "."


def _cleaned(text: str) -> str:
    return f"replace(replace(replace({text}, 'R$', ''), ' ', ''), chr(160), '')"


def _number(text: str, mark: str) -> str:
    """The value of a cell in either accepted shape for its decimal mark, NULL if neither (or not finite)."""
    plain, grouped = _NUMBER_SHAPES[mark]
    cleaned = _cleaned(text)
    if mark == ",":
        plain_value, grouped_value = f"replace({cleaned}, ',', '.')", f"replace(replace({cleaned}, '.', ''), ',', '.')"
    else:
        plain_value, grouped_value = cleaned, f"replace({cleaned}, ',', '')"
    value = (f"CASE WHEN regexp_full_match({cleaned}, '{plain}') THEN try_cast({plain_value} AS DOUBLE) "
             f"WHEN regexp_full_match({cleaned}, '{grouped}') THEN try_cast({grouped_value} AS DOUBLE) END")
    return f"(CASE WHEN isfinite({value}) THEN {value} END)"


def _check_values(path: Path, frame: pd.DataFrame, header: list[str], positions: dict[str, int], body: str,
                  delimiter: str, first_line: int) -> None:
    """Fail on the first cell that is not a number, then on the first unit listed twice."""
    problems = []
    for name in ("outcome", "pre"):
        if name in positions:
            bad = frame[f"{name}_text"].notna() & frame[name].isna()
            if bad.any():
                row = frame.loc[bad.idxmax()]
                problems.append((int(row["_rn"]), name, str(row[f"{name}_text"])[:40]))
    if problems:
        ordinal, name, value = min(problems)
        line = _record_lines(body, delimiter, [ordinal], first_line)[ordinal]
        raise UnitsFileError(path, f"expected a number, found '{value}'", line=line, column=header[positions[name]],
                             hint="write numbers like 1234,56 or 1.234,56 (or 1234.56), or leave the cell empty")
    if "unit" in positions:
        units = frame["unit"]
        repeated = units.notna() & units.duplicated(keep="first")
        if repeated.any():
            again = frame.loc[repeated.idxmax()]
            first, second = int(frame.loc[(units == again["unit"]).idxmax(), "_rn"]), int(again["_rn"])
            lines = _record_lines(body, delimiter, [first, second], first_line)
            raise UnitsFileError(path, f"unit '{again['unit']}' appears again (first on line {lines[first]}); "
                                 "expected one row per unit", line=lines[second], column=header[positions["unit"]],
                                 hint="sum each unit's outcome over the period first")


def _record_lines(body: str, delimiter: str, ordinals: list[int], first_line: int) -> dict[int, int]:
    """Physical line where each record ordinal starts, following quotes and blank lines as DuckDB does.

    Only called for the few records an error names, so the file is walked in Python once, on the error path.
    """
    wanted, found = set(ordinals), {}
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    ordinal, start = 0, 1
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if not row:
                continue
            ordinal += 1
            if ordinal in wanted:
                found[ordinal] = first_line + line - 1
                if len(found) == len(wanted):
                    break
    except csv.Error:  # DuckDB read the records; a line the csv module trips on only ends the search early
        pass
    return {o: found.get(o, first_line + o - 1) for o in ordinals}
