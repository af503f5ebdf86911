"""Load one file into the warehouse: stage, quarantine, merge, register unknown ids, record the load.

The order of work keeps the common case fast and the bad case exact:
1. one parallel DuckDB pass parses and validates every row into a staging table (no row numbers: numbering
   rows serialises the scan);
2. only when rows were rejected, a second pass numbers the rows and writes the rejected ones, with their
   line, raw values and reasons, to `quarantine`;
3. the accepted rows are merged by the table's key (see `LoadMode`), all inside one transaction, so a failed
   load leaves the warehouse as it was.
Loading a file whose content (SHA-256) was already loaded into the same table is a no-op.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from shelfwise.config import Settings
from shelfwise.ingest.detect import detect_encoding, quick_encoding, read_text_sample, sniff_dialect, sniff_kind
from shelfwise.ingest.errors import IngestError
from shelfwise.ingest.headers import Mapping, header_score, map_headers
from shelfwise.ingest.parse import ColumnPlan, ParsePlan, bad_sql, build_plan, explained_sql, parsed_sql
from shelfwise.ingest.sources import (
    FileDigest,
    GroupingCheck,
    RawSource,
    csv_source,
    excel_source,
    jsonl_source,
    lines_at_offsets,
    parquet_source,
    record_lines,
    sql_string,
    transcode_to_utf8,
)
from shelfwise.privacy.columns import stored_names, stored_select
from shelfwise.privacy.ingestion import IngestPrivacy
from shelfwise.schema import DIMENSIONS, TABLES, Kind, LoadMode, Table


@dataclass
class LoadResult:
    """What one file's load did."""

    file: Path
    table: str
    load_id: str
    status: str  # loaded | unchanged
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    rows_loaded: int = 0
    duplicate_rows: int = 0
    erased_rows: int = 0
    """Rows of people erased on request: not loaded, not quarantined (see `privacy.tombstones`)."""
    unknown_ids: dict[str, int] = field(default_factory=dict)
    ignored_columns: tuple[str, ...] = ()
    details: dict[str, str] = field(default_factory=dict)
    message: str = ""


def new_load_id() -> str:
    """Sortable and unique: `20261123T101500-1a2b3c4d`."""
    return datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def load_file(
    con: duckdb.DuckDBPyConnection, settings: Settings, path: Path, *, table: str | None, mapping: Mapping,
    privacy: IngestPrivacy, mode: str | None = None, force: bool = False, today: date | None = None,
    display_name: str | None = None,
) -> LoadResult:
    """Load one (non-archive) file; raises IngestError when the file as a whole cannot be loaded."""
    contract = TABLES[table] if table else None
    assert contract is not None
    load_mode = LoadMode(mode or settings.ingest.mode[contract.name])
    load_id = new_load_id()
    tag = load_id.replace("-", "_")
    with tempfile.TemporaryDirectory(prefix="shelfwise-") as scratch:
        source = _open_source(con, settings, path, contract, mapping, Path(scratch), tag)
        digest = FileDigest(path)  # after the source: a missing file or a folder is an IngestError, not a crash
        positions = map_headers(path, contract, source.header, mapping)
        plan = build_plan(
            con, source, contract, positions, language=settings.workspace.language,
            today=today or date.today(), future_tolerance_days=settings.ingest.future_tolerance_days,
            default_store_id=settings.ingest.default_store_id,
        )
        result = LoadResult(
            file=Path(display_name or path), table=contract.name, load_id=load_id, status="loaded",
            ignored_columns=tuple(h for i, h in enumerate(source.header) if h and i not in positions.values()),
        )
        if digest.ready and not force and (previous := _previous_load(con, digest, contract)):
            return _unchanged(result, previous)
        writer = _Writer(con, tag, load_id, direct=bool(contract.summed) and not source.numbered)
        started = datetime.now()
        staged = source
        con.execute("BEGIN TRANSACTION")
        try:
            if writer.direct and (typed := _typed_write(con, path, source, plan, writer, digest, tag)):
                staged, plan = typed
                source = staged
            else:
                staged, plan, source = _write_rows(con, settings, mapping, path, source, plan, writer, Path(scratch))
            result.details = {"format": source.details.get("format", "csv"), **source.details,
                              **{f"format of {k}": v for k, v in plan.detected_formats().items()}}
            digest.wait()
            if not force and (previous := _previous_load(con, digest, contract)):
                con.execute("ROLLBACK")
                return _unchanged(result, previous)
            _quarantine(con, source, staged, plan, writer, result, digest, privacy)
            if contract.name == "customers":
                privacy.seal_customers(con, writer.stage, load_id, str(result.file))
            writer.finish(contract)
            result.erased_rows += privacy.forget_erased(con, contract, load_id)
            _resolve(con, contract, load_mode, load_id, result)
            if contract.name == "customers":
                privacy.record_consent(con, load_id)
            result.unknown_ids = _register_unknown_ids(con, contract, load_id)
            _record_load(con, result, digest, load_mode.value, started)
            con.execute("COMMIT")
            if contract.name == "customers":
                privacy.settle(con)
        except Exception:
            con.execute("ROLLBACK")
            con.execute("RESET preserve_insertion_order")
            raise
        finally:
            _drop(con, tag, staged, source)
    return result


