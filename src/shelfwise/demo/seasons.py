"""The retail calendar of São Paulo that shapes expected demand: week, year, holidays and peak events.

Each effect is a multiplicative factor per (day, product) so the planted truth can be explained factor by
factor, and a forecaster's holiday features can be checked against the same `holidays` calendar.
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import numpy as np
import pandas as pd

from shelfwise.demo.catalog import WEEKLY

CLOSED_DAYS = ((12, 25), (1, 1))
"""(month, day) on which every store of the chain is closed: no sales rows at all."""

_PEAK_CATEGORIES = frozenset({"mercearia", "bebidas", "limpeza", "higiene", "bazar"})
_PARTY_CATEGORIES = frozenset({"bebidas", "frios"})


def black_friday(year: int) -> date:
    """The day after the fourth Thursday of November, as Brazilian retail copied it from the US."""
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 22)


def holiday_calendar(days: pd.DatetimeIndex) -> pd.DataFrame:
    """Public holidays of Brazil and São Paulo state (plus Carnival) with the demo's own retail events."""
    years = range(days[0].year, days[-1].year + 1)
    public = holidays.Brazil(subdiv="SP", years=years, language="pt_BR")
    optional = holidays.Brazil(subdiv="SP", years=years, categories=("optional",), language="pt_BR")
    rows = [(pd.Timestamp(d), name, "public") for d, name in public.items()]
    rows += [(pd.Timestamp(d), name, "carnival") for d, name in optional.items() if "Carnaval" in name]
    rows += [(pd.Timestamp(black_friday(y)), "Black Friday", "black_friday") for y in years]
    frame = pd.DataFrame(rows, columns=["date", "name", "kind"])
    frame = frame[(frame["date"] >= days[0]) & (frame["date"] <= days[-1])]
    return frame.sort_values(["date", "kind"]).reset_index(drop=True)


def closed_mask(days: pd.DatetimeIndex) -> np.ndarray:
    """True on the days every store is closed."""
    mask = np.zeros(len(days), dtype=bool)
    for month, day in CLOSED_DAYS:
        mask |= (days.month == month) & (days.day == day)
    return mask


def weekly_factor(days: pd.DatetimeIndex, categories: np.ndarray) -> np.ndarray:
    """(D, P) weekday profile, normalised to mean 1 so the base level keeps its meaning."""
    out = np.empty((len(days), len(categories)))
    dow = days.day_of_week.to_numpy()
    for cat in np.unique(categories):
        profile = np.asarray(WEEKLY.get(cat, WEEKLY["default"]))
        out[:, categories == cat] = (profile / profile.mean())[dow][:, None]
    return out


def _days_to(days: pd.DatetimeIndex, month: int, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Days until the next (month, day) and since the previous one, for windows around yearly dates."""
    day_numbers = days.to_numpy(dtype="datetime64[D]").astype(np.int64)
    anchors = np.array([np.datetime64(date(y, month, day)) for y in range(days[0].year - 1,
                        days[-1].year + 2)]).astype(np.int64)
    nxt = anchors[np.searchsorted(anchors, day_numbers, side="left")] - day_numbers
    prv = day_numbers - anchors[np.searchsorted(anchors, day_numbers, side="left") - 1]
    return nxt, prv


def _easter_distance(days: pd.DatetimeIndex) -> np.ndarray:
    """Days until Easter Sunday (negative after it), from the holidays package's Good Friday."""
    years = range(days[0].year - 1, days[-1].year + 2)
    fridays = holidays.Brazil(years=years)
    easters = sorted(d + timedelta(days=2) for d, name in fridays.items() if name == "Good Friday")
    anchors = np.array([np.datetime64(d) for d in easters]).astype(np.int64)
    day_numbers = days.to_numpy(dtype="datetime64[D]").astype(np.int64)
    idx = np.clip(np.searchsorted(anchors, day_numbers - 10), 0, len(anchors) - 1)
    return anchors[idx] - day_numbers


def yearly_factor(days: pd.DatetimeIndex, seasons: np.ndarray) -> np.ndarray:
    """(D, P) yearly seasonality: southern summer peaks in January, winter in July, festive windows."""
    doy = days.day_of_year.to_numpy().astype(float)
    summer = np.cos(2 * np.pi * (doy - 15) / 365.25)
    to_xmas, since_xmas = _days_to(days, 12, 25)
    to_easter = _easter_distance(days)
    curves = {
        "none": np.ones(len(days)),
        "summer": 1 + 0.25 * summer,
        "summer_strong": 1 + 0.5 * summer,
        "winter": 1 - 0.2 * summer,
        "june": 1 + 0.9 * np.exp(-(((doy - 168) / 14) ** 2)),
        "christmas": 1 + 1.6 * np.exp(-(((to_xmas - 4) / 10) ** 2)) * (to_xmas <= 40),
        "christmas_only": np.where(to_xmas <= 60, 0.25 + 2.3 * np.exp(-(((to_xmas - 4) / 16) ** 2)),
                                   np.where(since_xmas <= 8, 0.3, 0.0)),
        "easter": 1 + 0.8 * np.exp(-(((to_easter - 2) / 6) ** 2)),
        "easter_only": np.where((to_easter >= 0) & (to_easter <= 40),
                                0.3 + 2.2 * np.exp(-(((to_easter - 3) / 10) ** 2)),
                                np.where((to_easter < 0) & (to_easter >= -5), 0.4, 0.0)),
    }
    return np.stack([curves[s] for s in seasons], axis=1)


def event_factor(days: pd.DatetimeIndex, categories: np.ndarray) -> np.ndarray:
    """(D, P) holiday, eve, Carnival, Black Friday and pre-Christmas effects; zero on closed days."""
    cal = holiday_calendar(days)
    factor = np.ones((len(days), len(categories)))
    party = np.isin(categories, list(_PARTY_CATEGORIES))
    peak = np.isin(categories, list(_PEAK_CATEGORIES))
    index = pd.Series(np.arange(len(days)), index=days)

    def rows(kind: str, shift: int = 0) -> np.ndarray:
        wanted = cal.loc[cal["kind"] == kind, "date"] + pd.Timedelta(days=shift)
        return index.reindex(wanted).dropna().to_numpy(dtype=np.int64)

    eve = rows("public", -1)
    factor[eve] *= np.where(party, 1.3, 1.15)
    factor[rows("public")] *= np.where(party, 1.2, 0.8)
    factor[rows("carnival")] *= np.where(party, 1.3, 0.9)
    factor[rows("black_friday")] *= np.where(peak, 1.7, 1.15)
    for shift in (1, 2):
        factor[rows("black_friday", shift)] *= 1.2
    month, dom = days.month.to_numpy(), days.day.to_numpy()
    pre_xmas = (month == 12) & (dom >= 18) & (dom <= 23)
    factor[pre_xmas] *= (1 + 0.06 * (dom[pre_xmas] - 17))[:, None]
    factor[(month == 12) & (dom == 24)] *= np.where(party, 1.8, 1.5)
    factor[(month == 12) & (dom == 31)] *= np.where(party, 1.7, 1.3)
    factor[closed_mask(days)] = 0.0
    return factor
