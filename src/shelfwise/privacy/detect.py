r"""Personal data written inside free text: CPFs, CNPJs, e-mail addresses and Brazilian phone numbers, masked.

Reviews, SAC messages and survey answers are kept for analysis, but a customer who types their CPF or phone into a
comment has put personal data where no column treatment reaches it. The text is masked in two places that must
agree character for character: set-based in DuckDB during ingestion (`mask_sql`, millions of rows) and in Python
for single messages (`mask_text`, the outbound guard, quarantine reasons). Both apply the one table `PATTERNS`, so
the patterns are written in the subset where RE2 (DuckDB) and Python's `re` (compiled with `re.ASCII`) mean the
same thing: no look-around or back-references, no `\s`, `\w`, `.` or `$` (Python's `$` also matches before a final
newline, RE2's does not), explicit case in character classes instead of `(?i)` (RE2 folds `k` to the Kelvin sign).

Each pattern is `(lead)(value)(trail)` and the replacement keeps the lead and trail around the mask. Numbers need
a digit boundary on both sides, which RE2 can only give by consuming: the lead is the start of the text or any
non-digit (so `CPF84316236598` is caught), the trail is `\b` or one letter (so `84316236598abc` is too). A number
glued to more digits is therefore not a match at all, rather than a match that leaves most of the digits
visible. The one miss this leaves is two numbers separated by a single letter (`84316236598x11997054423`): the
letter ends the first match and cannot also begin the second.

Decisions on ambiguous shapes, chosen to mask on the safe side without mangling ordinary retail text:

- Any 11 bare digits are masked. Those shaped like a mobile with area code (`[1-9][1-9]9` + 8 digits) are counted
  as phones, the rest as CPFs; written with separators, 3-3-3-2 is always a CPF.
- Any 14 bare digits are a CNPJ (a DUN-14 box code looks the same and is masked too). The alphanumeric CNPJ of
  2026 is caught when written with its punctuation (`12.ABC.345/01DE-35`).
- Bare digit runs are phones only in a phone's shape: 8 digits starting 2-5 (landline), 9 starting 9 (mobile),
  either after a two-digit area code, optionally after 55. A 13-digit EAN is left alone: it is a phone only if it
  is 55 + area + mobile, and Brazilian EANs start with 789 or 790. An 8-digit run starting 2-5 (an EAN-8, a
  CEP, a date written `25082025`) is masked as a phone, as is a year range `2024-2025`, which has a landline's
  shape. Eight digits starting 6-9 are a phone only written `8765-4321` (mobiles before the ninth digit).
- Prices (`R$ 1.234,56`), dates (`12/08/2025`), times, quantities, percentages and order numbers up to 7 digits
  never match: every number pattern needs at least 8 digits in one of the shapes above.
"""

from __future__ import annotations

import re

_LEAD = "(^|[^0-9])"
_TRAIL = r"(\b|[A-Za-z_])"
_LETTER = "À-ÖØ-öø-ÿ"  # the accented letters of Latin-1, for addresses like joão@exemplo.com.br
_EMAIL = (
    rf"[A-Za-z0-9._%+\-{_LETTER}]+@[A-Za-z0-9\-{_LETTER}]+(?:\.[A-Za-z0-9\-{_LETTER}]+)*\.[A-Za-z]{{2,}}"
)
_CNPJ = (
    r"[0-9]{2}[. ]?[0-9]{3}[. ]?[0-9]{3}[/ ]?[0-9]{4}[-. ]?[0-9]{2}"
    r"|[0-9A-Z]{2}\.[0-9A-Z]{3}\.[0-9A-Z]{3}/[0-9A-Z]{4}-[0-9]{2}"
)
_CPF = (
    r"[0-9]{3}[-. ][0-9]{3}[-. ]?[0-9]{3}[-. ]?[0-9]{2}"
    r"|[0-9]{6}[-. ][0-9]{3}[-. ]?[0-9]{2}"
    r"|[0-9]{9}[-. ][0-9]{2}"
    r"|(?:0[0-9]|[1-9]0)[0-9]{9}|[1-9]{2}[0-8][0-9]{8}"
)
_AREA = "(?:0(?:[xX]{2})?)?[1-9]{2}"
_PHONE = (
    r"(?:\+ ?55[ .-]?|55[ .-]?)?"
    rf"(?:(?:\({_AREA}\)|{_AREA})[ .-]?)?"
    r"(?:9[ .]?[0-9]{4}[-. ]?[0-9]{4}|[2-5][0-9]{3}[-. ]?[0-9]{4}|[6-9][0-9]{3}-[0-9]{4})"
)

PATTERNS: tuple[tuple[str, str], ...] = (
    ("email", f"()({_EMAIL})()"),
    ("cnpj", f"{_LEAD}({_CNPJ}){_TRAIL}"),
    ("cpf", f"{_LEAD}({_CPF}){_TRAIL}"),
    ("phone", f"{_LEAD}({_PHONE}){_TRAIL}"),
)
"""(kind, pattern) in the order they are applied; group 2 of each is the personal value."""

MASKS: dict[str, str] = {"email": "[e-mail]", "cnpj": "[CNPJ]", "cpf": "[CPF]", "phone": "[telefone]"}

_COMPILED = tuple((kind, re.compile(pattern, re.ASCII)) for kind, pattern in PATTERNS)


def _replacement(kind: str) -> str:
    r"""The rewrite for a match, in the `\1` syntax Python and RE2 share: the lead, the mask, the trail."""
    return rf"\1{MASKS[kind]}\3"


def mask_text(text: str) -> tuple[str, dict[str, int]]:
    """The text with its personal data masked, and how many values of each kind were masked."""
    counts: dict[str, int] = {}
    for kind, pattern in _COMPILED:
        text, counts[kind] = pattern.subn(_replacement(kind), text)
    return text, counts


def mask_sql(expression: str) -> str:
    """SQL for the masked value of a VARCHAR expression (NULL stays NULL), the same text `mask_text` gives."""
    masked = expression
    for kind, pattern in PATTERNS:
        masked = f"regexp_replace({masked}, {_literal(pattern)}, {_literal(_replacement(kind))}, 'g')"
    return masked


def find_personal(text: str) -> list[tuple[str, str]]:
    """(kind, value as written) for every value `mask_text` would mask, kind by kind in the order applied."""
    found = []
    for kind, pattern in _COMPILED:
        found.extend((kind, match.group(2)) for match in pattern.finditer(text))
        text = pattern.sub(_replacement(kind), text)
    return found


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
