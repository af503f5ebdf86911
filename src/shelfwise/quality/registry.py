"""What a check is, what it finds, and what it is given to look with.

A check is data: a name, a default severity, a description in Portuguese and English, and a small function
from a `Context` to the `Finding`s it makes. The catalogue of built-in checks is `shelfwise.quality.catalog`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import duckdb

from shelfwise.quality import texts
from shelfwise.schema import DIMENSIONS, TABLES, Table

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
Params = list[object] | dict[str, object] | None


@dataclass(frozen=True)
class Finding:
    """One thing a check found; `severity` None means the check's own severity."""

    table_name: str | None
    detail: str
    affected_rows: int = 0
    column_name: str | None = None
    series: str | None = None
    example: str | None = None
    severity: Severity | None = None


@dataclass(frozen=True)
class Thresholds:
    """The numbers that decide what counts as a problem, with defaults that suit daily retail data."""

    missing_warning_share: float = 0.5
    """A column missing in more than this share of rows is a warning (any missing value is info)."""
    outlier_mads: float = 8.0
    """A day is an outlier when it is more than this many scaled MADs away from its series' median."""
    outlier_min_deviation: float = 10.0
    """...and at least this many units away (a floor for low-volume series whose MAD is tiny)."""
    outlier_min_relative: float = 1.0
    """...and at least this multiple of the median away (a floor for steady series whose MAD is zero)."""
    outlier_min_days: int = 14
    """Series with fewer selling days than this are too short to judge."""
    gap_warning_days: int = 7
    """A run of this many consecutive days without sales in a series is a warning; shorter runs are info."""
    revenue_abs_tolerance: float = 0.05
    """Revenue may differ from units × price by this much (rounding)..."""
    revenue_rel_tolerance: float = 0.02
    """...or by this share of the revenue, whichever is larger."""
    max_series_findings: int = 50
    """At most this many per-series (or per-id, per-store) findings per check; the rest is summed in one."""
    examples: int = 3
    """How many examples a finding lists."""


@dataclass
class Context:
    """What every check receives: the warehouse connection, today, the language and the thresholds."""

    con: duckdb.DuckDBPyConnection
    today: date
    language: str
    thresholds: Thresholds = field(default_factory=Thresholds)
    row_counts: dict[str, int] = field(default_factory=dict)

    def tables(self, names: Iterable[str] | None = None) -> list[Table]:
        """The contract tables (all, or those named) that hold at least one row."""
        chosen = TABLES if names is None else names
        return [TABLES[n] for n in chosen if self.row_counts.get(n, 0) > 0]

    def has_rows(self, name: str) -> bool:
        """Whether the warehouse table `name` holds at least one row."""
        return self.row_counts.get(name, 0) > 0

    def say(self, text_key: str, /, **values: object) -> str:
        """A sentence of the report in the context's language."""
        return texts.text(text_key, self.language, **values)

    def num(self, value: float | None, decimals: int = 2) -> str:
        """A number formatted for the context's language."""
        return texts.number(value, self.language, decimals)

    def day(self, value: Any) -> str:
        """A date formatted for the context's language."""
        return texts.day(value, self.language)

    def label(self, table: str) -> str:
        """A table's name as said in the context's language."""
        return texts.table_label(table, self.language)

    def rows(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Run `sql` (with positional or named parameters) and return its rows as dicts."""
        result = self.con.execute(sql, params if params is not None else [])
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def one(self, sql: str, params: Params = None) -> dict[str, Any]:
        """Run `sql`, which returns exactly one row, and return it as a dict."""
        return self.rows(sql, params)[0]


def is_dimension(table: Table) -> bool:
    """Whether the table carries `_placeholder` rows for unknown ids."""
    return table.name in DIMENSIONS


def quoted(name: str) -> str:
    """A column or table name quoted for SQL."""
    return '"' + name.replace('"', '""') + '"'


def series_label(**parts: object) -> str:
    """The `series` value of a finding: `store_id=S1, product_id=P1`."""
    return ", ".join(f"{k}={'' if v is None else v}" for k, v in parts.items())


@dataclass(frozen=True)
class Check:
    """A declared check: its name, default severity, description in each language, and its function."""

    name: str
    severity: Severity
    description: Mapping[str, str]
    run: Callable[[Context], Iterable[Finding]]
    tables: tuple[str, ...] = ()

    def describe(self, language: str) -> str:
        """The description in `language` (English when unknown)."""
        return self.description[texts.resolve_language(language)]
