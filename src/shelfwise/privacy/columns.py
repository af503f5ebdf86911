"""How a personal column's value is written: free text masked, identifiers as pseudonyms, birth dates as age bands.

Pure SQL text, shared by the parse (masking happens before any row is written anywhere) and the writers of the
warehouse tables, so that there is one definition of what the warehouse may hold.
"""

from __future__ import annotations

from collections.abc import Callable

from shelfwise.privacy.detect import mask_sql
from shelfwise.privacy.pseudonyms import age_band_sql, customer_id_sql, pseudonym_sql
from shelfwise.schema import Column, Table, Treatment

_DERIVED: dict[str, tuple[str, Callable[[str], str]]] = {"age_band": ("birth_date", age_band_sql)}
"""Derived column -> (the personal column it is computed from, how)."""


def masked_sql(column: Column, value: str) -> str:
    """The parsed value as it may be kept anywhere: free text with its personal data masked, anything else as is."""
    if column.personal and column.personal.treatment == Treatment.MASKED:
        return mask_sql(value)
    return value


def stored_sql(column: Column, value: str) -> str:
    """The value as the warehouse stores it: the pseudonym of a personal identifier, else the value."""
    if column.name == "customer_id":
        return customer_id_sql(value)
    if column.personal and column.personal.treatment != Treatment.MASKED:
        return pseudonym_sql(column.personal.identifier, value)
    return value


def stored_select(table: Table, value_of: Callable[[str], str]) -> str:
    """SELECT list of a table's stored columns, from `value_of(column name)`: the SQL of its parsed value."""
    parts = [stored_sql(c, value_of(c.name)) for c in table.columns]
    for derived in table.derived:
        source, compute = _DERIVED[derived.name]
        parts.append(compute(value_of(source)))
    return ", ".join(parts)


def stored_names(table: Table) -> str:
    """The column list of a table's stored columns, in `stored_select` order."""
    return ", ".join(f'"{c.name}"' for c in table.stored_columns)
