"""Raw sources: every supported file becomes rows of text columns `c0..cN` in file order, inside DuckDB.

All formats meet in the same shape so that parsing and validation are written once, in SQL. CSV is read by
DuckDB itself (parallel, streaming); rows it cannot split (wrong field count, unterminated quote, bad
bytes) land in a per-load rejects table with their line. Excel is read with calamine (DuckDB's Excel reader
is an extension that would have to be downloaded), JSON Lines as one text column parsed with DuckDB's JSON
functions so that a broken line is quarantined, not skipped.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import duckdb

from shelfwise.ingest.detect import Dialect
from shelfwise.ingest.errors import IngestError


def sql_string(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


class FileDigest:
    """SHA-256 and physical line count of a file, computed on a background thread while DuckDB parses it."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self.sha256 = ""
        self.newlines = 0
        self.ends_with_newline = True
        self.size = path.stat().st_size
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        digest = hashlib.sha256()
        last = b"\n"
        with self._path.open("rb") as stream:
            while block := stream.read(8 * 1024 * 1024):
                digest.update(block)
                self.newlines += block.count(b"\n")
                last = block[-1:]
        self.sha256 = digest.hexdigest()
        self.ends_with_newline = last == b"\n"

    @property
    def ready(self) -> bool:
        """Whether the digest is complete (a small file's is, by the time its header has been read)."""
        return not self._thread.is_alive()

    def wait(self) -> FileDigest:
        """Block until the digest is complete."""
        self._thread.join()
        return self

    @property
    def physical_lines(self) -> int:
        """Number of lines, counting a last line without a newline."""
        return self.newlines + (0 if self.ends_with_newline else 1)


class GroupingCheck:
    """Whether every `thousands` mark in a file stands between digit groups, as in `1.234.567`; on a thread.

    DuckDB's typed CSV reader drops the thousands mark wherever it is, so `1.5` in a decimal-comma file reads as 15.
    A file whose marks are all well placed (one to three digits before, exactly three after) cannot be misread that
    way, whichever column they are in; a mark anywhere else, even in a text column, says: do not trust that reader.
    """

    def __init__(self, path: Path, thousands: str) -> None:
        self._path = path
        self._mark = ord(thousands)
        self.well_formed = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import numpy as np  # here, not with the module: only large typed loads need it

        block, edge = 8 * 1024 * 1024, 4
        carried = b"\n" * edge  # what comes before the first byte counts as a line break
        with self._path.open("rb") as stream:
            while True:
                chunk = stream.read(block)
                last = len(chunk) < block
                # `carried` holds the previous chunk's last 2*edge bytes: marks in its first half were checked there
                data = np.frombuffer(carried + chunk + (b"\n" * edge if last else b""), dtype=np.uint8)
                marks = np.flatnonzero(data == self._mark)
                marks = marks[(marks >= edge) & (marks < data.size - edge)]
                if marks.size and not self._well_placed(np, data, marks):
                    return
                if last:
                    break
                carried = (carried + chunk)[-2 * edge:]
        self.well_formed = True

    @staticmethod
    def _well_placed(np, data, marks) -> bool:
        def digit(offset: int):
            byte = data[marks + offset]
            return (byte >= 48) & (byte <= 57)

        after = digit(1) & digit(2) & digit(3) & ~digit(4)
        before = digit(-1) & ~(digit(-2) & digit(-3) & digit(-4))
        return bool((after & before).all())

    def wait(self) -> bool:
        """Block until checked; whether every mark is well placed."""
        self._thread.join()
        return self.well_formed


@dataclass
class RawSource:
    """A file's rows as text columns c0..cN, with how to number them and where structural rejects went."""

    file: Path
    header: tuple[str, ...]
    scan_sql: str
    first_data_line: int
    numbered: bool
    rejects_table: str | None = None
    csv_dialect: Dialect | None = None
    csv_encoding: str = "utf-8"
    details: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """Names of the raw text columns."""
        return [f"c{i}" for i in range(len(self.header))]

    def select(self, numbered: bool) -> str:
        """SQL yielding the raw columns (and `_rn`, the 1-based record ordinal, if asked) in file order."""
        if self.numbered:
            return f"(SELECT * FROM {self.scan_sql})" if numbered else f"(SELECT * EXCLUDE (_rn) FROM {self.scan_sql})"
        if numbered:
            return f"(SELECT *, row_number() OVER () AS _rn FROM {self.scan_sql})"
        return self.scan_sql


# A line may hold up to 8 MB (long free text). DuckDB's read buffer defaults to 16 lines' worth, 128 MB per thread,
# which alone would set a small file's memory; two lines' worth reads as fast.
_LINE_LIMITS = f"max_line_size={8 * 1024 * 1024}, buffer_size={16 * 1024 * 1024}"