def _native_columns(plan: ParsePlan) -> tuple[ColumnPlan, ...]:
    """The plan's columns, with the numbers marked native when they all share one decimal separator.

    Only numbers: DuckDB's reader parses a date slower than `strptime` in SQL does.
    """
    numbers = [p for p in plan.columns if p.raw and p.column.kind == Kind.NUMBER]
    same = len({p.number_decimal for p in numbers}) == 1
    return tuple(dataclasses.replace(p, native=True) if same and p in numbers else p for p in plan.columns)


def _typed_write(
    con: duckdb.DuckDBPyConnection, path: Path, source: RawSource, plan: ParsePlan, writer: _Writer,
    digest: FileDigest, tag: str,
) -> tuple[RawSource, ParsePlan] | None:
    """Write a summed table's CSV through DuckDB's typed reader, if that gives exactly what the full reading gives.

    Typing numbers in the CSV reader costs a fraction of doing it in SQL, but the reader differs from
    the full reading: it reads `1.5` as fifteen in a decimal-comma file (see `GroupingCheck`), `NaN` as a number
    rather than a null marker, and cannot say why a cell is bad. So it runs without a
    rejects table, the first unreadable cell or line stops it, and its rows are kept only when every line of the
    file became an accepted row and every thousands mark is well placed; then the typed source and plan are
    returned. Otherwise the open transaction is rolled back and begun again (None), and the file is read as text.
    Clean machine exports, the large files, take the typed path; a messy file pays for the attempt up to its first
    bad cell.
    """
    typed_plan = dataclasses.replace(plan, columns=_native_columns(plan))
    native = {p.raw: p for p in typed_plan.columns if p.native}
    if (not native or source.csv_dialect is None or source.details.get("gzip") == "true"
            or source.csv_encoding != "utf-8"):
        return None
    decimal = next(iter(native.values())).number_decimal
    options = [f"decimal_separator='{decimal}'"] + (["thousands='.'"] if decimal == "," else [])
    typed = csv_source(source.file, Path(source.details["read_path"]), source.csv_dialect, source.csv_encoding,
                       False, f"{tag}_typed", types={raw: p.column.sql_type for raw, p in native.items()},
                       typed_options=tuple(options), keep_rejects=False)
    typed.details.update(source.details, numbers="typed by the CSV reader")
    grouping = GroupingCheck(path, ".") if decimal == "," else None
    try:
        writer.write(typed, typed_plan)
        every_line = digest.wait().physical_lines == source.first_data_line - 1 + writer.written
        if every_line and (grouping is None or grouping.wait()):
            return typed, typed_plan
    except duckdb.Error:
        pass  # the first cell or line the typed reader refused
    con.execute("ROLLBACK")
    con.execute("RESET preserve_insertion_order")
    con.execute("BEGIN TRANSACTION")
    return None


