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
import json
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from shelfwise.config import Settings
from shelfwise.ingest.detect import detect_encoding, read_text_sample, sniff_dialect, sniff_kind
from shelfwise.ingest.errors import IngestError
from shelfwise.ingest.headers import Mapping, header_score, map_headers
from shelfwise.ingest.parse import ParsePlan, build_plan, checks_sql, parsed_sql
from shelfwise.ingest.sources import (
    FileDigest,
    RawSource,
    csv_source,
    excel_source,
    jsonl_source,
    parquet_source,
    record_lines,
    sql_string,
    transcode_to_utf8,
)
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
    unknown_ids: dict[str, int] = field(default_factory=dict)
    ignored_columns: tuple[str, ...] = ()
    details: dict[str, str] = field(default_factory=dict)
    message: str = ""


def load_file(
    con: duckdb.DuckDBPyConnection, settings: Settings, path: Path, *, table: str | None, mapping: Mapping,
    mode: str | None = None, force: bool = False, today: date | None = None, display_name: str | None = None,
) -> LoadResult:
    """Load one (non-archive) file; raises IngestError when the file as a whole cannot be loaded."""
    contract = TABLES[table] if table else None
    assert contract is not None
    load_id = datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    tag = load_id.replace("-", "_")
    digest = FileDigest(path)
    with tempfile.TemporaryDirectory(prefix="shelfwise-") as scratch:
        source = _open_source(con, settings, path, contract, mapping, Path(scratch), tag)
        positions = map_headers(path, contract, source.header, mapping)
        plan = build_plan(
            con, source, contract, positions, language=settings.workspace.language,
            today=today or date.today(), future_tolerance_days=settings.ingest.future_tolerance_days,
            default_store_id=settings.ingest.default_store_id,
        )
        _stage(con, source, plan, tag)
        if source.rejects_table and _encoding_rejects(con, source) and settings.ingest.encoding == "auto" \
                and mapping.encoding is None:
            _drop(con, source, tag)
            source = _csv(con, path, contract, mapping, Path(scratch), tag, forced_encoding="latin-or-cp1252")
            _stage(con, source, plan, tag)
        elif source.rejects_table and _encoding_rejects(con, source):
            line = _encoding_rejects(con, source)[0]
            _drop(con, source, tag)
            raise IngestError(
                path, f"bytes that are not valid {source.csv_encoding}", line=line,
                hint="leave the encoding to be detected, or declare the right one (e.g. cp1252)",
            )
        digest.wait()
        previous = con.execute(
            "SELECT load_id, finished_at FROM loads WHERE file_sha256 = ? AND table_name = ? AND status = 'loaded'",
            [digest.sha256, contract.name],
        ).fetchone()
        result = LoadResult(
            file=Path(display_name or path), table=contract.name, load_id=load_id, status="loaded",
            ignored_columns=tuple(h for i, h in enumerate(source.header) if h and i not in positions.values()),
            details={"format": source.details.get("format", "csv"), **source.details,
                     **{f"format of {k}": v for k, v in plan.detected_formats().items()}},
        )
        if previous and not force:
            _drop(con, source, tag)
            result.status = "unchanged"
            result.message = f"same content already loaded as {previous[0]} at {previous[1]:%Y-%m-%d %H:%M}"
            return result
        started = datetime.now()
        con.execute("BEGIN TRANSACTION")
        try:
            _quarantine(con, source, plan, tag, result, digest)
            _merge(con, plan.table, LoadMode(mode or settings.ingest.mode[contract.name]), tag, result)
            result.unknown_ids = _register_unknown_ids(con, plan.table, tag, load_id)
            _record_load(con, result, digest, source, mode or settings.ingest.mode[contract.name], started)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        finally:
            _drop(con, source, tag)
    return result


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
        source = _csv(con, path, table, mapping, scratch, tag, forced_encoding=mapping.encoding or settings.ingest.encoding)
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
        encoding = _quick_encoding(path, kind.gzip)
    else:
        encoding = _normal_encoding(path, forced_encoding)
    text = read_text_sample(path, kind.gzip, encoding)
    dialect = sniff_dialect(path, text, lambda fields: header_score(table, fields))
    read_path, gzipped = path, kind.gzip
    if encoding == "cp1252":
        read_path, gzipped = transcode_to_utf8(path, kind.gzip, "cp1252", scratch / "utf8.csv"), False
    source = csv_source(con, path, read_path, dialect, encoding, gzipped, tag)
    source.details.update({
        "encoding": encoding, "delimiter": dialect.delimiter, "read_path": str(read_path),
        "gzip": "true" if gzipped else "false",
    })
    return source


def _quick_encoding(path: Path, gzipped: bool) -> str:
    """UTF-8 when the first block decodes as UTF-8 (DuckDB then flags any later bad byte); else scan it all."""
    import gzip

    with (gzip.open if gzipped else open)(path, "rb") as stream:
        head = stream.read(1024 * 1024)
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 4:
            return "utf-8"
    return detect_encoding(path, gzipped, "auto")


