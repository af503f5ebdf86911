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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import duckdb

from shelfwise.ingest.sources import RawSource, sql_string
from shelfwise.privacy.columns import masked_sql
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
    native: bool = False  # the raw column is already typed by DuckDB's CSV reader


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
    """Detect each column's format on a sample of the file (read once: each detection query scans it)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE format_sample AS SELECT * FROM {source.select(numbered=False)} "
                "LIMIT 20000")
    try:
        return _plan_on_sample(con, "format_sample", source, table, positions, language=language, today=today,
                               future_tolerance_days=future_tolerance_days, default_store_id=default_store_id)
    finally:
        con.execute("DROP TABLE IF EXISTS format_sample")


def _plan_on_sample(
    con: duckdb.DuckDBPyConnection, sample_sql: str, source: RawSource, table: Table, positions: dict[str, int], *,
    language: str, today: date, future_tolerance_days: int, default_store_id: str,
) -> ParsePlan:
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


def parsed_sql(plan: ParsePlan, source_sql: str) -> str:
    """SQL over the raw rows adding `"v_<column>"`, every column's typed value (NULL where the cell does not parse).

    A cell is read first by its column's fast reading, which takes the common shape straight from the raw text and
    is NULL for anything else, then by the full reading (trim, null markers, currency, accounting negatives, every
    fallback format). `coalesce` runs the full reading only on the cells the fast one left, and the full reading
    names each step with a lambda (`_let`) instead of repeating it: DuckDB's common-subexpression elimination
    hoists a repeated expression out of the `coalesce` that guards it, onto every cell. Free text comes out with
    its personal data masked (`privacy.columns`), so that no later step ever sees it.
    """
    values = []
    for col_plan in plan.columns:
        full = _full_value(col_plan, plan.defaults.get(col_plan.column.name))
        fast = _fast_value(col_plan)
        value = masked_sql(col_plan.column, f"coalesce({fast}, {full})" if fast else full)
        values.append(f'{value} AS "v_{col_plan.column.name}"')
    return f"(SELECT *, {', '.join(values)} FROM {source_sql})"


def _let(value: str, name: str, body: str) -> str:
    """`body` with `name` bound to `value`, computed once."""
    return f"list_transform([{value}], lambda {name}: {body})[1]"


def _cell_text(plan: ColumnPlan) -> str:
    """The cell trimmed, with empty cells and the usual null markers as NULL (`NULL` when the file lacks it).

    An `IN` list, not nested `nullif`s, which DuckDB expands into CASEs repeating the cell.
    """
    if plan.raw is None:
        return "NULL"
    if plan.native:
        return f"CAST({plan.raw} AS VARCHAR)"
    markers = ", ".join(sql_string(marker) for marker in NULL_MARKERS)
    longest = max(len(marker) for marker in NULL_MARKERS)
    marked = f"CASE WHEN length(_u) <= {longest} AND _u IN ({markers}) THEN NULL ELSE _u END"
    return _let(f"trim({plan.raw})", "_u", marked)


def _fast_value(plan: ColumnPlan) -> str | None:
    """The column's value read straight from the untrimmed raw cell in its common shape, else NULL.

    Wherever it is not NULL it equals the full reading (DuckDB's casts and `strptime` ignore the surrounding
    whitespace that the full reading trims), so it may serve the cell alone. Word lists are `list_position`, not
    `IN` (nor `list_contains`, rewritten to `IN`): DuckDB plans a long `IN` list as a join, costlier than the test.
    """
    raw, kind = plan.raw, plan.column.kind
    if raw is None or plan.native:
        return None
    markers = "[" + ", ".join(sql_string(marker) for marker in NULL_MARKERS) + "]"
    longest = max(len(marker) for marker in NULL_MARKERS)
    if kind in (Kind.ID, Kind.TEXT):
        marker = f"length({raw}) <= {longest} AND list_position({markers}, {raw}) > 0"
        odd = f"starts_with({raw}, ' ') OR suffix({raw}, ' ') OR ({marker})"
        if kind == Kind.ID:
            odd += f" OR starts_with({raw}, '=')"
        return f"CASE WHEN NOT ({odd}) THEN {raw} END"
    if kind in (Kind.NUMBER, Kind.INTEGER):
        number = f"coalesce({_plain_number(raw, plan.number_decimal)}, {_grouped_number(raw, plan.number_decimal)})"
        return _finite(number, kind)  # `NaN` is a null marker, for the full reading to say
    if kind == Kind.BOOLEAN:
        return _boolean(raw)
    if kind in (Kind.DATE, Kind.TIMESTAMP):
        return f"CAST(try_strptime({raw}, {sql_string(plan.time_formats[0])}) AS {plan.column.sql_type})"
    return None


def _full_value(plan: ColumnPlan, default: str | None) -> str:
    """The column's value read from any accepted shape of the cell, NULL where it does not parse."""
    if plan.raw is None:
        if default is not None:
            return f"CAST({sql_string(default)} AS VARCHAR)"
        return f"CAST(NULL AS {plan.column.sql_type})"
    if plan.native:
        return plan.raw
    text = _cell_text(plan)
    kind = plan.column.kind
    if kind == Kind.ID:
        unwrapped = "nullif(regexp_extract(_t, '^=\"?(.*?)\"?$', 1), '')"
        value = _let(text, "_t", f"CASE WHEN starts_with(_t, '=') THEN {unwrapped} ELSE _t END")
        return f"coalesce({value}, {sql_string(default)})" if default is not None else value
    if kind == Kind.TEXT:
        return text
    if kind in (Kind.NUMBER, Kind.INTEGER):
        decimal = plan.number_decimal
        signed = _let(_cleaned("_t"), "_n", _let(_signed("_n"), "_s", _number_from_signed("_s", decimal)))
        number = _let(text, "_t", _let(_plain_number("_t", decimal), "_e", f"coalesce(_e, {signed})"))
        return _let(number, "_d", _finite("_d", kind))
    if kind == Kind.BOOLEAN:
        return _let(text, "_t", _boolean("_t"))
    if kind == Kind.ID_LIST:
        # DuckDB 2.0 refuses the old `x -> ...` arrow lambdas
        items = "list_transform(regexp_split_to_array(_t, '[;,|]'), lambda x: trim(x))"
        return _let(text, "_t", f"list_filter({items}, lambda x: x <> '')")
    formats = "[" + ", ".join(sql_string(f) for f in plan.time_formats) + "]"
    return _let(text, "_t", f"CAST(try_strptime({_tz_fixed('_t')}, {formats}) AS {plan.column.sql_type})")


