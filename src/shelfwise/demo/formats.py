"""Brazilian text formats and the file writers of the demo.

Values are formatted column-wise (numpy/pandas), never row by row, so the 250k-row exports stay fast.
Every writer returns the 1-based physical line of each data row, because the planted truth (bad rows,
returns, unknown ids) must point at the exact line a loader will report in its quarantine.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

META_PREFIX = "_"
"""Columns whose name starts with this travel with the rows (marks for the truth) but are never written."""

_TWO = np.array([f"{i:02d}" for i in range(100)], dtype=object)


@dataclass(frozen=True)
class CsvStyle:
    """How one source system writes its CSV exports."""

    sep: str = ";"
    encoding: str = "cp1252"
    lineterminator: str = "\r\n"
    quote_all: bool = False
    gzip: bool = False


@dataclass
class SourceFile:
    """One landing file before it is written: string cells under their final headers, plus meta columns.

    Meta columns (prefixed `_`) mark rows the truth must list: `_kind` is "" for an ordinary row or one of
    "bad", "return", "unknown_id", "spike"; `_column` is the canonical column concerned; `_problem` says what
    is wrong or special.
    """

    name: str
    table: str
    frame: pd.DataFrame
    style: CsvStyle | str = field(default_factory=CsvStyle)
    columns: dict[str, str] = field(default_factory=dict)
    """Header -> canonical column, for the truth README and tests."""


def number(values: np.ndarray | pd.Series, decimals: int = 2, *, thousands: bool = False,
           currency: bool = False, comma: bool = True) -> pd.Series:
    """Format numbers the Brazilian way (`1.234,56`, `R$ 1.234,56`) or with a decimal point.

    Integer cents are split arithmetically so the result is exact (no float repr surprises).
    """
    x = np.asarray(values, dtype=float)
    scale = 10**decimals
    q = np.rint(np.abs(x) * scale).astype(np.int64)
    whole = q // scale
    text = _group_thousands(whole, "." if comma else ",") if thousands else pd.Series(whole).astype(str)
    if decimals:
        frac = pd.Series(q % scale).astype(str).str.zfill(decimals)
        text = text + ("," if comma else ".") + frac
    if currency:
        text = "R$ " + text
    sign = np.where((x < 0) & (q > 0), "-", "")
    return pd.Series(sign, dtype=object) + text


def _group_thousands(values: np.ndarray, sep: str) -> pd.Series:
    values = np.asarray(values, dtype=np.int64)
    text = pd.Series(values % 1000).astype(str)
    k = 1
    while (values >= 1000**k).any():
        has = pd.Series(values >= 1000**k)
        head = pd.Series((values // 1000**k) % 1000).astype(str)
        text = text.where(~has, head + sep + text.str.zfill(3 + 4 * (k - 1)))
        k += 1
    return text


def integer(values: np.ndarray | pd.Series) -> pd.Series:
    """Whole numbers as text."""
    return pd.Series(np.asarray(values, dtype=np.int64)).astype(str)


def dates(values: np.ndarray | pd.Series, pattern: str = "%d/%m/%Y") -> pd.Series:
    """Format dates through their few distinct values, which is far faster than formatting each row."""
    days = np.asarray(values, dtype="datetime64[D]")
    uniq, inverse = np.unique(days, return_inverse=True)
    labels = pd.DatetimeIndex(uniq).strftime(pattern).to_numpy(dtype=object)
    return pd.Series(labels[inverse.ravel()])


def timestamps(values: np.ndarray | pd.Series, style: str = "br") -> pd.Series:
    """Timestamps as `dd/mm/yyyy HH:MM:SS` ("br"), `dd/mm/yyyy HH:MM` ("br_min") or ISO 8601 ("iso")."""
    ts = np.asarray(values, dtype="datetime64[s]")
    day = ts.astype("datetime64[D]")
    secs = (ts - day).astype(np.int64)
    hh, mm, ss = _TWO[secs // 3600], _TWO[(secs // 60) % 60], _TWO[secs % 60]
    if style == "iso":
        date_part = dates(day, "%Y-%m-%d").to_numpy()
        return pd.Series(date_part + "T" + hh + ":" + mm + ":" + ss)
    date_part = dates(day).to_numpy()
    if style == "br_min":
        return pd.Series(date_part + " " + hh + ":" + mm)
    return pd.Series(date_part + " " + hh + ":" + mm + ":" + ss)


def yes_no(values: np.ndarray | pd.Series, yes: str = "Sim", no: str = "Não") -> pd.Series:
    """Booleans as the words a Brazilian system writes."""
    return pd.Series(np.where(np.asarray(values, dtype=bool), yes, no), dtype=object)


def data_columns(frame: pd.DataFrame) -> list[str]:
    """The columns that are written (meta columns excluded)."""
    return [c for c in frame.columns if not str(c).startswith(META_PREFIX)]


def physical_lines(frame: pd.DataFrame, first: int = 2) -> np.ndarray:
    """1-based physical line on which each row starts, counting line breaks inside quoted cells."""
    breaks = np.zeros(len(frame), dtype=np.int64)
    for col in data_columns(frame):
        values = frame[col]
        if values.dtype == object:
            breaks += values.fillna("").astype(str).str.count("\n").to_numpy()
    return first + np.arange(len(frame)) + np.concatenate([[0], np.cumsum(breaks)[:-1]]).astype(np.int64)


def write_csv(frame: pd.DataFrame, path: Path, style: CsvStyle) -> np.ndarray:
    """Write the data columns as the style says and return each row's physical line."""
    text = frame[data_columns(frame)].to_csv(
        None, sep=style.sep, index=False, lineterminator=style.lineterminator, na_rep="",
        quoting=csv.QUOTE_ALL if style.quote_all else csv.QUOTE_MINIMAL,
    )
    payload = text.encode(style.encoding)
    if style.gzip:
        # mtime=0 and no file name in the header keep the bytes identical from run to run.
        with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            gz.write(payload)
    else:
        path.write_bytes(payload)
    return physical_lines(frame)