def csv_source(
    file: Path, read_path: Path, dialect: Dialect, encoding: str, gzipped: bool, load_tag: str,
    types: dict[str, str] | None = None, typed_options: tuple[str, ...] = (), keep_rejects: bool = True,
) -> RawSource:
    """A CSV read by DuckDB with every column as text, and malformed rows sent to a rejects table.

    `types` reads some columns typed instead, with `typed_options` (decimal separator, date format); without
    `keep_rejects` the first malformed row or unreadable cell stops the read with an error.
    """
    names = [f"c{i}" for i in range(len(dialect.header))]
    columns = "{" + ", ".join(f"'{n}': '{(types or {}).get(n, 'VARCHAR')}'" for n in names) + "}"
    rejects = f"rejects_{load_tag}"
    duck_encoding = "utf-8" if encoding in ("utf-8", "cp1252") else encoding
    options = [
        f"delim={sql_string(dialect.delimiter)}", "quote='\"'", "escape='\"'", "header=true",
        f"skip={dialect.skip_lines}", "auto_detect=false", f"columns={columns}", f"encoding='{duck_encoding}'",
        f"compression='{'gzip' if gzipped else 'none'}'", "null_padding=false", _LINE_LIMITS,
        "strict_mode=true", "allow_quoted_nulls=false", *typed_options,
    ]
    if keep_rejects:
        options += ["store_rejects=true", f"rejects_table='{rejects}'", f"rejects_scan='{rejects}_scan'"]
    scan = f"read_csv({sql_string(str(read_path))}, {', '.join(options)})"
    if len(names) == 1:  # a blank line is no record, but DuckDB reads one as NULL when there is a single column
        scan = f"(SELECT * FROM {scan} WHERE c0 IS NOT NULL)"
    return RawSource(
        file=file, header=dialect.header, scan_sql=scan, first_data_line=dialect.skip_lines + 2,
        numbered=False, rejects_table=rejects if keep_rejects else None, csv_dialect=dialect, csv_encoding=encoding,
    )


def transcode_to_utf8(path: Path, gzipped: bool, encoding: str, target: Path) -> Path:
    """Re-encode a cp1252 file as UTF-8 for DuckDB, which reads only UTF-8, UTF-16 and latin-1 natively."""
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as source, target.open("wb") as sink:
        while block := source.read(16 * 1024 * 1024):
            sink.write(block.decode(encoding, errors="replace").encode("utf-8"))
    return target


def lines_at_offsets(path: Path, gzipped: bool, offsets: Iterable[int], latin1: bool = False) -> dict[int, int]:
    """1-based physical line at each byte offset of the file DuckDB read (CRLF, LF and a lone CR end a line).

    DuckDB numbers the rows it rejects by records, so a quoted field spanning lines earlier in the file would
    shift every later number; the byte offset it gives for the row does not drift. It counts offsets in the
    UTF-8 it decoded, so a latin-1 file is counted as UTF-8 too.
    """
    wanted = sorted(set(offsets))
    found: dict[int, int] = {}
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as stream:
        base, lines = 0, 1
        while len(found) < len(wanted):
            block = stream.read(16 * 1024 * 1024)
            if block.endswith(b"\r"):  # keep a \r\n split by the block boundary together, counted once
                block += stream.read(1)
            if latin1:
                block = block.decode("latin-1").encode("utf-8")
            for offset in wanted[len(found):]:
                if offset >= base + len(block) and block:
                    break
                found[offset] = lines + _line_ends(block[: max(offset - base, 0)])
            lines += _line_ends(block)
            base += len(block)
    return found


def _line_ends(data: bytes) -> int:
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def record_lines(source: RawSource, ordinals: Iterable[int], reject_lines: set[int]) -> dict[int, int]:
    """Physical line of each record ordinal, following quotes, blank lines and rejected lines as csv does."""
    wanted = sorted(set(ordinals))
    if not wanted:
        return {}
    dialect = source.csv_dialect
    assert dialect is not None
    found: dict[int, int] = {}
    opener = gzip.open if source.details.get("gzip") == "true" else open
    path = Path(source.details.get("read_path", str(source.file)))
    with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as stream:
        reader = csv.reader(stream, delimiter=dialect.delimiter)
        ordinal, target = 0, 0
        start = 1
        try:
            for row in reader:
                line = start
                start = reader.line_num + 1
                if line <= dialect.skip_lines + 1 or not row or line in reject_lines:
                    continue
                ordinal += 1
                if ordinal == wanted[target]:
                    found[ordinal] = line
                    target += 1
                    if target == len(wanted):
                        break
        except csv.Error:
            pass
    return found


