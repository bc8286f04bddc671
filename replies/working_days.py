"""England and Wales working days, calendar-month arithmetic and dates in words; pure, no I/O.

Deadlines (DOMAIN.md section 7), acknowledgements and subject-access due dates all count in these
days, so they are counted once, here.
"""

from __future__ import annotations

import datetime as dt
import functools

import holidays
from dateutil.relativedelta import relativedelta

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@functools.lru_cache(maxsize=32)
def _bank_holidays(year: int) -> dict[dt.date, str]:
    return dict(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(d: dt.date) -> bool:
    """True for Monday to Friday except England and Wales bank holidays."""
    return d.weekday() < 5 and d not in _bank_holidays(d.year)


def next_working_day(d: dt.date) -> dt.date:
    """The first working day after d."""
    d += dt.timedelta(days=1)
    while not is_working_day(d):
        d += dt.timedelta(days=1)
    return d


def previous_working_day(d: dt.date) -> dt.date:
    """The last working day before d."""
    d -= dt.timedelta(days=1)
    while not is_working_day(d):
        d -= dt.timedelta(days=1)
    return d


def add_working_days(d: dt.date, n: int) -> dt.date:
    """The nth working day after d, counting from the day after d (rule 5)."""
    if n < 0:
        raise ValueError(f"add_working_days counts forwards only, got n={n}")
    for _ in range(n):
        d = next_working_day(d)
    return d


def add_months(d: dt.date, n: int) -> dt.date:
    """The same day-number n months later, or that month's last day if it is shorter."""
    return d + relativedelta(months=n)


def long_date(d: dt.date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def weekday_date(d: dt.date) -> str:
    return f"{WEEKDAYS[d.weekday()]} {long_date(d)}"


def why_not_working(d: dt.date) -> str:
    if d.weekday() >= 5:
        return f"a {WEEKDAYS[d.weekday()]}"
    return f"a bank holiday ({_bank_holidays(d.year)[d]})"