def _normal_encoding(path: Path, declared: str) -> str:
    name = declared.lower().replace("_", "-")
    aliases = {"utf8": "utf-8", "utf-8-sig": "utf-8", "latin1": "latin-1", "iso-8859-1": "latin-1",
               "windows-1252": "cp1252", "win1252": "cp1252", "ansi": "cp1252"}
    name = aliases.get(name, name)
    if name not in ("utf-8", "latin-1", "cp1252"):
        raise IngestError(path, f"unsupported encoding '{declared}'", hint="use utf-8, cp1252 or latin-1")
    return name


def _stage(con: duckdb.DuckDBPyConnection, source: RawSource, plan: ParsePlan, tag: str) -> None:
    numbered = not plan.table.summed or source.numbered
    parsed = parsed_sql(plan, source.select(numbered=numbered), numbered=numbered)
    values = ", ".join(f'"v_{c}" AS "{c}"' for c in plan.table.column_names)
    bad = " OR ".join(f"k_{i} IS NOT NULL" for i in range(len(checks_sql(plan)))) or "false"
    structural = source.details.get("structural_column")
    if structural:
        bad = f"{structural} IS NOT NULL OR {bad}"
    rn = "_rn, " if numbered else ""
    con.execute(f"CREATE OR REPLACE TEMP TABLE stage_{tag} AS SELECT {rn}{values}, ({bad}) AS _bad FROM {parsed}")


def _encoding_rejects(con: duckdb.DuckDBPyConnection, source: RawSource) -> list[int]:
    rows = con.execute(
        f"SELECT line FROM {source.rejects_table} WHERE error_type = 'INVALID ENCODING' ORDER BY line"
    ).fetchall()
    return [r[0] for r in rows]


def _drop(con: duckdb.DuckDBPyConnection, source: RawSource, tag: str) -> None:
    con.execute(f"DROP TABLE IF EXISTS stage_{tag}")
    if source.rejects_table:
        con.execute(f"DROP TABLE IF EXISTS {source.rejects_table}")
        con.execute(f"DROP TABLE IF EXISTS {source.rejects_table}_scan")
    if source.scan_sql.startswith("excel_"):
        con.unregister(source.scan_sql)


def _quarantine(
    con: duckdb.DuckDBPyConnection, source: RawSource, plan: ParsePlan, tag: str, result: LoadResult,
    digest: FileDigest,
) -> None:
    stage = f"stage_{tag}"
    staged, bad = con.execute(f"SELECT count(*), count(*) FILTER (WHERE _bad) FROM {stage}").fetchone()
    rejects = _structural_rejects(con, source)
    result.rows_read = staged + len(rejects)
    line_of = _LineFinder(source, digest, {line for line, *_ in rejects}, records=result.rows_read)
    rows: list[tuple[int | None, str, str, str]] = list(rejects)
    if bad:
        found = _rule_rejects(con, source, plan)
        lines = line_of(ordinal for ordinal, *_ in found)
        rows.extend((lines.get(ordinal), *rest) for ordinal, *rest in found)
    if "_rn" in _columns(con, stage):
        superseded = _superseded(con, plan.table, stage)
        lines = line_of([o for o, _, _ in superseded] + [w for _, w, _ in superseded])
        for ordinal, winner, key in superseded:
            reason = f"duplicate key {key}; line {lines.get(winner)} of the file, with the same key, is kept"
            rows.append((lines.get(ordinal), ",".join(plan.table.key), reason, key))
        result.duplicate_rows = len(superseded)
        if superseded:
            con.execute(f"UPDATE {stage} SET _bad = true WHERE _rn IN (SELECT unnest(?))", [[o for o, _, _ in superseded]])
    if rows:
        con.executemany(
            "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, now())",
            [(result.load_id, plan.table.name, str(result.file), line, column, reason, raw)
             for line, column, reason, raw in rows],
        )
    result.rows_quarantined = len(rows)
    result.rows_accepted = result.rows_read - result.rows_quarantined


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def _structural_rejects(con: duckdb.DuckDBPyConnection, source: RawSource) -> list[tuple[int, str, str, str]]:
    """Rows DuckDB could not split into the header's fields, one per line (it reports one per missing field)."""
    if not source.rejects_table:
        return []
    rows = con.execute(
        f"SELECT line, min(column_idx), arg_min(error_type, column_idx), arg_min(error_message, column_idx), "
        f"arg_min(csv_line, column_idx) FROM {source.rejects_table} GROUP BY line ORDER BY line"
    ).fetchall()
    expected = len(source.header)
    out = []
    for line, column_idx, error_type, error_message, csv_line in rows:
        reason = {
            "MISSING COLUMNS": f"the line has fewer fields than the {expected} of the header (file cut mid-line?)",
            "TOO MANY COLUMNS": f"the line has more fields than the {expected} of the header",
            "UNQUOTED VALUE": "a quote opened here is never closed; the rest of the file could not be split",
        }.get(error_type, error_message)
        column = source.header[column_idx] if column_idx is not None and column_idx < expected else ""
        out.append((line, column, reason, json.dumps({"line": csv_line}, ensure_ascii=False)))
    return out