def excel_source(con: duckdb.DuckDBPyConnection, file: Path, header_score, load_tag: str) -> RawSource:
    """The first non-empty sheet of an .xlsx, as text, with its header row found like a CSV's."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(file))
        sheets = [workbook.get_sheet_by_index(i) for i in range(len(workbook.sheet_names))]
        grids = [(sheet.start, sheet.to_python()) for sheet in sheets]
    except Exception as error:  # calamine raises its own exception types for broken workbooks
        raise IngestError(file, f"is not a readable Excel workbook ({error})") from None
    start, rows = next(((s, g) for s, g in grids if any(any(c not in ("", None) for c in r) for r in g)), (None, None))
    if rows is None:
        raise IngestError(file, "the workbook has no data", hint="export it again with a header and rows")
    tops = [tuple(_cell_text(c) or "" for c in row) for row in rows[:20]]  # empty cells score as "", not None
    header_index = max(range(len(tops)), key=lambda i: (header_score(tops[i]), -i))
    header = tops[header_index]
    data = [r for r in rows[header_index + 1 :]]
    width = len(header)
    columns = {f"c{i}": [_cell_text(r[i]) if i < len(r) else None for r in data] for i in range(width)}
    first_line = (start[0] if start else 0) + header_index + 2  # calamine leaves out the empty rows on top
    columns["_rn"] = list(range(1, len(data) + 1))
    keep = [i for i, r in enumerate(data) if any(c not in ("", None) for c in r)]
    import pyarrow as pa  # here, not with the module: it would add a tenth of a second to every command's start

    arrow = pa.table({k: [v[i] for i in keep] for k, v in columns.items()})
    view = f"excel_{load_tag}"
    con.register(view, arrow)
    return RawSource(file=file, header=header, scan_sql=view, first_data_line=first_line, numbered=True)


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


def parquet_source(con: duckdb.DuckDBPyConnection, file: Path) -> RawSource:
    """A Parquet file with every column cast to text; rows are numbered from 1."""
    path = sql_string(str(file))
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({path})").fetchall()
    except duckdb.Error as error:
        first_line = str(error).splitlines()[0]  # DuckDB appends the internal query, meaningless to the user
        raise IngestError(file, f"is not a readable Parquet file ({first_line})") from None
    header = tuple(row[0] for row in described)
    quoted = ['"' + name.replace('"', '""') + '"' for name in header]  # a column may be named `nome "fantasia"`
    casts = ", ".join(f"CAST({name} AS VARCHAR) AS c{i}" for i, name in enumerate(quoted))
    scan = f"(SELECT {casts}, file_row_number + 1 AS _rn FROM read_parquet({path}, file_row_number=true))"
    return RawSource(file=file, header=header, scan_sql=scan, first_data_line=1, numbered=True)


def jsonl_source(con: duckdb.DuckDBPyConnection, file: Path, gzipped: bool, encoding: str) -> RawSource:
    """JSON Lines read one line per row; keys of the first thousand objects become the columns."""
    path = sql_string(str(file))
    lines = (
        f"(SELECT line, row_number() OVER () AS _ln FROM read_csv({path}, columns={{'line': 'VARCHAR'}}, "
        "delim='\x1f', quote='', escape='', header=false, auto_detect=false, "
        f"compression='{'gzip' if gzipped else 'none'}', encoding='{encoding}', {_LINE_LIMITS}, "
        "strict_mode=false))"
    )
    keys: list[str] = []
    for (line,) in con.execute(f"SELECT line FROM {lines} LIMIT 1000").fetchall():
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, TypeError):
            continue
        if isinstance(record, dict):
            keys.extend(k for k in record if k not in keys)
    if not keys:
        raise IngestError(file, "no JSON object found in the first lines", line=1)
    extracts = ", ".join(
        f"CASE WHEN json_valid(line) THEN json_extract_string(line, {sql_string('$.' + json.dumps(k))}) END AS c{i}"
        for i, k in enumerate(keys)
    )
    scan = (
        f"(SELECT {extracts}, CASE WHEN json_valid(line) AND starts_with(ltrim(line), '{{') THEN NULL "
        f"ELSE 'line is not a valid JSON object' END AS _structural, line AS _line, _ln AS _rn FROM {lines} "
        "WHERE trim(line) <> '')"
    )
    return RawSource(
        file=file, header=tuple(keys), scan_sql=scan, first_data_line=1, numbered=True,
        details={"structural_column": "_structural", "raw_line_column": "_line"},
    )
