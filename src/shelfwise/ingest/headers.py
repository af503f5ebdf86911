"""Match a file's headers to the contract's columns: an explicit mapping file first, then the aliases.

A mapping file (YAML or TOML) may say:

    table: sales
    encoding: cp1252            # optional; default: detected
    columns:                    # canonical name -> the file's header
      units: Qtd Vendida
      date: Dt Movto

Anything ambiguous (two headers for one column) or missing (a required column) is an error that names the
headers found and the ones expected; it is never guessed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from shelfwise.ingest.errors import IngestError
from shelfwise.schema import Table, normalize_name


@dataclass(frozen=True)
class Mapping:
    """What a mapping file declares for a source."""

    table: str | None = None
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)


def read_mapping(path: Path | None) -> Mapping:
    """Parse a YAML or TOML mapping file; `None` gives an empty mapping."""
    if path is None:
        return Mapping()
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise IngestError(path, f"is not a readable mapping file ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("columns", {}), dict):
        raise IngestError(path, "a mapping file needs a 'columns:' section of canonical_name: header")
    unknown = set(data) - {"table", "encoding", "columns"}
    if unknown:
        raise IngestError(path, f"unknown keys {sorted(unknown)}; expected table, encoding, columns")
    return Mapping(
        table=data.get("table"),
        encoding=data.get("encoding"),
        columns={str(k): str(v) for k, v in (data.get("columns") or {}).items()},
    )


def header_score(table: Table, header: tuple[str, ...]) -> int:
    """How many of the table's columns these header fields name (used to find the header line)."""
    return len({_alias_index(table).get(normalize_name(h)) for h in header} - {None})


def _alias_index(table: Table) -> dict[str, str]:
    return {normalize_name(alias): column.name for column in table.columns for alias in column.aliases}


def map_headers(file: Path, table: Table, header: tuple[str, ...], mapping: Mapping) -> dict[str, int]:
    """Canonical column -> index of the header field that holds it."""
    unknown = set(mapping.columns) - set(table.column_names)
    if unknown:
        raise IngestError(
            file, f"the mapping names unknown {table.name} column(s) {sorted(unknown)}",
            hint=f"expected: {', '.join(table.column_names)}",
        )
    positions: dict[str, int] = {}
    for canonical, wanted in mapping.columns.items():
        matches = [i for i, h in enumerate(header) if normalize_name(h) == normalize_name(wanted)]
        if not matches:
            raise IngestError(
                file, f"the mapping says '{canonical}' is in column '{wanted}', which is not in the header",
                column=wanted, hint=f"headers found: {', '.join(header)}",
            )
        positions[canonical] = matches[0]
    aliases = _alias_index(table)
    claimed: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        canonical = aliases.get(normalize_name(name))
        if canonical and canonical not in positions and index not in positions.values():
            claimed.setdefault(canonical, []).append(index)
    for canonical, indexes in claimed.items():
        if len(indexes) > 1:
            both = " and ".join(f"'{header[i]}'" for i in indexes)
            raise IngestError(
                file, f"headers {both} both match the column '{canonical}'",
                column=header[indexes[1]],
                hint=f"keep one, or pass --mapping with columns: {{{canonical}: <header>}}",
            )
        positions[canonical] = indexes[0]
    missing = [name for name in table.required if name not in positions and name not in table.defaults]
    if missing:
        expected = "; ".join(f"{m}: {', '.join(table.column(m).aliases)}" for m in missing)
        raise IngestError(
            file, f"required column(s) {missing} not found for table '{table.name}'",
            hint=f"headers found: {', '.join(header) or '(none)'}; expected one of — {expected}; "
            "or pass --mapping to map them",
        )
    return positions
