"""Turn raw text columns into contract types in SQL, and say why a value is rejected.

Formats are detected per column on a sample, then applied to the whole file in one set-based pass:
- numbers: decimal comma or point, chosen from unambiguous evidence in the column (`1,5`, `1.234,56`),
  else from the file (`;`-delimited files are Brazilian), with currency (`R$`), spaces, `%`, accounting
  negatives `(12,50)` and trailing minus `12,50-` accepted. A value whose separators contradict the choice
  (`1.5` in a decimal-comma column) is rejected rather than read as fifteen.
- dates and timestamps: the candidate format parsing most sample values wins, day-first on ties (Brazil);
  other shapes (ISO, with time) are accepted as fallbacks in the same column, but never the day/month swap
  of the winner, so `02/03/2026` is never read two ways in one file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from shelfwise.ingest.sources import RawSource, sql_string
from shelfwise.schema import Column, Kind, Table

NULL_MARKERS = ("", "null", "NULL", "N/A", "n/a", "#N/D", "#N/A", "NaN", "nan", "None")
TRUE_WORDS = ("1", "true", "t", "s", "sim", "y", "yes", "x", "verdadeiro", "v")
FALSE_WORDS = ("0", "false", "f", "n", "nao", "não", "no", "falso")

_DATE_PARTS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d/%m/%y", "%Y%m%d", "%m/%d/%Y",
               "%m-%d-%Y")
_SWAPPED = {"%d/%m/%Y": "%m/%d/%Y", "%m/%d/%Y": "%d/%m/%Y", "%d-%m-%Y": "%m-%d-%Y", "%m-%d-%Y": "%d-%m-%Y"}
_TIME_PARTS = ("", " %H:%M:%S", " %H:%M", "T%H:%M:%S", " %H:%M:%S.%f", "T%H:%M:%S.%f", "T%H:%M")
_TZ_TIME_PARTS = ("T%H:%M:%S%z", "T%H:%M:%S.%f%z", " %H:%M:%S%z")

MESSAGES = {
    "missing": {"en": "{col}: required value missing", "pt": "{col}: valor obrigatório ausente"},
    "number": {"en": "{col}: '{raw}' is not a number", "pt": "{col}: '{raw}' não é um número"},
    "integer": {"en": "{col}: '{raw}' is not a whole number", "pt": "{col}: '{raw}' não é um número inteiro"},
    "date": {"en": "{col}: '{raw}' is not a valid date ({fmt})", "pt": "{col}: '{raw}' não é uma data válida ({fmt})"},
    "boolean": {"en": "{col}: '{raw}' is not yes/no", "pt": "{col}: '{raw}' não é sim/não"},
    "below": {"en": "{col}: {raw} is below the minimum {limit}", "pt": "{col}: {raw} está abaixo do mínimo {limit}"},
    "above": {"en": "{col}: {raw} is above the maximum {limit}", "pt": "{col}: {raw} está acima do máximo {limit}"},
    "future": {"en": "{col}: {raw} is in the future", "pt": "{col}: {raw} está no futuro"},
    "too_old": {"en": "{col}: {raw} is before 1900", "pt": "{col}: {raw} é anterior a 1900"},
    "reversed": {"en": "end_date is before start_date", "pt": "end_date é anterior a start_date"},
}


def message(key: str, language: str, **values: str) -> str:
    """A rejection reason template as a SQL-ready string, in the workspace language."""
    return MESSAGES[key].get(language, MESSAGES[key]["en"]).format(**values)


@dataclass(frozen=True)
class ColumnPlan:
    """How one canonical column is read: which raw column, and with which detected format."""

    column: Column
    raw: str | None  # c3, or None when the file lacks the column
    header: str
    number_decimal: str = "."
    time_formats: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsePlan:
    """Everything needed to parse and validate one file's rows in SQL."""

    table: Table
    columns: tuple[ColumnPlan, ...]
    language: str
    today: date
    future_tolerance_days: int
    defaults: dict[str, str]

    def detected_formats(self) -> dict[str, str]:
        """Per header, the format chosen for it (for the load record)."""
        out = {}
        for plan in self.columns:
            if plan.raw and plan.column.kind in (Kind.DATE, Kind.TIMESTAMP):
                out[plan.header] = plan.time_formats[0]
            elif plan.raw and plan.column.kind in (Kind.NUMBER, Kind.INTEGER):
                out[plan.header] = f"decimal '{plan.number_decimal}'"
        return out


