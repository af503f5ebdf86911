"""The one error type ingestion raises: it names the file, and the line and column where it knows them."""

from __future__ import annotations

from pathlib import Path


class IngestError(ValueError):
    """A file that cannot be loaded at all; nothing from it was written.

    Attributes:
        file: the file that failed.
        problem: what is wrong, in words a user can act on.
        line: 1-based line of the file where the problem is, if known.
        column: header of the column concerned, if any.
        hint: how to fix it.
    """

    def __init__(
        self,
        file: Path | str,
        problem: str,
        *,
        line: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = Path(file)
        self.problem = problem
        self.line = line
        self.column = column
        self.hint = hint
        super().__init__(self.describe())

    def describe(self) -> str:
        """`vendas.csv, line 3, column 'qtd': problem — hint`."""
        where = [self.file.name]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        text = f"{', '.join(where)}: {self.problem}"
        return f"{text} — {self.hint}" if self.hint else text
