"""Why planning refuses a history or a plan."""

from __future__ import annotations

from shelfwise.promo.planning.texts import _text


class PlanError(ValueError):
    """A plan or history the model cannot use; the message says what is wrong and what to do."""


class NotEnoughHistory(PlanError):
    """Too few usable campaigns to learn lift from; `found` and `needed` let the caller say it in its language."""

    def __init__(self, found: int, needed: int) -> None:
        self.found, self.needed = found, needed
        super().__init__(self.message("en"))

    def message(self, language: str) -> str:
        """The refusal in `language` (English when unknown)."""
        return _text("not_enough_history", language, found=self.found, needed=self.needed)