def build_plan(
    con: duckdb.DuckDBPyConnection, source: RawSource, table: Table, positions: dict[str, int], *,
    language: str, today: date, future_tolerance_days: int, default_store_id: str,
) -> ParsePlan:
    """Detect each column's format on a sample of the file."""
    sample_sql = f"(SELECT * FROM {source.select(numbered=False)} LIMIT 20000)"
    file_decimal = _file_decimal(con, sample_sql, table, positions, source)
    plans = []
    for column in table.columns:
        index = positions.get(column.name)
        raw = f"c{index}" if index is not None else None
        header = source.header[index] if index is not None else column.name
        if raw and column.kind in (Kind.NUMBER, Kind.INTEGER):
            decimal = _column_decimal(con, sample_sql, raw) or file_decimal
            plans.append(ColumnPlan(column, raw, header, number_decimal=decimal))
        elif raw and column.kind in (Kind.DATE, Kind.TIMESTAMP):
            plans.append(ColumnPlan(column, raw, header, time_formats=_time_formats(con, sample_sql, raw)))
        else:
            plans.append(ColumnPlan(column, raw, header))
    defaults = {k: v if k != "store_id" else default_store_id for k, v in table.defaults.items()}
    return ParsePlan(table, tuple(plans), language, today, future_tolerance_days, defaults)


_COMMA_EVIDENCE = (
    r"^[-(]?[0-9.]*[0-9],[0-9]{1,2}\)?-?$|^[-(]?[0-9]{1,3}(\.[0-9]{3})+,[0-9]*\)?-?$|^[-(]?[0-9]*,[0-9]{4,}$"
)
_POINT_EVIDENCE = (
    r"^[-(]?[0-9,]*[0-9]\.[0-9]{1,2}\)?-?$|^[-(]?[0-9]{1,3}(,[0-9]{3})+\.[0-9]*\)?-?$|^[-(]?[0-9]*\.[0-9]{4,}$"
)


def _evidence(con: duckdb.DuckDBPyConnection, sample_sql: str, raw_columns: list[str]) -> tuple[int, int]:
    if not raw_columns:
        return 0, 0
    cleaned = [f"replace(replace(replace(trim({c}), 'R$', ''), ' ', ''), chr(160), '')" for c in raw_columns]
    comma = " + ".join(f"count(*) FILTER (WHERE regexp_matches({c}, '{_COMMA_EVIDENCE}'))" for c in cleaned)
    point = " + ".join(f"count(*) FILTER (WHERE regexp_matches({c}, '{_POINT_EVIDENCE}'))" for c in cleaned)
    return con.execute(f"SELECT {comma}, {point} FROM {sample_sql}").fetchone()


def _column_decimal(con: duckdb.DuckDBPyConnection, sample_sql: str, raw: str) -> str | None:
    comma, point = _evidence(con, sample_sql, [raw])
    if comma == point:
        return None
    return "," if comma > point else "."


def _file_decimal(
    con: duckdb.DuckDBPyConnection, sample_sql: str, table: Table, positions: dict[str, int], source: RawSource
) -> str:
    numeric = [f"c{positions[c.name]}" for c in table.columns
               if c.kind in (Kind.NUMBER, Kind.INTEGER) and c.name in positions]
    comma, point = _evidence(con, sample_sql, numeric)
    if comma != point:
        return "," if comma > point else "."
    dialect = source.csv_dialect
    return "," if dialect is not None and dialect.delimiter == ";" else "."


