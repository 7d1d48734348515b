"""Vietnam's working calendar, for the legal deadlines of petitions ("within 10 working days").

Working days are the days Vietnam's public administration works: not weekends, not public holidays (Tết and
its extra days, Hùng Kings, 30/4, 1/5, National Day, and the newer ones such as Vietnam Cultural Day), not
the days off the government moves, and including the Saturdays worked to make up for them. That calendar
changes by decision every year, so it comes from python-holidays' Vietnam calendar, which follows those
decisions, rather than from a table here. Days are counted in Vietnam time: a petition received at 01:00 on
a Saturday in Hà Nội was received on a Saturday, though it is still Friday in UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache

import holidays

#: Naive timestamps are read as Vietnam time (UTC+7, no daylight saving), the zone every intake office works in.
VIETNAM_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
#: Years computed up front: lookups inside them never change the calendar, so threads can share it.
_YEARS = range(2015, 2061)


@lru_cache(maxsize=1)
def vietnam_calendar() -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=_YEARS)


def is_working_day(day: datetime) -> bool:
    """Whether the Vietnam-time date of ``day`` is a working day."""
    local = day.astimezone(VIETNAM_TZ) if day.tzinfo else day
    return vietnam_calendar().is_working_day(local.date())


def add_days(start: datetime, days: int, working_days: bool) -> datetime:
    """``days`` calendar days after ``start``, or ``days`` working days: the same time of day on the
    ``days``-th working day after the day of ``start`` (in Vietnam time), returned in ``start``'s zone."""
    if not working_days:
        return start + timedelta(days=days)
    local = start.astimezone(VIETNAM_TZ) if start.tzinfo else start
    remaining = days
    while remaining > 0:
        local += timedelta(days=1)
        if is_working_day(local):
            remaining -= 1
    return local.astimezone(start.tzinfo) if start.tzinfo else local
