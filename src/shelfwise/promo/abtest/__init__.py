"""A/B tests of store- or customer-level experiments: the effect, its intervals, P(better), CUPED and sample size.

`analysis` reads one experiment four ways side by side (Welch, bootstrap, Bayes, CUPED), `results` holds what it
found and its table form, `texts` says it in Portuguese or English, `sizing` plans the next experiment, and
`units_file` reads the units from a user's CSV.
"""

from shelfwise.promo.abtest.analysis import analyse_experiment
from shelfwise.promo.abtest.results import TABLE_COLUMNS, Cuped, Estimate, ExperimentResult, result_table
from shelfwise.promo.abtest.sizing import SampleSize, power, sample_size
from shelfwise.promo.abtest.texts import TEXTS, describe
from shelfwise.promo.abtest.units_file import UnitsFileError, read_units_csv

__all__ = [
    "TABLE_COLUMNS",
    "TEXTS",
    "Cuped",
    "Estimate",
    "ExperimentResult",
    "SampleSize",
    "UnitsFileError",
    "analyse_experiment",
    "describe",
    "power",
    "read_units_csv",
    "result_table",
    "sample_size",
]

BOOT_BUDGET = 200_000_000
"""Most values drawn by the bootstrap; past it the replicates are cut (to no fewer than MIN_BOOT) and warned about.

Set here rather than beside `analysis.MIN_BOOT`, and read by `analysis` at call time, so that `abtest.BOOT_BUDGET`
stays the one knob a caller (or a test) lowers.
"""