def _time_formats(con: duckdb.DuckDBPyConnection, sample_sql: str, raw: str) -> tuple[str, ...]:
    values = (
        f"(SELECT DISTINCT trim({raw}) AS v FROM {sample_sql} WHERE nullif(trim({raw}), '') IS NOT NULL LIMIT 5000)"
    )
    has_tz = con.execute(
        f"SELECT count(*) FROM {values} WHERE regexp_matches(v, '[+-][0-9]{{2}}:?[0-9]{{2}}$|Z$')"
    ).fetchone()[0]
    times = _TIME_PARTS + (_TZ_TIME_PARTS if has_tz else ())
    candidates = [d + t for d in _DATE_PARTS for t in times]
    counts = ", ".join(f"count(try_strptime({_tz_fixed('v')}, {sql_string(f)}))" for f in candidates)
    scores = con.execute(f"SELECT {counts} FROM {values}").fetchone()
    if not any(scores):
        return ("%d/%m/%Y", *[c for c in candidates if not c.startswith(("%m/", "%m-"))])
    best = max(range(len(candidates)), key=lambda i: (scores[i], -i))
    primary = candidates[best]
    swapped_date = _SWAPPED.get(primary[:8])
    fallbacks = [c for c in candidates if c != primary and not (swapped_date and c.startswith(swapped_date))]
    if not swapped_date:
        fallbacks = [c for c in fallbacks if not c.startswith(("%m/", "%m-"))]
    return (primary, *fallbacks)


def _tz_fixed(value: str) -> str:
    return f"CASE WHEN suffix({value}, 'Z') THEN left({value}, -1) || '+00:00' ELSE {value} END"


def _text(trimmed: str) -> str:
    """Trimmed text (trimmed one layer below), with empty cells and the usual null markers as NULL.

    The length guard spares the marker lookup for the long values that make up most cells (no marker is longer
    than four characters); an `IN` list, not nested `nullif`s, because DuckDB expands `nullif(a, b)` into a CASE
    that repeats `a`, and ten nested markers would copy the cell 2^10 times per column.
    """
    markers = ", ".join(sql_string(marker) for marker in NULL_MARKERS)
    longest = max(len(marker) for marker in NULL_MARKERS)
    return f"CASE WHEN length({trimmed}) <= {longest} AND {trimmed} IN ({markers}) THEN NULL ELSE {trimmed} END"


def parsed_sql(plan: ParsePlan, source_sql: str, *, numbered: bool) -> str:
    """SQL over the raw rows giving `t_<column>` (text), `v_<column>` (typed values) and `k_j` (reasons or NULL).

    Built as stacked projections so that each step refers to the previous one by name: written as one
    expression, the text of a cell would be repeated in every function that reads it.
    """
    read = [p for p in plan.columns if p.raw]
    numbers = [p.column.name for p in read if p.column.kind in (Kind.NUMBER, Kind.INTEGER)]
    decimal = {p.column.name: p.number_decimal for p in read}
    layers = [
        [f"trim({p.raw}) AS u_{p.column.name}" for p in read],
        [f"{_text(f'u_{p.column.name}')} AS t_{p.column.name}" for p in read],
        [f"{_plain_number(f't_{n}', decimal[n])} AS e_{n}" for n in numbers],
        [f"CASE WHEN e_{n} IS NULL AND t_{n} IS NOT NULL THEN {_cleaned(f't_{n}')} END AS n_{n}" for n in numbers],
        [f"{_signed(f'n_{n}')} AS s_{n}" for n in numbers],
        [f"CASE WHEN e_{n} IS NOT NULL THEN e_{n} ELSE {_number_from_signed(f's_{n}', decimal[n])} END AS d_{n}"
         for n in numbers],
        [f'{value_sql(p, plan.defaults.get(p.column.name))} AS "v_{p.column.name}"' for p in plan.columns],
        [f"{sql} AS k_{i}" for i, (_, sql) in enumerate(checks_sql(plan))],
    ]
    sql = f"(SELECT * FROM {source_sql})"
    for layer in layers:
        if layer:
            sql = f"(SELECT *, {', '.join(layer)} FROM {sql})"
    return sql