def _previous_load(con: duckdb.DuckDBPyConnection, digest: FileDigest, table: Table) -> tuple | None:
    return con.execute(
        "SELECT load_id, finished_at FROM loads WHERE file_sha256 = ? AND table_name = ? AND status = 'loaded'",
        [digest.sha256, table.name],
    ).fetchone()


def _unchanged(result: LoadResult, previous: tuple) -> LoadResult:
    result.status = "unchanged"
    result.message = f"same content already loaded as {previous[0]} at {previous[1]:%Y-%m-%d %H:%M}"
    return result


class _Writer:
    """Where a file's accepted rows are written first.

    Summed tables (sales, receipt lines) read from a CSV go straight into their table, tagged with the load id:
    they need no row order, and a 10-million-row export then crosses memory once instead of three times.
    Other tables go through a staging table that keeps each row's ordinal, so that within the file the last row
    with a key wins.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, tag: str, load_id: str, *, direct: bool) -> None:
        self.con = con
        self.stage = f"stage_{tag}"
        self.load_id = load_id
        self.direct = direct
        self.written = 0

    def write(self, source: RawSource, plan: ParsePlan) -> None:
        """Parse and validate every row of `source` once, keeping the accepted ones."""
        if self.direct:
            parsed = parsed_sql(plan, source.select(numbered=False))
            values = stored_select(plan.table, lambda c: f'"v_{c}"')
            # The table's row order carries no meaning; `load_file` resets this after a failure, once rolled back.
            self.con.execute("SET preserve_insertion_order = false")
            self.written = self.con.execute(
                f"INSERT INTO {plan.table.name} ({_insert_columns(plan.table)}) SELECT {values}, "
                f"{sql_string(self.load_id)}{_placeholder(plan.table)} FROM {parsed} "
                f"WHERE NOT ({_bad_sql(plan, source)})"
            ).fetchone()[0]
            self.con.execute("RESET preserve_insertion_order")  # row numbers of the later passes depend on it
            return
        parsed = parsed_sql(plan, source.select(numbered=True))
        named = ", ".join(f'"v_{c}" AS "{c}"' for c in plan.table.column_names)
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self.stage} AS SELECT _rn, {named}, ({_bad_sql(plan, source)}) AS _bad "
            f"FROM {parsed}"
        )

    def undo(self, table: Table) -> None:
        """Forget what `write` kept (before writing again from another reading of the file)."""
        if self.direct:
            self.con.execute(f"DELETE FROM {table.name} WHERE _load_id = ?", [self.load_id])
        self.con.execute(f"DROP TABLE IF EXISTS {self.stage}")

    def finish(self, table: Table) -> None:
        """Move the staged rows that passed every rule into the table."""
        if self.direct:
            return
        values = stored_select(table, lambda c: f'"{c}"')
        self.con.execute(
            f"INSERT INTO {table.name} ({_insert_columns(table)}) SELECT {values}, {sql_string(self.load_id)}"
            f"{_placeholder(table)} FROM {self.stage} WHERE NOT _bad"
        )


def _insert_columns(table: Table) -> str:
    return stored_names(table) + ", _load_id" + (", _placeholder" if table.name in DIMENSIONS else "")


def _placeholder(table: Table) -> str:
    return ", false" if table.name in DIMENSIONS else ""


def _bad_sql(plan: ParsePlan, source: RawSource) -> str:
    bad = bad_sql(plan)
    structural = source.details.get("structural_column")
    if structural:
        bad = f"{structural} IS NOT NULL OR {bad}"
    # Touch every raw text column the plan does not read: DuckDB checks a field's encoding only when the field is
    # read, and a row it rejects in the later full reads (quarantine, raw values) would otherwise be neither kept
    # nor told.
    read = {p.raw for p in plan.columns if p.raw}
    unread = [c for c in source.columns if c not in read]
    if unread:
        bad += " OR (" + " + ".join(f"coalesce(length({c}), 0)" for c in unread) + ") < 0"
    return bad


def _write_rows(
    con: duckdb.DuckDBPyConnection, settings: Settings, mapping: Mapping, path: Path, source: RawSource,
    plan: ParsePlan, writer: _Writer, scratch: Path,
) -> tuple[RawSource, ParsePlan, RawSource]:
    """Write the file's rows; returns (source whose rejects hold unsplittable lines, plan used, source).

    A file that turns out not to be UTF-8 past its first megabyte is read again as cp1252/latin-1 when the
    encoding was left to detection, and is an error naming the line when it was declared.
    """
    writer.write(source, plan)
    bad_bytes = _encoding_rejects(con, source) if source.rejects_table else []
    if not bad_bytes:
        return source, plan, source
    writer.undo(plan.table)
    _drop(con, writer.stage.removeprefix("stage_"), source)
    if settings.ingest.encoding == "auto" and mapping.encoding is None and source.csv_encoding == "utf-8":
        again = _csv(con, path, plan.table, mapping, scratch, writer.stage.removeprefix("stage_"),
                     forced_encoding="latin-or-cp1252")
        return _write_rows(con, settings, mapping, path, again, plan, writer, scratch)
    raise IngestError(
        path, f"bytes that are not valid {source.csv_encoding}", line=bad_bytes[0],
        hint="leave the encoding to be detected, or declare the right one (e.g. cp1252)",
    )


def _open_source(
    con: duckdb.DuckDBPyConnection, settings: Settings, path: Path, table: Table, mapping: Mapping,
    scratch: Path, tag: str,
) -> RawSource:
    kind = sniff_kind(path)
    if kind.format == "xlsx":
        source = excel_source(con, path, lambda fields: header_score(table, fields), tag)
    elif kind.format == "parquet":
        source = parquet_source(con, path)
    elif kind.format == "jsonl":
        encoding = detect_encoding(path, kind.gzip, mapping.encoding or settings.ingest.encoding)
        source = jsonl_source(con, path, kind.gzip, "utf-8" if encoding == "utf-8" else "latin-1")
    elif kind.format == "csv":
        encoding = mapping.encoding or settings.ingest.encoding
        source = _csv(con, path, table, mapping, scratch, tag, forced_encoding=encoding)
    else:
        raise IngestError(path, f"unsupported file format '{kind.format}'")
    source.details.setdefault("format", kind.format + (".gz" if kind.gzip else ""))
    return source


def _csv(
    con: duckdb.DuckDBPyConnection, path: Path, table: Table, mapping: Mapping, scratch: Path, tag: str, *,
    forced_encoding: str,
) -> RawSource:
    kind = sniff_kind(path)
    if forced_encoding == "latin-or-cp1252":
        encoding = detect_encoding(path, kind.gzip, "auto")
        encoding = "cp1252" if encoding == "utf-8" else encoding
    elif forced_encoding == "auto":
        encoding = quick_encoding(path, kind.gzip)
    else:
        encoding = _normal_encoding(path, forced_encoding)
    text = read_text_sample(path, kind.gzip, encoding)
    dialect = sniff_dialect(path, text, lambda fields: header_score(table, fields))
    read_path, gzipped = path, kind.gzip
    if encoding == "cp1252":
        read_path, gzipped = transcode_to_utf8(path, kind.gzip, "cp1252", scratch / "utf8.csv"), False
    source = csv_source(path, read_path, dialect, encoding, gzipped, tag)
    source.details.update({
        "encoding": encoding, "delimiter": dialect.delimiter, "read_path": str(read_path),
        "gzip": "true" if gzipped else "false",
    })
    return source


def _normal_encoding(path: Path, declared: str) -> str:
    name = declared.lower().replace("_", "-")
    aliases = {"utf8": "utf-8", "utf-8-sig": "utf-8", "latin1": "latin-1", "iso-8859-1": "latin-1",
               "windows-1252": "cp1252", "win1252": "cp1252", "ansi": "cp1252"}
    name = aliases.get(name, name)
    if name not in ("utf-8", "latin-1", "cp1252"):
        raise IngestError(path, f"unsupported encoding '{declared}'", hint="use utf-8, cp1252 or latin-1")
    return name


def _encoding_rejects(con: duckdb.DuckDBPyConnection, source: RawSource) -> list[int]:
    rows = con.execute(
        f"SELECT line_byte_position FROM {source.rejects_table} WHERE error_type = 'INVALID ENCODING' ORDER BY line"
    ).fetchall()
    lines = _reject_lines(source, [r[0] for r in rows])
    return [lines[r[0]] for r in rows]


def _reject_lines(source: RawSource, offsets: list[int]) -> dict[int, int]:
    """Physical line of each rejected row's byte offset in the file DuckDB read."""
    if not offsets:
        return {}
    return lines_at_offsets(Path(source.details["read_path"]), source.details["gzip"] == "true", offsets,
                            latin1=source.csv_encoding == "latin-1")


