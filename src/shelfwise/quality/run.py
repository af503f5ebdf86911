"""Run the checks, store the findings in `quality_issues`, and summarise them for people."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

import duckdb
import pandas as pd

from shelfwise.messages import say
from shelfwise.quality import texts
from shelfwise.quality.catalog import CHECKS
from shelfwise.quality.registry import SEVERITIES, Check, Context, Finding, Thresholds
from shelfwise.schema import TABLES

COLUMNS = ("run_id", "check_name", "table_name", "column_name", "severity", "affected_rows", "series", "detail",
           "example", "checked_at")
"""The columns of `quality_issues`, in order."""


def run_quality(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    today: date,
    language: str = "pt",
    thresholds: Thresholds | None = None,
    checks: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Run every check (or those named) over the warehouse and replace this run's rows of `quality_issues`.

    Args:
        con: A writable connection to the warehouse.
        run_id: The run the findings belong to; its earlier findings are replaced.
        today: The day dates are compared with (dates after it are "in the future").
        language: `pt` or `en`, the language of each finding's `detail`.
        thresholds: What counts as a problem; the defaults suit daily retail data.
        checks: Names of the checks to run (all of `CHECKS` when None).

    Returns:
        The findings, one row per finding, with the columns of `quality_issues`, errors first.
    """
    ctx = Context(con=con, today=today, language=texts.resolve_language(language),
                  thresholds=thresholds or Thresholds(), row_counts=_row_counts(con))
    found = [(check, finding) for check in _selected(checks) for finding in check.run(ctx)]
    checked_at = con.execute("SELECT current_localtimestamp()").fetchall()[0][0]
    frame = _frame(found, run_id, checked_at)
    _store(con, run_id, frame)
    return frame


def _selected(names: Iterable[str] | None) -> list[Check]:
    if names is None:
        return list(CHECKS)
    wanted = list(names)
    known = [c.name for c in CHECKS]
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ValueError(f"unknown quality check(s): {', '.join(unknown)}; expected some of: {', '.join(known)}")
    return [c for c in CHECKS if c.name in wanted]


def _row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' "
        "AND NOT temporary").fetchall()}
    names = [n for n in TABLES if n in present]
    if not names:
        return {}
    row = con.execute("SELECT " + ", ".join(f'(SELECT count(*) FROM "{n}")' for n in names)).fetchall()[0]
    return dict(zip(names, (int(v) for v in row), strict=True))


def _frame(found: list[tuple[Check, Finding]], run_id: str, checked_at: object) -> pd.DataFrame:
    order = {c.name: i for i, c in enumerate(CHECKS)}
    records = []
    for check, finding in found:
        finding = finding if finding.severity else replace(finding, severity=check.severity)
        records.append({
            "run_id": run_id, "check_name": check.name, "table_name": finding.table_name,
            "column_name": finding.column_name, "severity": finding.severity,
            "affected_rows": int(finding.affected_rows), "series": finding.series, "detail": finding.detail,
            "example": finding.example, "checked_at": checked_at,
        })
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    if not frame.empty:
        frame = frame.assign(
            _s=frame["severity"].map(rank), _c=frame["check_name"].map(order),
        ).sort_values(["_s", "_c"], kind="stable").drop(columns=["_s", "_c"]).reset_index(drop=True)
    for column in ("run_id", "check_name", "table_name", "column_name", "severity", "series", "detail", "example"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    frame["affected_rows"] = frame["affected_rows"].astype("int64")
    frame["checked_at"] = pd.to_datetime(frame["checked_at"])
    return frame


_TYPES = {"affected_rows": "BIGINT", "checked_at": "TIMESTAMP"}


def _store(con: duckdb.DuckDBPyConnection, run_id: str, frame: pd.DataFrame) -> None:
    """Replace the run's rows of `quality_issues` with `frame`, in one transaction."""
    casts = ", ".join(f"CAST({c} AS {_TYPES.get(c, 'VARCHAR')})" for c in COLUMNS)
    con.register("_quality_findings", frame)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM quality_issues WHERE run_id = ?", [run_id])
        con.execute(f"INSERT INTO quality_issues ({', '.join(COLUMNS)}) SELECT {casts} FROM _quality_findings")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_quality_findings")


def summarize(findings: pd.DataFrame, language: str, *, top: int = 10) -> str:
    """A short text for people: counts by severity, the most important findings, and where to see them all.

    Args:
        findings: What `run_quality` returned.
        language: `pt` or `en`.
        top: How many findings to list.

    Returns:
        Plain text (no markup), several lines.
    """
    lang = texts.resolve_language(language)
    counts = findings["severity"].value_counts() if not findings.empty else pd.Series(dtype="int64")
    lines = [say("quality.summary", lang, n=len(findings), errors=int(counts.get("error", 0)),
                 warnings=int(counts.get("warning", 0)), infos=int(counts.get("info", 0)))]
    if findings.empty:
        lines.append(texts.text("summary.none", lang))
        return "\n".join(lines)
    ordered = _most_telling(findings)
    lines.append(texts.text("summary.top", lang))
    for severity, detail in ordered[["severity", "detail"]].head(top).itertuples(index=False, name=None):
        label = texts.SEVERITY_LABELS.get(severity, {}).get(lang, severity)
        lines.append(f"  {label.upper():<7} {detail}")
    if len(findings) > top:
        lines.append(texts.text("summary.more", lang, n=len(findings) - top))
    run_ids = findings["run_id"].dropna().unique()
    if len(run_ids) == 1:
        lines.append(texts.text("summary.hint", lang, run_id=run_ids[0]))
    return "\n".join(lines)


def _most_telling(findings: pd.DataFrame) -> pd.DataFrame:
    """Errors, then warnings, then info; within a severity, each check's first finding before any second one.

    Checks yield their findings worst first (and the "N more" rest last), so the few lines shown cover as
    many kinds of problem as possible, each by its worst case.
    """
    order = {c.name: i for i, c in enumerate(CHECKS)}
    ranked = findings.assign(
        _s=findings["severity"].map({s: i for i, s in enumerate(SEVERITIES)}),
        _c=findings["check_name"].map(order),
        _i=range(len(findings)),
    ).sort_values(["_s", "_c", "_i"], kind="stable")
    ranked["_n"] = ranked.groupby(["_s", "_c"]).cumcount()
    return ranked.sort_values(["_s", "_n", "_c"], kind="stable")
