"""The Brazilian retail dates every capability plans around, computed once.

Holidays come from the `holidays` package and Easter from `dateutil`; Black Friday is no holiday, so it is here.
"""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.easter import easter

__all__ = ["black_friday", "easter"]


def black_friday(year: int) -> date:
    """The day after the fourth Thursday of November."""
    fourth_thursday = date(year, 11, 1) + timedelta(days=(3 - date(year, 11, 1).weekday()) % 7 + 21)
    return fourth_thursday + timedelta(days=1)