def _drop(con: duckdb.DuckDBPyConnection, tag: str, *sources: RawSource) -> None:
    """Remove the staging table (if `tag`) and the sources' scratch tables, each source once."""
    if tag:
        con.execute(f"DROP TABLE IF EXISTS stage_{tag}")
    for source in {id(s): s for s in sources}.values():
        if source.rejects_table:
            con.execute(f"DROP TABLE IF EXISTS {source.rejects_table}")
            con.execute(f"DROP TABLE IF EXISTS {source.rejects_table}_scan")
        if source.scan_sql.startswith("excel_"):
            con.unregister(source.scan_sql)


def _quarantine(
    con: duckdb.DuckDBPyConnection, source: RawSource, staged: RawSource, plan: ParsePlan, writer: _Writer,
    result: LoadResult, digest: FileDigest, privacy: IngestPrivacy,
) -> None:
    """Write every rejected row to quarantine, with its line, column, reasons and raw values.

    Three kinds: lines that could not be split into fields (from `staged`'s rejects); rows that break a rule
    (found again in `source`, parsed by `plan`); rows superseded by a later row with the same key. Personal values
    are sealed in the vault first, and rows of erased people are left out (`IngestPrivacy.seal_rejects`).
    """
    rejects = _structural_rejects(con, staged)
    records, bad = _record_counts(con, source, plan, writer, digest, len(rejects))
    result.rows_read = records + len(rejects)
    line_of = _LineFinder(source, digest, {line for line, *_ in rejects}, records=result.rows_read)
    rows: list[tuple[int | None, str, str, str]] = list(rejects)
    if bad:
        found = _rule_rejects(con, source, plan)
        lines = line_of(ordinal for ordinal, *_ in found)
        rows.extend((lines.get(ordinal), *rest) for ordinal, *rest in found)
    if not writer.direct and not plan.table.summed:
        superseded = _superseded(con, plan.table, writer.stage)
        lines = line_of([o for o, _, _ in superseded] + [w for _, w, _ in superseded])
        raw = _raw_values(con, source, [o for o, _, _ in superseded])
        for ordinal, winner, key in superseded:
            reason = f"duplicate key {key}; line {lines.get(winner)} of the file, with the same key, is kept"
            rows.append((lines.get(ordinal), ",".join(plan.table.key), reason, raw.get(ordinal, key)))
        result.duplicate_rows = len(superseded)
        if superseded:
            con.execute(f"UPDATE {writer.stage} SET _bad = true WHERE _rn IN (SELECT unnest(?))",
                        [[o for o, _, _ in superseded]])
    headers = {p.header: p.column.name for p in plan.columns if p.raw and p.header}
    kept, erased = privacy.seal_rejects(con, plan.table, headers, [(result.load_id, *row) for row in rows],
                                        str(result.file))
    if kept:
        con.executemany(
            "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, now())",
            [(load_id, plan.table.name, str(result.file), line, column, reason, raw)
             for load_id, line, column, reason, raw in kept],
        )
    result.rows_quarantined = len(kept)
    result.erased_rows += erased
    result.rows_accepted = result.rows_read - len(rows)