def write_jsonl(frame: pd.DataFrame, path: Path) -> np.ndarray:
    """JSON Lines in UTF-8; there is no header, so the first record is line 1."""
    text = frame[data_columns(frame)].to_json(orient="records", lines=True, force_ascii=False)
    if not text.endswith("\n"):
        text += "\n"
    path.write_bytes(text.encode("utf-8"))
    return np.arange(1, len(frame) + 1)


def write_xlsx(frame: pd.DataFrame, path: Path, *, sheet: str) -> np.ndarray:
    """An Excel sheet as an ERP exports it: ids as text cells so leading zeros survive, numbers as numbers."""
    import xlsxwriter

    columns = data_columns(frame)
    workbook = xlsxwriter.Workbook(str(path))
    # A fixed creation time keeps the file byte-identical between runs.
    workbook.set_properties({"created": datetime(2026, 1, 1), "author": "ERP Mercado Paulistano"})
    bold = workbook.add_format({"bold": True})
    ws = workbook.add_worksheet(sheet)
    ws.write_row(0, 0, columns, bold)
    values = frame[columns].to_numpy(dtype=object)
    for r, row in enumerate(values, start=1):  # the catalogue is small: a row loop is fine here
        for c, value in enumerate(row):
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            if isinstance(value, str):
                ws.write_string(r, c, value)
            else:
                ws.write_number(r, c, float(value))
    ws.set_column(0, len(columns) - 1, 18)
    workbook.close()
    return np.arange(2, len(frame) + 2)


def write_source(source: SourceFile, landing: Path) -> np.ndarray:
    """Write one source file in its system's format; return the physical line of each data row."""
    path = landing / source.name
    if source.style == "xlsx":
        return write_xlsx(source.frame, path, sheet="Produtos")
    if source.style == "jsonl":
        return write_jsonl(source.frame, path)
    assert isinstance(source.style, CsvStyle)
    return write_csv(source.frame, path, source.style)
