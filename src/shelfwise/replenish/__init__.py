"""Replenishment: how much each store should order of each product, and the purchase proposals that follow.

`plan_replenishment` turns the demand forecast and the stock snapshot into the `replenishment` table with a
periodic-review order-up-to policy (formulas in `shelfwise.replenish.policy`); `purchase_proposals`,
`write_proposals_xlsx` and `email_draft` turn that table into the buyer's per-supplier workbook and pt-BR
e-mail drafts. Pure functions over pandas frames: reading the warehouse and writing the table is the caller's.
"""

from shelfwise.replenish.policy import (
    REASONS,
    REPLENISHMENT_COLUMNS,
    UNKNOWN_SUPPLIER,
    ReplenishmentResult,
    plan_replenishment,
)
from shelfwise.replenish.proposals import (
    PROPOSAL_COLUMNS,
    email_draft,
    format_brl,
    purchase_proposals,
    write_proposals_xlsx,
)

__all__ = [
    "PROPOSAL_COLUMNS",
    "REASONS",
    "REPLENISHMENT_COLUMNS",
    "UNKNOWN_SUPPLIER",
    "ReplenishmentResult",
    "email_draft",
    "format_brl",
    "plan_replenishment",
    "purchase_proposals",
    "write_proposals_xlsx",
]
