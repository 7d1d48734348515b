"""Deadlines in working days follow Vietnam's calendar: weekends, public holidays, moved days off."""

from datetime import UTC, datetime, timedelta

from service.workdays import VIETNAM_TZ, add_days, is_working_day


def test_tet_holidays_are_skipped():
    # Tết Bính Ngọ: Monday 16 to Friday 20 February 2026 off, so the next working day after Friday 13 is the 23rd
    friday = datetime(2026, 2, 13, 10, tzinfo=VIETNAM_TZ)
    assert add_days(friday, 1, working_days=True) == datetime(2026, 2, 23, 10, tzinfo=VIETNAM_TZ)


def test_a_saturday_worked_to_make_up_for_a_moved_day_off_counts():
    # 2 May 2025 was given off in exchange for working Saturday 26 April
    assert is_working_day(datetime(2025, 4, 26, 9, tzinfo=VIETNAM_TZ))
    assert not is_working_day(datetime(2025, 5, 2, 9, tzinfo=VIETNAM_TZ))
    friday = datetime(2025, 4, 25, 9, tzinfo=VIETNAM_TZ)
    assert add_days(friday, 1, working_days=True) == datetime(2025, 4, 26, 9, tzinfo=VIETNAM_TZ)


def test_days_are_counted_in_vietnam_time_and_returned_in_the_callers_zone():
    # 17:30 UTC on Friday is 00:30 on Saturday in Vietnam: the first working day after it is Monday 23,
    # 00:30 Vietnam time, which is Sunday 22 at 17:30 UTC (counting in UTC would give Monday 17:30 UTC)
    received = datetime(2026, 11, 20, 17, 30, tzinfo=UTC)
    due = add_days(received, 1, working_days=True)
    assert due == datetime(2026, 11, 22, 17, 30, tzinfo=UTC) and due.tzinfo is UTC


def test_calendar_days_ignore_the_calendar():
    start = datetime(2026, 2, 13, 10, tzinfo=VIETNAM_TZ)
    assert add_days(start, 10, working_days=False) == start + timedelta(days=10)
