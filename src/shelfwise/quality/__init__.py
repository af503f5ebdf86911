"""Declarative data-quality checks over the warehouse's contract tables.

`run_quality` runs every check in `CHECKS`, replaces the run's rows of `quality_issues` and returns the
findings; `summarize` turns them into a short text for the CLI. Each check is a name, a default severity,
a description in Portuguese and English and a small function of set-based DuckDB SQL (see `catalog`).
"""

from shelfwise.quality.catalog import CHECKS
from shelfwise.quality.registry import Check, Context, Finding, Thresholds
from shelfwise.quality.run import run_quality, summarize

__all__ = ["CHECKS", "Check", "Context", "Finding", "Thresholds", "run_quality", "summarize"]