def _plain_number(text: str, decimal: str) -> str:
    """The cheap reading that serves most cells: `1234,56` (or `1234.56`), with no other separator in it."""
    if decimal == ",":
        return f"CASE WHEN NOT contains({text}, '.') THEN try_cast(replace({text}, ',', '.') AS DOUBLE) END"
    return f"CASE WHEN NOT contains({text}, ',') THEN try_cast({text} AS DOUBLE) END"


def _cleaned(text: str) -> str:
    """Currency, spaces, `%` and non-breaking spaces removed: the full reading, for cells the plain one refused.

    Each full-reading step is its own layer, guarded by the plain reading having failed: written as one
    expression, its repeated parts are hoisted by DuckDB's common-subexpression elimination out of the CASE
    that guards them, and run for every cell.
    """
    stripped = text
    for noise in ("R$", " ", "%", "$"):
        stripped = f"replace({stripped}, {sql_string(noise)}, '')"
    return f"replace({stripped}, chr(160), '')"


def _signed(cleaned: str) -> str:
    """Accounting negatives `(12,50)` and trailing minus `12,50-` as a leading minus."""
    return (
        f"CASE WHEN starts_with({cleaned}, '(') AND suffix({cleaned}, ')') THEN '-' || {cleaned}[2:-2] "
        f"WHEN suffix({cleaned}, '-') AND length({cleaned}) > 1 THEN '-' || {cleaned}[1:-2] ELSE {cleaned} END"
    )


def _number_from_signed(signed: str, decimal: str) -> str:
    if decimal == ",":
        shape = r"-?[0-9]{1,3}(\.[0-9]{3})+(,[0-9]*)?"
        cast = f"try_cast(replace(replace({signed}, '.', ''), ',', '.') AS DOUBLE)"
        guard = f"NOT contains({signed}, '.') OR regexp_full_match({signed}, '{shape}')"
    else:
        shape = r"-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?"
        cast = f"try_cast(replace({signed}, ',', '') AS DOUBLE)"
        guard = f"NOT contains({signed}, ',') OR regexp_full_match({signed}, '{shape}')"
    return f"CASE WHEN {guard} THEN {cast} END"


def value_sql(plan: ColumnPlan, default: str | None) -> str:
    """SQL (over the text and number layers) giving one column's typed value, NULL where it does not parse."""
    name = plan.column.name
    if plan.raw is None:
        if default is not None:
            return f"CAST({sql_string(default)} AS VARCHAR)"
        return f"CAST(NULL AS {plan.column.sql_type})"
    text = f"t_{name}"
    kind = plan.column.kind
    if kind == Kind.ID:
        unwrapped = f"nullif(regexp_extract({text}, '^=\"?(.*?)\"?$', 1), '')"
        value = f"CASE WHEN starts_with({text}, '=') THEN {unwrapped} ELSE {text} END"
        return f"coalesce({value}, {sql_string(default)})" if default is not None else value
    if kind == Kind.TEXT:
        return text
    if kind == Kind.NUMBER:
        return f"CASE WHEN isfinite(d_{name}) THEN d_{name} END"
    if kind == Kind.INTEGER:
        # try_cast: a whole number past BIGINT's range (1e308) is a bad value to quarantine, not a crash
        return f"CASE WHEN isfinite(d_{name}) AND d_{name} = round(d_{name}) THEN try_cast(d_{name} AS BIGINT) END"
    if kind == Kind.BOOLEAN:
        trues = ", ".join(sql_string(w) for w in TRUE_WORDS)
        falses = ", ".join(sql_string(w) for w in FALSE_WORDS)
        return f"CASE WHEN lower({text}) IN ({trues}) THEN true WHEN lower({text}) IN ({falses}) THEN false END"
    if kind == Kind.ID_LIST:
        # DuckDB 2.0 refuses the old `x -> ...` arrow lambdas
        items = f"list_transform(regexp_split_to_array({text}, '[;,|]'), lambda x: trim(x))"
        return f"list_filter({items}, lambda x: x <> '')"
    formats = "[" + ", ".join(sql_string(f) for f in plan.time_formats) + "]"
    return f"CAST(try_strptime({_tz_fixed(text)}, {formats}) AS {plan.column.sql_type})"