def _rule_rejects(con: duckdb.DuckDBPyConnection, source: RawSource, plan: ParsePlan) -> list[tuple[int, str, str, str]]:
    """(ordinal, first failing column, every reason, raw values as JSON) of each rejected row."""
    checks = checks_sql(plan)
    structural = source.details.get("structural_column")
    reasons = ([structural] if structural else []) + [f"k_{i}" for i in range(len(checks))]
    labels = [f"CASE WHEN k_{i} IS NOT NULL THEN {sql_string(label)} END" for i, (label, _) in enumerate(checks)]
    raw = "json_object(" + ", ".join(
        f"{sql_string(h or f'column_{i + 1}')}, c{i}" for i, h in enumerate(source.header)
    ) + ")"
    reason_sql = f"concat_ws('; ', {', '.join(reasons)})"
    column_sql = f"coalesce({', '.join(labels)}, '')" if labels else "''"
    parsed = parsed_sql(plan, source.select(numbered=True), numbered=True)
    return con.execute(
        f"SELECT _rn, {column_sql}, {reason_sql}, {raw} FROM {parsed} WHERE {reason_sql} <> '' ORDER BY _rn"
    ).fetchall()


class _LineFinder:
    """Physical line of a record ordinal: arithmetic when every record is one line, else a csv walk."""

    def __init__(self, source: RawSource, digest: FileDigest, reject_lines: set[int], records: int) -> None:
        self.source = source
        self.digest = digest
        self.reject_lines = reject_lines
        self.records = records

    def __call__(self, ordinals) -> dict[int, int | None]:  # noqa: ANN001 - any iterable of ints
        wanted = sorted(set(ordinals))
        source = self.source
        if source.numbered:
            return {o: source.first_data_line - 1 + o for o in wanted}
        self.digest.wait()
        if self.digest.physical_lines == source.first_data_line - 1 + self.records:
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


def _merge(con: duckdb.DuckDBPyConnection, table: Table, mode: LoadMode, tag: str, result: LoadResult) -> None:
    stage = f"stage_{tag}"
    columns = ", ".join(f'"{c}"' for c in table.column_names)
    source = f"(SELECT {columns} FROM {stage} WHERE NOT _bad)"
    if table.summed:
        source = f"(SELECT {_aggregate_select(table)} FROM {stage} WHERE NOT _bad GROUP BY {', '.join(table.key)})"
    con.execute(f"CREATE OR REPLACE TEMP TABLE new_{tag} AS {source}")
    existing = con.execute(f"SELECT count(*) > 0 FROM (SELECT 1 FROM {table.name} LIMIT 1)").fetchone()[0]
    if existing and mode == LoadMode.REPLACE_PERIOD and table.date_column:
        day = f'CAST("{table.date_column}" AS DATE)'
        scope = "AND store_id IN (SELECT DISTINCT store_id FROM new_{tag})" if "store_id" in table.column_names else ""
        con.execute(
            f"DELETE FROM {table.name} WHERE {day} BETWEEN (SELECT min({day}) FROM new_{tag}) "
            f"AND (SELECT max({day}) FROM new_{tag}) {scope.format(tag=tag)}"
        )
    elif existing:
        match = " AND ".join(f'{table.name}."{k}" IS NOT DISTINCT FROM n."{k}"' for k in table.key)
        con.execute(f"DELETE FROM {table.name} USING new_{tag} n WHERE {match}")
    placeholder = ", false" if table.name in DIMENSIONS else ""
    con.execute(f"INSERT INTO {table.name} SELECT *, {sql_string(result.load_id)}{placeholder} FROM new_{tag}")
    result.rows_loaded = con.execute(f"SELECT count(*) FROM new_{tag}").fetchone()[0]
    con.execute(f"DROP TABLE new_{tag}")


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
                f"coalesce(sum(price * units) FILTER (WHERE units > 0) / nullif(sum(units) FILTER "
                f"(WHERE units > 0 AND price IS NOT NULL), 0), avg(price)) AS price"
            )
        elif column.kind == Kind.BOOLEAN:
            parts.append(f"bool_or({name}) AS {name}")
        elif column.kind == Kind.TIMESTAMP:
            parts.append(f"min({name}) AS {name}")
        else:
            parts.append(f"any_value({name}) AS {name}")
    return ", ".join(parts)


def _register_unknown_ids(con: duckdb.DuckDBPyConnection, table: Table, tag: str, load_id: str) -> dict[str, int]:
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
    con: duckdb.DuckDBPyConnection, result: LoadResult, digest: FileDigest, source: RawSource, mode: str,
    started: datetime,
) -> None:
    details = result.details
    date_formats = {k: v for k, v in details.items() if k.startswith("format of ")}
    con.execute(
        "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'loaded', ?, ?, now())",
        [
            result.load_id, result.table, str(result.file), digest.sha256, digest.size, details.get("format"),
            details.get("encoding"), details.get("delimiter"), None, json.dumps(date_formats, ensure_ascii=False),
            mode, result.rows_read, result.rows_accepted, result.rows_quarantined, result.rows_loaded,
            result.duplicate_rows, json.dumps(result.unknown_ids), result.message, started,
        ],
    )