def _record_counts(
    con: duckdb.DuckDBPyConnection, source: RawSource, plan: ParsePlan, writer: _Writer, digest: FileDigest,
    rejected_lines: int,
) -> tuple[int, int]:
    """(records that could be split, those among them that break a rule).

    Rows written straight to their table were not counted when they were refused; when the file has exactly one
    line per record (its line count adds up) none was, else they are counted in one more pass.
    """
    if not writer.direct:
        return con.execute(f"SELECT count(*), count(*) FILTER (WHERE _bad) FROM {writer.stage}").fetchone()
    digest.wait()
    if digest.physical_lines == source.first_data_line - 1 + writer.written + rejected_lines:
        return writer.written, 0
    parsed = parsed_sql(plan, source.select(numbered=False))
    bad = con.execute(f"SELECT count(*) FROM {parsed} WHERE {_bad_sql(plan, source)}").fetchone()[0]
    return writer.written + bad, bad


def _structural_rejects(con: duckdb.DuckDBPyConnection, source: RawSource) -> list[tuple[int, str, str, str]]:
    """Rows DuckDB could not split into the header's fields, one per line (it reports one per missing field)."""
    if not source.rejects_table:
        return []
    rows = con.execute(
        f"SELECT min(line_byte_position), min(column_idx), arg_min(error_type, column_idx), "
        f"arg_min(error_message, column_idx), arg_min(csv_line, column_idx) FROM {source.rejects_table} "
        "GROUP BY line ORDER BY line"
    ).fetchall()
    lines = _reject_lines(source, [r[0] for r in rows])
    expected = len(source.header)
    out = []
    for offset, column_idx, error_type, error_message, csv_line in rows:
        line = lines[offset]
        reason = {
            "MISSING COLUMNS": f"the line has fewer fields than the {expected} of the header (file cut mid-line?)",
            "TOO MANY COLUMNS": f"the line has more fields than the {expected} of the header",
            "UNQUOTED VALUE": "a quote opened here is never closed; the rest of the file could not be split",
        }.get(error_type, error_message)
        column = source.header[column_idx] if column_idx is not None and column_idx < expected else ""
        text = csv_line.removeprefix("\n") if csv_line else csv_line  # after CRLF, DuckDB starts at the LF
        out.append((line, column, reason, json.dumps({"line": text}, ensure_ascii=False)))
    return out


