"""Pseudonyms: the keyed hash (see `keys`) of an identifier normalised so that its spellings agree.

`843.162.365-98` and `84316236598` are one CPF, `Ana@X.com ` and `ana@x.com` one e-mail, `+55 (11) 98843-3684` and
`11988433684` one phone, `JOSÉ  da Silva` and `jose da silva` one name. Each kind is prefixed before hashing, so
equal strings of different kinds (a phone and a card token) give different pseudonyms.

The normalisation exists once, in SQL: Python callers (the outbound guard, lookups by a CPF typed on the command
line) run the same SQL on an in-memory DuckDB rather than a second implementation that could drift.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from shelfwise.privacy.keys import Keys

KINDS = ("name", "email", "phone", "document", "date", "token", "customer")


def normalised_sql(kind: str, value: str) -> str:
    """SQL giving the normal form of an identifier of `kind` (NULL when nothing is left of it)."""
    # a number read from a float column arrives as `7186419005.0`: its `.0` is no digit of the identifier
    text = f"regexp_replace(trim(CAST({value} AS VARCHAR)), '\\.0+$', '')"
    digits = f"regexp_replace({text}, '[^0-9]', '', 'g')"
    match kind:
        case "name":
            return f"nullif(trim(regexp_replace(lower(strip_accents({value})), '\\s+', ' ', 'g')), '')"
        case "email":
            return f"nullif(lower(trim({value})), '')"
        case "phone":
            return (f"nullif((SELECT CASE WHEN length(d) >= 12 AND starts_with(d, '55') THEN substr(d, 3) ELSE d END "
                    f"FROM (SELECT ltrim({digits}, '0') AS d)), '')")
        case "document":  # CPF, CNPJ, and the alphanumeric CNPJ of 2026 (12 letters or digits + 2 digits)
            cnpj = "^[0-9A-Z]{2}[.]?[0-9A-Z]{3}[.]?[0-9A-Z]{3}/?[0-9A-Z]{4}-?[0-9]{2}$"
            return (f"(SELECT CASE WHEN regexp_matches(u, '[A-Z]') AND regexp_full_match(u, '{cnpj}') "
                    f"THEN regexp_replace(u, '[^0-9A-Z]', '', 'g') WHEN d = '' THEN NULL "
                    f"WHEN length(d) <= 11 THEN lpad(d, 11, '0') ELSE lpad(d, 14, '0') END "
                    f"FROM (SELECT {digits} AS d, upper({text}) AS u))")
        case "date":
            return f"CAST(CAST({value} AS DATE) AS VARCHAR)"
        case "token" | "customer":
            return f"nullif(trim(CAST({value} AS VARCHAR)), '')"
    raise ValueError(f"unknown identifier kind '{kind}'; expected one of {', '.join(KINDS)}")


def pseudonym_sql(kind: str, value: str) -> str:
    """SQL giving the pseudonym of an identifier (needs `Keys.install` on the connection)."""
    return f"sw_hmac('{kind}:' || {normalised_sql(kind, value)})"


_DOCUMENT_SHAPE = r"^\d{3}[.]?\d{3}[.]?\d{3}-?\d{2}$|^\d{2}[.]?\d{3}[.]?\d{3}/?\d{4}-?\d{2}$"


def customer_id_sql(value: str) -> str:
    """SQL giving a customer id as the warehouse keeps it.

    Brazilian exports often key customers by CPF or e-mail: such an id is kept as the pseudonym of that document
    or address (the one its customer record would get), any other id as it is. Every table applies the same rule,
    so joins hold, and an erasure by CPF or e-mail reaches the rows keyed by it.
    """
    return (f"CASE WHEN regexp_full_match(trim({value}), '{_DOCUMENT_SHAPE}') THEN {pseudonym_sql('document', value)} "
            f"WHEN contains({value}, '@') THEN {pseudonym_sql('email', value)} ELSE {value} END")


def age_band_sql(birth_date: str) -> str:
    """SQL giving the age band of a birth date today: the attribute analytics keeps instead of the date."""
    age = f"date_sub('year', {birth_date}, current_date)"
    bands = [(18, "<18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64")]
    cases = " ".join(f"WHEN {age} < {upper} THEN '{label}'" for upper, label in bands)
    return f"CASE WHEN {birth_date} IS NULL THEN NULL {cases} ELSE '65+' END"


class Pseudonymiser:
    """Pseudonyms computed from Python, by the same SQL the warehouse uses."""

    def __init__(self, keys: Keys) -> None:
        self._con = duckdb.connect()
        keys.install(self._con)

    def __call__(self, kind: str, values: Iterable[str | None]) -> list[str | None]:
        """The pseudonym of each value, in order."""
        given = list(values)
        if not given:
            return []
        rows = self._con.execute(
            f"SELECT {pseudonym_sql(kind, 'v')} FROM (SELECT unnest(?) AS v, generate_subscripts(?, 1) AS i) "
            "ORDER BY i", [given, given],
        ).fetchall()
        return [r[0] for r in rows]

    def one(self, kind: str, value: str) -> str | None:
        """The pseudonym of a single value."""
        return self(kind, [value])[0]

    def customer_id(self, value: str) -> str:
        """A customer id as the warehouse keeps it (see `customer_id_sql`)."""
        return self._con.execute(f"SELECT {customer_id_sql('v')} FROM (SELECT ? AS v)", [value]).fetchone()[0]

    def normalised(self, kind: str, value: str) -> str | None:
        """The normal form of a single value (to search the raw spellings of an identifier)."""
        return self._con.execute(f"SELECT {normalised_sql(kind, 'v')} FROM (SELECT ? AS v)", [value]).fetchone()[0]
