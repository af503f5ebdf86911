"""Finding a person's identifiers in text and files, and taking them out.

An erasure must leave no byte of the person in the workspace: not in the landing copies of the exports, the
truth files of the demo, exported tables or earlier access-request answers. `Mentions` matches a person's CPF,
phone (whatever the punctuation), e-mail (any case) and name (any case, with or without accents); `scrub_files`
walks every file of the workspace except the databases (which are compacted instead), the key and the audit log:

- CSV and other line files (also gzipped) lose the records that mention the person, a record being the lines up to
  a balanced quote, so a quoted multi-line comment goes whole and the file stays readable;
- Parquet and Excel files lose the rows that mention the person;
- anything else that mentions the person (JSON, HTML, PDF...) is deleted, since cutting it would leave it broken.

The regular expressions are Python's (they need look-behind), used only on text already read into Python.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ERASED = "[removido]"
_ACCENTS = {"a": "aáàâãä", "e": "eéèêë", "i": "iíìîï", "o": "oóòôõö", "u": "uúùûü", "c": "cç", "n": "nñ"}
_LINE_SUFFIXES = (".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".log")
_TABLE_SUFFIXES = (".parquet", ".xlsx")


def fold(text: str) -> str:
    """Lower case without accents."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _digits_pattern(digits: str) -> str:
    """The digits with any punctuation between them, and the leading zeros a spreadsheet may have dropped."""
    significant = digits.lstrip("0") or "0"
    return r"(?<!\d)(?:0[\s.\-/()]*)*" + r"[\s.\-/()]*".join(significant) + r"(?!\d)"


def _name_pattern(name: str) -> str:
    tokens = fold(name).split()
    letters = ["".join(f"[{_ACCENTS[ch]}]" if ch in _ACCENTS else re.escape(ch) for ch in token) for token in tokens]
    return r"(?<!\w)" + r"\s+".join(letters) + r"(?!\w)"


_SEPARATORS = str.maketrans("", "", " .-/()\t\r\n")


def _ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


@dataclass(frozen=True)
class Mentions:
    """A person's identifiers as one pattern that finds them however they are written.

    The pattern needs look-behinds and alternation, which Python scans at a few MB/s; `might_be_in` first asks
    cheaper questions that every match also answers yes to (the digits with separators removed, the e-mail in lower
    case, the name's words without accents), so the pattern only runs on text that could hold the person.
    """

    pattern: re.Pattern[str] | None
    digits: tuple[str, ...] = ()
    literals: tuple[str, ...] = ()
    names: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def of(cls, *, documents: Iterable[str] = (), phones: Iterable[str] = (), emails: Iterable[str] = (),
           names: Iterable[str] = (), ids: Iterable[str] = ()) -> Mentions:
        """Documents and phones as digit strings (national phone number, no country code).

        `ids` (customer ids) are matched only as whole JSON strings (`"0001003"`): a short number is everywhere in
        a CSV, so ids serve to find sealed rejected rows, never to cut files.
        """
        parts = [_digits_pattern(d) for d in documents if d and len(d) >= 8]
        parts += [r"(?:\+?55[\s.\-]*|0)?\(?" + _digits_pattern(p) for p in phones if p and len(p) >= 8]
        parts += [r"(?<![\w.+-])" + re.escape(e) + r"(?![\w-])" for e in emails if e]
        parts += [_name_pattern(n) for n in names if n and len(fold(n).split()) >= 2]
        parts += ['"' + re.escape(i) + '"' for i in ids if i]
        unique = sorted(set(parts), key=len, reverse=True)
        return cls(
            re.compile("|".join(unique), re.IGNORECASE) if unique else None,
            digits=tuple(d.lstrip("0") for d in (*documents, *phones) if d and len(d) >= 8),
            literals=tuple(v.lower() for v in (*emails, *(f'"{i}"' for i in ids)) if v),
            names=tuple(tuple(_ascii_fold(n).split()) for n in names if n and len(fold(n).split()) >= 2),
        )

    def might_be_in(self, text: str) -> bool:
        """False only when the text surely does not mention the person."""
        if self.digits:
            stripped = text.translate(_SEPARATORS)
            if any(d in stripped for d in self.digits):
                return True
        lowered = text.lower()
        if any(v in lowered for v in self.literals):
            return True
        if self.names:
            folded = _ascii_fold(text)
            return any(all(word in folded for word in name) for name in self.names)
        return False

    def found(self, text: str) -> bool:
        """Whether the text mentions the person."""
        return bool(self.pattern and self.pattern.search(text))

    def redact(self, text: str) -> str:
        """The text with every mention replaced."""
        return self.pattern.sub(ERASED, text) if self.pattern else text