def _rule_rejects(
    con: duckdb.DuckDBPyConnection, source: RawSource, plan: ParsePlan
) -> list[tuple[int, str, str, str]]:
    """(ordinal, first failing column, every reason, raw values as JSON) of each rejected row."""
    parsed = parsed_sql(plan, source.select(numbered=True))
    explained, labels = explained_sql(plan, f"(SELECT * FROM {parsed} WHERE {_bad_sql(plan, source)})")
    reasons = [f"k_{i}" for i in range(len(labels))]
    firsts = [f"CASE WHEN k_{i} IS NOT NULL THEN {sql_string(label)} END" for i, label in enumerate(labels)]
    reason_sql = f"concat_ws('; ', {', '.join(reasons)})" if reasons else "''"
    column_sql = f"coalesce({', '.join(firsts)}, '')" if firsts else "''"
    structural = source.details.get("structural_column")
    if structural:  # a line that is no record has every cell missing: only its own fault is worth telling
        reason_sql = f"coalesce({structural}, {reason_sql})"
        column_sql = f"CASE WHEN {structural} IS NULL THEN {column_sql} ELSE '' END"
    return con.execute(
        f"SELECT _rn, {column_sql}, {reason_sql}, {_raw_json(source)} FROM {explained} WHERE {reason_sql} <> '' "
        "ORDER BY _rn"
    ).fetchall()