def _finite(number: str, kind: Kind) -> str:
    """A finite number (a whole one for INTEGER columns; past BIGINT's range it is a bad value, not a crash)."""
    if kind == Kind.NUMBER:
        return f"CASE WHEN isfinite({number}) THEN {number} END"
    return f"CASE WHEN isfinite({number}) AND {number} = round({number}) THEN try_cast({number} AS BIGINT) END"


def _plain_number(text: str, decimal: str) -> str:
    """The cheap reading that serves most cells: `1234,56` (or `1234.56`), with no other separator in it."""
    if decimal == ",":
        return f"CASE WHEN NOT contains({text}, '.') THEN try_cast(replace({text}, ',', '.') AS DOUBLE) END"
    return f"CASE WHEN NOT contains({text}, ',') THEN try_cast({text} AS DOUBLE) END"


def _cleaned(text: str) -> str:
    """Currency, spaces, `%` and non-breaking spaces removed."""
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
    thousands = "." if decimal == "," else ","
    return (f"CASE WHEN NOT contains({signed}, '{thousands}') THEN {_cast_number(signed, decimal)} "
            f"ELSE {_grouped_number(signed, decimal)} END")


def _grouped_number(text: str, decimal: str) -> str:
    """`1.234,56` (`1,234.56`): read only when the thousands groups are well formed, so `1.5` is never fifteen."""
    point, comma = r"\.", ","
    thousands, fraction = (point, comma) if decimal == "," else (comma, point)
    shape = f"-?[0-9]{{1,3}}({thousands}[0-9]{{3}})+({fraction}[0-9]*)?"
    return f"CASE WHEN regexp_full_match({text}, '{shape}') THEN {_cast_number(text, decimal)} END"


def _cast_number(text: str, decimal: str) -> str:
    if decimal == ",":
        return f"try_cast(replace(replace({text}, '.', ''), ',', '.') AS DOUBLE)"
    return f"try_cast(replace({text}, ',', '') AS DOUBLE)"


def _boolean(text: str) -> str:
    trues = ", ".join(sql_string(w) for w in TRUE_WORDS)
    falses = ", ".join(sql_string(w) for w in FALSE_WORDS)
    return (f"CASE WHEN list_position([{trues}], lower({text})) > 0 THEN true "
            f"WHEN list_position([{falses}], lower({text})) > 0 THEN false END")


@dataclass(frozen=True)
class Check:
    """One rule on a row: `broken` is true (or NULL) when the row breaks it, `reason` says how."""

    label: str
    broken: str
    reason: str
    only_when: str | None = None  # a cheaper condition, true whenever the rule is broken


def _unread(value: str, kind: Kind) -> str:
    """True where the cell gave no usable value: NULL, or for a number, not finite."""
    if kind == Kind.NUMBER:
        return f"NOT coalesce(isfinite({value}), false)"
    return f"{value} IS NULL"