@dataclass(frozen=True)
class ScrubbedFile:
    """What the scrub did to one file."""

    path: str
    action: str  # "records removed" | "deleted"
    records: int = 0


def scrub_files(root: Path, mentions: Mentions, skip: set[Path]) -> list[ScrubbedFile]:
    """Take the person out of every file under `root` except `skip`; what was done, file by file."""
    if mentions.pattern is None:
        return []
    done = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.resolve() in skip or any(part == ".tmp" for part in path.relative_to(root).parts):
            continue
        result = _scrub_file(path, mentions)
        shown = mentions.redact(str(path.relative_to(root)))
        if path.exists() and shown != str(path.relative_to(root)):
            path.rename(root / shown)
            result = result or ("renamed", 0)
        if result:
            done.append(ScrubbedFile(shown, *result))
    return done


def _scrub_file(path: Path, mentions: Mentions) -> tuple[str, int] | None:
    data = path.read_bytes()
    gzipped = data[:2] == b"\x1f\x8b"
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(_LINE_SUFFIXES):
        plain = gzip.decompress(data) if gzipped else data
        text, encoding = _decode(plain)
        if not mentions.might_be_in(text) or not mentions.found(text):  # most files never mention the person
            return None
        kept, removed = _without_mentions(text, mentions, quoted=not name.endswith((".jsonl", ".ndjson", ".log")))
        if not removed:
            return None
        encoded = kept.encode(encoding)
        path.write_bytes(gzip.compress(encoded) if gzipped else encoded)
        return "records removed", removed
    if name.endswith(_TABLE_SUFFIXES):
        removed = _scrub_table(path, mentions)
        return ("records removed", removed) if removed else None
    text, _ = _decode(gzip.decompress(data) if gzipped else data)
    if mentions.found(text) or mentions.found(data.decode("latin-1")):
        path.unlink()
        return "deleted", 0
    return None


def _decode(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="surrogateescape"), "cp1252"


def _records(text: str, quoted: bool) -> list[str]:
    """Physical lines grouped into records: a record ends where its double quotes are balanced."""
    lines = text.splitlines(keepends=True)
    if not quoted:
        return lines
    records, current, quotes = [], [], 0
    for line in lines:
        current.append(line)
        quotes += line.count('"')
        if quotes % 2 == 0:
            records.append("".join(current))
            current, quotes = [], 0
    if current:
        records.append("".join(current))
    return records


def _without_mentions(text: str, mentions: Mentions, *, quoted: bool) -> tuple[str, int]:
    records = _records(text, quoted)
    kept = [r for r in records if not mentions.found(r)]
    return "".join(kept), len(records) - len(kept)


def _scrub_table(path: Path, mentions: Mentions) -> int:
    import pandas as pd

    excel = path.suffix.lower() == ".xlsx"
    if excel:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="calamine")
    else:
        sheets = {"": pd.read_parquet(path)}
    removed = 0
    for sheet, frame in sheets.items():
        whole = frame.to_csv(sep="|", index=False)
        if not mentions.might_be_in(whole) or not mentions.found(whole):  # rows only when it mentions them
            continue
        hit = [mentions.found(" | ".join(map(str, row))) for row in frame.itertuples(index=False)]
        removed += sum(hit)
        sheets[sheet] = frame[[not h for h in hit]]
    if not removed:
        return 0
    if excel:
        with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
            for sheet, frame in sheets.items():
                frame.to_excel(writer, sheet_name=sheet, index=False)
    else:
        sheets[""].to_parquet(path, index=False)
    return removed