def _raw_json(source: RawSource) -> str:
    """SQL giving a record's raw values as JSON by header; a line that could not be split is kept whole."""
    raw = "json_object(" + ", ".join(
        f"{sql_string(h or f'column_{i + 1}')}, c{i}" for i, h in enumerate(source.header)
    ) + ")"
    line, broken = source.details.get("raw_line_column"), source.details.get("structural_column")
    if line and broken:
        raw = f"CASE WHEN {broken} IS NOT NULL THEN json_object('line', {line}) ELSE {raw} END"
    return raw


def _raw_values(con: duckdb.DuckDBPyConnection, source: RawSource, ordinals: list[int]) -> dict[int, str]:
    """Raw values of the records at these ordinals, so that a row superseded in the file keeps its content."""
    if not ordinals:
        return {}
    rows = con.execute(
        f"SELECT _rn, {_raw_json(source)} FROM {source.select(numbered=True)} WHERE _rn IN (SELECT unnest(?))",
        [ordinals],
    ).fetchall()
    return dict(rows)


class _LineFinder:
    """Physical line of a record ordinal: arithmetic when every record is one line, else a csv walk."""

    def __init__(self, source: RawSource, digest: FileDigest, reject_lines: set[int], records: int) -> None:
        self.source = source
        self.digest = digest
        self.reject_lines = reject_lines
        self.records = records

    def __call__(self, ordinals) -> dict[int, int | None]:
        wanted = sorted(set(ordinals))
        source = self.source
        if source.numbered:
            return {o: source.first_data_line - 1 + o for o in wanted}
        self.digest.wait()
        compressed = source.details.get("format", "").endswith(".gz")  # then the digest counted gzip bytes
        if not compressed and self.digest.physical_lines == source.first_data_line - 1 + self.records:
            return _arithmetic_lines(source.first_data_line, wanted, sorted(self.reject_lines))
        return record_lines(source, wanted, self.reject_lines)


def _arithmetic_lines(first: int, ordinals: list[int], rejects: list[int]) -> dict[int, int]:
    out = {}
    for ordinal in ordinals:
        line = first - 1 + ordinal
        while (shifted := first - 1 + ordinal + bisect.bisect_right(rejects, line)) != line:
            line = shifted
        out[ordinal] = line
    return out


def _superseded(con: duckdb.DuckDBPyConnection, table: Table, stage: str) -> list[tuple[int, int, str]]:
    """(ordinal, winning ordinal, key) of rows whose key repeats later in the same file: the last one wins."""
    key = ", ".join(f'"{k}"' for k in table.key)
    return con.execute(
        f"SELECT _rn, max(_rn) OVER (PARTITION BY {key}) AS winner, CAST(to_json(struct_pack({key})) AS VARCHAR) "
        f"FROM {stage} WHERE NOT _bad QUALIFY _rn < winner ORDER BY _rn"
    ).fetchall()


def _resolve(con: duckdb.DuckDBPyConnection, table: Table, mode: LoadMode, load_id: str, result: LoadResult) -> None:
    """Make the rows of this load the truth for their keys (or period).

    Repeated keys of summed tables are summed, then the older rows this load replaces are removed (see
    `LoadMode`); the overlap is checked first so that a load of new dates deletes nothing and joins nothing.
    """
    new = f"(SELECT * FROM {table.name} WHERE _load_id = {sql_string(load_id)})"
    keys = ", ".join(f'"{k}"' for k in table.key)
    if table.summed:
        # Distinct key hashes prove the keys distinct; a collision (about 1 in 10^5 for ten million rows) only
        # costs the exact summing below, which finds nothing to sum.
        total, distinct = con.execute(f"SELECT count(*), count(DISTINCT hash({keys})) FROM {new}").fetchone()
        if total != distinct:
            con.execute(f"CREATE OR REPLACE TEMP TABLE summed_rows AS SELECT {_aggregate_select(table)} FROM {new} "
                        f"GROUP BY {keys}")
            con.execute(f"DELETE FROM {table.name} WHERE _load_id = ?", [load_id])
            extra = ", false" if table.name in DIMENSIONS else ""
            con.execute(f"INSERT INTO {table.name} SELECT *, {sql_string(load_id)}{extra} FROM summed_rows")
            con.execute("DROP TABLE summed_rows")
    result.rows_loaded = con.execute(f"SELECT count(*) FROM {new}").fetchone()[0]
    older = f"{table.name}._load_id <> {sql_string(load_id)}"
    if table.date_column:
        day = f'CAST("{table.date_column}" AS DATE)'
        first, last = con.execute(f"SELECT min({day}), max({day}) FROM {new}").fetchone()
        if first is None or not con.execute(
            f"SELECT count(*) > 0 FROM (SELECT 1 FROM {table.name} WHERE {older} AND {day} BETWEEN ? AND ? LIMIT 1)",
            [first, last],
        ).fetchone()[0]:
            return
        if mode == LoadMode.REPLACE_PERIOD:
            stores = ""
            if "store_id" in table.column_names:
                stores = f"AND store_id IN (SELECT DISTINCT store_id FROM {new})"
            con.execute(f"DELETE FROM {table.name} WHERE {older} AND {day} BETWEEN ? AND ? {stores}", [first, last])
            return
    match = " AND ".join(f'{table.name}."{k}" IS NOT DISTINCT FROM n."{k}"' for k in table.key)
    con.execute(f"DELETE FROM {table.name} USING (SELECT {keys} FROM {new}) n WHERE {older} AND {match}")


