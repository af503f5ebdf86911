"""What a file is before it is read: its format, compression, encoding, CSV dialect and target table.

The content decides, not the extension: ERP users rename `.xlsx` to `.csv` and gzip without saying so.
Python's `csv.Sniffer` guesses badly on `;` files with decimal commas, so the delimiter is the candidate
whose field count is most consistent across the first lines, header included.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from shelfwise.ingest.errors import IngestError
from shelfwise.schema import TABLES, normalize_name

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (";", ",", "\t", "|")
CP1252_ONLY = re.compile(rb"[\x80-\x9f]")


@dataclass(frozen=True)
class FileKind:
    """The physical format of a file."""

    format: str  # csv | xlsx | parquet | jsonl | zip
    gzip: bool = False


@dataclass(frozen=True)
class Dialect:
    """How a delimited text file is laid out."""

    delimiter: str
    skip_lines: int
    header: tuple[str, ...]


def sniff_kind(path: Path) -> FileKind:
    """Tell the format from the first bytes; fail clearly on empty or binary files."""
    try:
        head = path.open("rb").read(SAMPLE_BYTES)
    except OSError as error:
        raise IngestError(path, f"cannot be read ({error.strerror or error})") from None
    if not head.strip():
        raise IngestError(path, "the file is empty", hint="export it again with a header and rows")
    if head.startswith(b"\x1f\x8b"):
        with gzip.open(path, "rb") as stream:
            try:
                inner = stream.read(SAMPLE_BYTES)
            except (OSError, EOFError, zlib.error) as error:  # zlib.error: corrupt deflate data
                raise IngestError(path, f"is not a readable gzip file ({error})") from None
        kind = _kind_of(inner, path)
        return FileKind(format=kind, gzip=True)
    return FileKind(format=_kind_of(head, path))


def _kind_of(head: bytes, path: Path) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx" if _is_xlsx(path) else "zip"
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        raise IngestError(path, "the file is empty", hint="export it again with a header and rows")
    if b"\x00" in head[:8192] or _looks_binary(head):
        raise IngestError(
            path, "is a binary file, not CSV, Excel (.xlsx), Parquet or JSON Lines",
            hint="export the data as CSV or .xlsx",
        )
    return "jsonl" if text.startswith(b"{") else "csv"


def _looks_binary(head: bytes) -> bool:
    control = sum(1 for byte in head[:8192] if byte < 9 or 13 < byte < 32)
    return control > len(head[:8192]) * 0.05


def _is_xlsx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.startswith("xl/") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def detect_encoding(path: Path, gzipped: bool, declared: str = "auto") -> str:
    """UTF-8 if the whole file decodes as UTF-8; else latin-1 when no cp1252-only byte occurs, else cp1252.

    The whole file is scanned in large blocks (fast: bytes.decode and a byte-class regex run in C), because an
    accented name on line nine million is as real as one on line two.
    """
    if declared != "auto":
        return declared
    opener = gzip.open if gzipped else open
    decoder = _utf8_decoder()
    cp1252_only = False
    with opener(path, "rb") as stream:
        while block := stream.read(16 * 1024 * 1024):
            if decoder is not None:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    decoder = None
            if not cp1252_only and CP1252_ONLY.search(block):
                cp1252_only = True
            if decoder is None and cp1252_only:
                break
    if decoder is not None:
        return "utf-8"
    return "cp1252" if cp1252_only else "latin-1"


def quick_encoding(path: Path, gzipped: bool) -> str:
    """UTF-8 when the first block decodes as UTF-8 (DuckDB then flags any later bad byte); else scan it all."""
    block = 1024 * 1024
    with (gzip.open if gzipped else open)(path, "rb") as stream:
        head = stream.read(block)
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        if len(head) == block and error.start >= len(head) - 4:  # a character cut by the block, not a bad byte
            return "utf-8"
    return detect_encoding(path, gzipped, "auto")


def _utf8_decoder():
    import codecs

    return codecs.getincrementaldecoder("utf-8")()


def read_text_sample(path: Path, gzipped: bool, encoding: str) -> str:
    """The first lines of a text file, decoded, for dialect and header sniffing."""
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as stream:
        raw = stream.read(SAMPLE_BYTES)
    text = raw.decode("utf-8-sig" if encoding == "utf-8" else encoding, errors="replace")
    if len(raw) == SAMPLE_BYTES and "\n" in text:
        text = text[: text.rfind("\n")]
    return text


def sniff_dialect(path: Path, text: str, header_score) -> Dialect:
    """Pick the delimiter and the header line (the first of the top lines that best matches the table)."""
    lines = text.splitlines()[:400]
    delimiter = _best_delimiter(lines)
    rows = list(csv.reader(io.StringIO("\n".join(lines[:30])), delimiter=delimiter))
    best_index, best_score = 0, -1
    for index, fields in enumerate(rows[:20]):
        score = header_score(tuple(fields))
        if score > best_score:
            best_index, best_score = index, score
    if not rows:
        raise IngestError(path, "the file has no header line")
    header = tuple(f.strip() for f in rows[best_index])
    skip = _physical_line_of_row(lines, delimiter, best_index)
    return Dialect(delimiter=delimiter, skip_lines=skip, header=header)


def _physical_line_of_row(lines: list[str], delimiter: str, row_index: int) -> int:
    """Index of the physical line where csv row `row_index` starts (blank lines are not csv rows)."""
    reader = csv.reader(iter(lines), delimiter=delimiter)
    starts = []
    while True:
        start = reader.line_num
        try:
            next(reader)
        except (StopIteration, csv.Error):
            break
        starts.append(start)
    non_blank = [s for s, line in zip(range(len(lines)), lines, strict=False) if line.strip()]
    if row_index < len(starts):
        start = starts[row_index]
        while start < len(lines) and not lines[start].strip():
            start += 1
        return start
    return non_blank[0] if non_blank else 0


def _best_delimiter(lines: list[str]) -> str:
    candidates = [line for line in lines if line.strip()][:60]
    best, best_key = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(iter(candidates), delimiter=delimiter)]
        except csv.Error:
            continue
        if not counts or max(counts) < 2:
            continue
        usual = max(set(counts), key=counts.count)
        key = (counts.count(usual) / len(counts), usual)
        if key > best_key:
            best, best_key = delimiter, key
    return best


def infer_table(path: Path) -> str:
    """The contract table a file name points at (`vendas_2025.csv` -> sales), or a clear error."""
    stem = path.name
    for suffix in (".gz", ".zip", ".csv", ".txt", ".tsv", ".xlsx", ".parquet", ".jsonl", ".json", ".ndjson"):
        stem = stem.removesuffix(suffix)
    tokens = [t for t in re.split(r"[_\W\d]+", normalize_name(stem)) if t]
    for start in range(len(tokens)):
        for width in (3, 2, 1):
            if start + width > len(tokens):
                continue
            candidate = "_".join(tokens[start : start + width])
            found = {name for name, t in TABLES.items() if candidate in t.file_aliases}
            if len(found) == 1:
                return found.pop()
            if len(found) > 1:
                raise IngestError(
                    path, f"the name could mean any of the tables {sorted(found)}", hint="pass --table"
                )
    raise IngestError(
        path,
        "cannot tell which table this file is from its name",
        hint=f"pass --table with one of: {', '.join(TABLES)} (or name the file e.g. vendas_2025.csv)",
    )
