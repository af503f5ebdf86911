"""Campaign planning: what a planned promotion should bring, read from the campaigns already measured, and how sure.

`model` fits the lift model on the measured cells and checks it by leaving one campaign out; `design` turns cells
into its columns; `prediction` predicts a plan's cells and simulates its totals; `support` says how much of the
history looks like the plan; `texts` puts it in Portuguese or English.
"""

from shelfwise.promo.planning.design import FIXED_TERMS, TYPE_LEVELS, TYPES, black_friday
from shelfwise.promo.planning.errors import NotEnoughHistory, PlanError
from shelfwise.promo.planning.model import (
    HISTORY_COLUMNS,
    LOCO_COLUMNS,
    VARIANCES,
    LiftModel,
    LocoCheck,
    PlanSettings,
    fit_lift_model,
)
from shelfwise.promo.planning.prediction import PLAN_COLUMNS, PREDICTION_COLUMNS, plan_summary, predict_plan
from shelfwise.promo.planning.support import history_support
from shelfwise.promo.planning.texts import TEXTS, describe

__all__ = [
    "FIXED_TERMS",
    "HISTORY_COLUMNS",
    "LOCO_COLUMNS",
    "PLAN_COLUMNS",
    "PREDICTION_COLUMNS",
    "TEXTS",
    "TYPES",
    "TYPE_LEVELS",
    "VARIANCES",
    "LiftModel",
    "LocoCheck",
    "NotEnoughHistory",
    "PlanError",
    "PlanSettings",
    "black_friday",
    "describe",
    "fit_lift_model",
    "history_support",
    "plan_summary",
    "predict_plan",
]