def _aggregate_select(table: Table) -> str:
    parts = []
    for column in table.columns:
        name = f'"{column.name}"'
        if column.name in table.key:
            parts.append(name)
        elif column.name in table.summed:
            parts.append(f"sum({name}) AS {name}")
        elif column.name == "price":
            parts.append(
                "coalesce(sum(price * units) FILTER (WHERE units > 0) / nullif(sum(units) FILTER "
                "(WHERE units > 0 AND price IS NOT NULL), 0), avg(price)) AS price"
            )
        elif column.kind == Kind.BOOLEAN:
            parts.append(f"bool_or({name}) AS {name}")
        elif column.kind == Kind.TIMESTAMP:
            parts.append(f"min({name}) AS {name}")
        else:
            parts.append(f"any_value({name}) AS {name}")
    return ", ".join(parts)


def _register_unknown_ids(con: duckdb.DuckDBPyConnection, table: Table, load_id: str) -> dict[str, int]:
    """Facts that point at an unknown product, store, customer or supplier keep it; the id is registered."""
    found: dict[str, int] = {}
    for column in table.columns:
        target = column.references
        if column.kind == Kind.ID_LIST:
            target = {"product_ids": "products", "store_ids": "stores"}.get(column.name)
        if not target or target == table.name:
            continue
        key = TABLES[target].key[0]
        ids = f"unnest({column.name})" if column.kind == Kind.ID_LIST else f'"{column.name}"'
        inserted = con.execute(
            f"INSERT INTO {target} ({key}, _load_id, _placeholder) SELECT DISTINCT id, ?, true FROM "
            f"(SELECT {ids} AS id FROM {table.name} WHERE _load_id = ?) WHERE id IS NOT NULL "
            f"AND id NOT IN (SELECT {key} FROM {target})",
            [load_id, load_id],
        ).fetchone()[0]
        if inserted:
            found[target] = inserted
    return found


def _record_load(
    con: duckdb.DuckDBPyConnection, result: LoadResult, digest: FileDigest, mode: str, started: datetime
) -> None:
    details = result.details
    formats = {k.removeprefix("format of "): v for k, v in details.items() if k.startswith("format of ")}
    decimals = "".join(sorted({v[-2] for v in formats.values() if v.startswith("decimal")})) or None
    con.execute(
        "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'loaded', ?, ?, now())",
        [
            result.load_id, result.table, str(result.file), digest.sha256, digest.size, details.get("format"),
            details.get("encoding"), details.get("delimiter"), decimals, json.dumps(formats, ensure_ascii=False),
            mode, result.rows_read, result.rows_accepted, result.rows_quarantined, result.rows_loaded,
            result.duplicate_rows, json.dumps(result.unknown_ids), result.message, started,
        ],
    )