def checks(plan: ParsePlan, text: Callable[[ColumnPlan], str]) -> list[Check]:
    """Every rule of every column, over the `"v_"` values and `text(column plan)`, the SQL of a cell's text."""
    out: list[Check] = []
    lang = plan.language
    for col_plan in plan.columns:
        column = col_plan.column
        label = col_plan.header if col_plan.header == column.name else f"{col_plan.header} ({column.name})"
        value = f'"v_{column.name}"'
        cell = text(col_plan)
        unread = _unread(value, column.kind)
        if column.required:
            missing = sql_string(message("missing", lang, col=label))
            out.append(Check(label, f"{value} IS NULL AND {cell} IS NULL", missing, unread))
        if col_plan.raw is None:
            continue
        kind_message = {
            Kind.NUMBER: "number", Kind.INTEGER: "integer", Kind.BOOLEAN: "boolean",
            Kind.DATE: "date", Kind.TIMESTAMP: "date",
        }.get(column.kind)
        if kind_message:
            template = message(kind_message, lang, col=label, raw="__RAW__", fmt=_human(col_plan.time_formats))
            reason = _fill(template, f"left({cell}, 60)")
            out.append(Check(label, f"{unread} AND {cell} IS NOT NULL", reason, unread))
        out.extend(_range_checks(plan, col_plan, label, value))
    if plan.table.name == "campaigns":
        reversed_dates = sql_string(message("reversed", lang))
        out.append(Check("end_date", '"v_end_date" < "v_start_date"', reversed_dates))
    return out


def bad_sql(plan: ParsePlan) -> str:
    """SQL over `parsed_sql`'s rows, true exactly when the row breaks a rule (never NULL).

    The rules on missing and unreadable cells read the cell's text again, so they are evaluated only on the rows
    where some value is NULL (or not finite).
    """
    rules = checks(plan, _cell_text)
    if not rules:
        return "false"
    every = " OR ".join(f"({c.broken})" for c in rules)
    on_values = " OR ".join(f"({c.broken})" for c in rules if c.only_when is None) or "false"
    guards = sorted({c.only_when for c in rules if c.only_when})
    if not guards:
        return f"coalesce({on_values}, false)"
    return f"coalesce(CASE WHEN {' OR '.join(f'({g})' for g in guards)} THEN {every} ELSE {on_values} END, false)"


def explained_sql(plan: ParsePlan, rows_sql: str) -> tuple[str, list[str]]:
    """(SQL over `parsed_sql`'s rows adding `k_<i>`, each rule's reason or NULL; the rules' column labels).

    Meant for the few rows `bad_sql` flags: it reads every cell's text again, as `t_<column>`.
    """
    read = [p for p in plan.columns if p.raw]
    texts = ", ".join(f"{_cell_text(p)} AS t_{p.column.name}" for p in read)
    rules = checks(plan, lambda p: f"t_{p.column.name}" if p.raw else "NULL")
    reasons = ", ".join(f"CASE WHEN {c.broken} THEN {c.reason} END AS k_{i}" for i, c in enumerate(rules))
    with_texts = f"(SELECT *, {texts} FROM {rows_sql})" if texts else rows_sql
    if not reasons:
        return with_texts, []
    return f"(SELECT *, {reasons} FROM {with_texts})", [c.label for c in rules]


def _range_checks(plan: ParsePlan, col_plan: ColumnPlan, label: str, value: str) -> list[Check]:
    column, lang = col_plan.column, plan.language
    shown = f"CAST({value} AS VARCHAR)"
    finite = f" AND isfinite({value})" if column.kind == Kind.NUMBER else ""  # an infinity is no number at all
    out = []
    if column.min_value is not None:
        template = message("below", lang, col=label, raw="__RAW__", limit=f"{column.min_value:g}")
        out.append(Check(label, f"{value} < {column.min_value}{finite}", _fill(template, shown)))
    if column.max_value is not None:
        template = message("above", lang, col=label, raw="__RAW__", limit=f"{column.max_value:g}")
        out.append(Check(label, f"{value} > {column.max_value}{finite}", _fill(template, shown)))
    if column.kind in (Kind.DATE, Kind.TIMESTAMP):
        if not plan.table.future_dates_allowed:
            limit = f"DATE '{plan.today.isoformat()}' + INTERVAL {plan.future_tolerance_days + 1} DAY"
            future = _fill(message("future", lang, col=label, raw="__RAW__"), shown)
            out.append(Check(label, f"{value} >= {limit}", future))
        if column.name == "birth_date":
            too_old = _fill(message("too_old", lang, col=label, raw="__RAW__"), shown)
            out.append(Check(label, f"{value} < DATE '1900-01-01'", too_old))
    return out


def _fill(template: str, raw_sql: str) -> str:
    before, after = template.split("__RAW__")
    return f"({sql_string(before)} || {raw_sql} || {sql_string(after)})"


def _human(formats: tuple[str, ...]) -> str:
    if not formats:
        return ""
    return formats[0].replace("%d", "dd").replace("%m", "mm").replace("%Y", "yyyy").replace("%y", "yy") \
        .replace("%H", "HH").replace("%M", "MM").replace("%S", "SS").replace("%f", "ffffff").replace("%z", "±hh:mm")