def checks_sql(plan: ParsePlan) -> list[tuple[str, str]]:
    """(header, SQL over the value layer giving a rejection reason or NULL) for every rule of every column."""
    checks: list[tuple[str, str]] = []
    lang = plan.language
    for col_plan in plan.columns:
        column = col_plan.column
        label = col_plan.header if col_plan.header == column.name else f"{col_plan.header} ({column.name})"
        value = f'"v_{column.name}"'
        text = f"t_{column.name}" if col_plan.raw else "NULL"
        if column.required:
            missing = sql_string(message("missing", lang, col=label))
            checks.append((label, f"CASE WHEN {value} IS NULL AND {text} IS NULL THEN {missing} END"))
        if col_plan.raw is None:
            continue
        kind_message = {
            Kind.NUMBER: "number", Kind.INTEGER: "integer", Kind.BOOLEAN: "boolean",
            Kind.DATE: "date", Kind.TIMESTAMP: "date",
        }.get(column.kind)
        if kind_message:
            template = message(kind_message, lang, col=label, raw="__RAW__", fmt=_human(col_plan.time_formats))
            reason = _fill(template, f"left({text}, 60)")
            checks.append((label, f"CASE WHEN {text} IS NOT NULL AND {value} IS NULL THEN {reason} END"))
        checks.extend((label, sql) for sql in _range_checks(plan, col_plan, label, value))
    if plan.table.name == "campaigns":
        reversed_dates = sql_string(message("reversed", lang))
        checks.append(("end_date", f'CASE WHEN "v_end_date" < "v_start_date" THEN {reversed_dates} END'))
    return checks


def _range_checks(plan: ParsePlan, col_plan: ColumnPlan, label: str, value: str) -> list[str]:
    column, lang = col_plan.column, plan.language
    shown = f"CAST({value} AS VARCHAR)"
    out = []
    if column.min_value is not None:
        template = message("below", lang, col=label, raw="__RAW__", limit=f"{column.min_value:g}")
        out.append(f"CASE WHEN {value} < {column.min_value} THEN {_fill(template, shown)} END")
    if column.max_value is not None:
        template = message("above", lang, col=label, raw="__RAW__", limit=f"{column.max_value:g}")
        out.append(f"CASE WHEN {value} > {column.max_value} THEN {_fill(template, shown)} END")
    if column.kind in (Kind.DATE, Kind.TIMESTAMP):
        if not plan.table.future_dates_allowed:
            limit = f"DATE '{plan.today.isoformat()}' + INTERVAL {plan.future_tolerance_days + 1} DAY"
            future = _fill(message("future", lang, col=label, raw="__RAW__"), shown)
            out.append(f"CASE WHEN {value} >= {limit} THEN {future} END")
        if column.name == "birth_date":
            too_old = _fill(message("too_old", lang, col=label, raw="__RAW__"), shown)
            out.append(f"CASE WHEN {value} < DATE '1900-01-01' THEN {too_old} END")
    return out


def _fill(template: str, raw_sql: str) -> str:
    before, after = template.split("__RAW__")
    return f"({sql_string(before)} || {raw_sql} || {sql_string(after)})"


def _human(formats: tuple[str, ...]) -> str:
    if not formats:
        return ""
    return formats[0].replace("%d", "dd").replace("%m", "mm").replace("%Y", "yyyy").replace("%y", "yy") \
        .replace("%H", "HH").replace("%M", "MM").replace("%S", "SS").replace("%f", "ffffff").replace("%z", "±hh:mm")
