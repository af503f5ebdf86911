"""Brazilian text formats and the file writers of the demo.

Values are formatted column-wise (numpy/pandas), never row by row, so the 250k-row exports stay fast.
Every writer returns the 1-based physical line of each data row, because the planted truth (bad rows,
returns, unknown ids) must point at the exact line a loader will report in its quarantine.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

META_PREFIX = "_"
"""Columns whose name starts with this travel with the rows (marks for the truth) but are never written."""

_TWO = pa.array([f"{i:02d}" for i in range(100)])


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


def mark(frame: pd.DataFrame, kind: str = "", column: str = "", problem: str = "", value: str = "") -> pd.DataFrame:
    """Tag rows for the truth; ordinary rows get empty tags so every file carries the same meta columns."""
    frame["_kind"], frame["_column"], frame["_problem"], frame["_value"] = kind, column, problem, value
    return frame


def _text(values: np.ndarray | pa.Array) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _series(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    """Arrow strings as a pandas string column whose nulls stay missing values.

    Not `dtype="str"`: before pandas 3 (which the forecasting libraries still require) that is NumPy's `str` and
    turns a null into the text "None".
    """
    return pd.Series(pc.cast(values, pa.large_string()).to_pandas())


def text(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    """Arrow strings as a pandas column."""
    return _series(values)


def pick(labels: pd.Series | list[str], index: np.ndarray) -> pd.Series:
    """`labels[index]` as a string column, done in Arrow (ids repeated over a quarter of a million rows)."""
    return _series(pa.array(list(labels), pa.string()).take(pa.array(np.asarray(index, dtype=np.int64))))


def number(values: np.ndarray | pd.Series, decimals: int = 2, *, thousands: bool = False,
           currency: bool = False, comma: bool = True) -> pd.Series:
    """Format numbers the Brazilian way (`1.234,56`, `R$ 1.234,56`) or with a decimal point.

    Integer cents are split arithmetically so the result is exact (no float repr surprises), and the
    string work runs in Arrow so a quarter of a million values take milliseconds.
    """
    x = np.asarray(values, dtype=float)
    if len(x) > 5000:  # long columns repeat few values (prices, stock levels): format each value once
        uniq, inverse = np.unique(x, return_inverse=True)
        if len(uniq) < len(x) // 4:
            labels = number(uniq, decimals, thousands=thousands, currency=currency, comma=comma)
            return _series(pa.array(labels).take(pa.array(inverse.ravel())))
    scale = 10**decimals
    q = np.rint(np.abs(x) * scale).astype(np.int64)
    whole = q // scale
    text = _group_thousands(whole, "." if comma else ",") if thousands else _text(whole)
    if decimals:
        frac = pc.utf8_lpad(_text(q % scale), width=decimals, padding="0")
        text = _join(text, "," if comma else ".", frac)
    if currency:
        text = _join("R$ ", text)
    negative = (x < 0) & (q > 0)
    if negative.any():
        text = pc.if_else(pa.array(negative), _join("-", text), text)
    return _series(text)


def _group_thousands(values: np.ndarray, sep: str) -> pa.Array:
    values = np.asarray(values, dtype=np.int64)
    text = _text(values % 1000)
    k = 1
    while (values >= 1000**k).any():
        head = _text((values // 1000**k) % 1000)
        padded = pc.utf8_lpad(text, width=3 + 4 * (k - 1), padding="0")
        text = pc.if_else(pa.array(values >= 1000**k), _join(head, sep, padded), text)
        k += 1
    return text


def integer(values: np.ndarray | pd.Series) -> pd.Series:
    """Whole numbers as text."""
    return _series(_text(np.asarray(values, dtype=np.int64)))


def _labels(values: np.ndarray, pattern: str) -> tuple[pa.Array, np.ndarray]:
    days = np.asarray(values, dtype="datetime64[D]")
    uniq, inverse = np.unique(days, return_inverse=True)
    return pa.array(pd.DatetimeIndex(uniq).strftime(pattern).to_numpy(dtype=object)), inverse.ravel()


def dates(values: np.ndarray | pd.Series, pattern: str = "%d/%m/%Y") -> pd.Series:
    """Format dates through their few distinct values, which is far faster than formatting each row."""
    labels, inverse = _labels(values, pattern)
    return _series(labels.take(pa.array(inverse)))


def timestamps(values: np.ndarray | pd.Series, style: str = "br") -> pd.Series:
    """Timestamps as `dd/mm/yyyy HH:MM:SS` ("br"), `dd/mm/yyyy HH:MM` ("br_min") or ISO 8601 ("iso")."""
    ts = np.asarray(values, dtype="datetime64[s]")
    day = ts.astype("datetime64[D]")
    secs = (ts - day).astype(np.int64)
    hh, mm, ss = (_TWO.take(pa.array(v)) for v in (secs // 3600, (secs // 60) % 60, secs % 60))
    labels, inverse = _labels(day, "%Y-%m-%d" if style == "iso" else "%d/%m/%Y")
    date_part = labels.take(pa.array(inverse))
    if style == "iso":
        return _series(_join(date_part, "T", hh, ":", mm, ":", ss))
    if style == "br_min":
        return _series(_join(date_part, " ", hh, ":", mm))
    return _series(_join(date_part, " ", hh, ":", mm, ":", ss))


def yes_no(values: np.ndarray | pd.Series, yes: str = "Sim", no: str = "Não") -> pd.Series:
    """Booleans as the words a Brazilian system writes."""
    return _series(pa.array([no, yes]).take(pa.array(np.asarray(values, dtype=bool).astype(np.int64))))


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


def _csv_cells(values: pd.Series | list[str], style: CsvStyle) -> pa.Array:
    """Cells quoted as Python's csv module would (minimal or all), done column-wise in Arrow."""
    cells = pc.fill_null(pc.cast(pa.array(values, from_pandas=True), pa.string()), "")
    if not style.quote_all:
        special = pc.match_substring_regex(cells, "[" + re.escape(style.sep) + '"\r\n]')
        if not pc.any(special).as_py():
            return cells
    quoted = _join('"', pc.replace_substring(cells, '"', '""'), '"')
    return quoted if style.quote_all else pc.if_else(special, quoted, cells)


def write_csv(frame: pd.DataFrame, path: Path, style: CsvStyle) -> np.ndarray:
    """Write the data columns as the style says and return each row's physical line."""
    columns = data_columns(frame)
    header = pc.binary_join_element_wise(*_csv_cells(columns, style).to_pylist(), style.sep)
    rows = pc.binary_join_element_wise(*(_csv_cells(frame[c], style) for c in columns), style.sep)
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    body = pc.binary_join(pa.ListArray.from_arrays([0, len(rows)], rows), style.lineterminator)
    text = header.as_py() + style.lineterminator + body[0].as_py() + (style.lineterminator if len(rows) else "")
    payload = text.encode(style.encoding)
    if style.gzip:
        # mtime=0 and no file name in the header keep the bytes identical from run to run.
        with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                                   compresslevel=6) as gz:
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
