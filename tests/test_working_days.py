"""The working-day calendar against hand-computed dates.

Weekdays used below (worked out from 1 Jan 2026 = Thursday): in 2026, 3 April is a
Friday, 13 April a Monday, 30 April a Thursday, 1 May a Friday, 5 May a Tuesday,
9 May a Saturday, 14 May a Thursday, 25 May a Monday, 28 February a Saturday,
13 November a Friday, 24 December a Thursday, 25 December a Friday. Summer time in
2026 runs from Sunday 29 March to Sunday 25 October.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from handlers.working_days import WorkingDayCalendar, diagram_functions
from webapp.runtime import clock

CAL = WorkingDayCalendar()


# -- holidays ------------------------------------------------------------------------


def test_koningsdag_2025_moves_to_saturday_26_april():
    # 27 April 2025 is a Sunday, so Koningsdag is Saturday 26 April.
    assert CAL.holiday_name(date(2025, 4, 26)) == "Koningsdag"
    assert CAL.holiday_name(date(2025, 4, 27)) is None


def test_koningsdag_2026_is_monday_27_april():
    assert CAL.holiday_name(date(2026, 4, 27)) == "Koningsdag"
    assert not CAL.is_working_day(date(2026, 4, 27))
    assert CAL.is_working_day(date(2026, 4, 28))


def test_bevrijdingsdag_every_year():
    # 2026 and 2027 are not lustrum years; the ATW still names 5 May.
    assert CAL.holiday_name(date(2026, 5, 5)) == "Bevrijdingsdag"
    assert not CAL.is_working_day(date(2026, 5, 5))  # Tuesday
    assert CAL.holiday_name(date(2027, 5, 5)) == "Bevrijdingsdag"  # Wednesday
    assert CAL.holiday_name(date(2025, 5, 5)) == "Bevrijdingsdag"  # lustrum year


def test_bevrijdingsdag_coinciding_with_hemelvaart_keeps_both_names():
    # Easter 2016 was 27 March; Ascension is 39 days later: Thursday 5 May 2016.
    name = CAL.holiday_name(date(2016, 5, 5))
    assert name is not None and "Bevrijdingsdag" in name and "Hemelvaartsdag" in name


def test_easter_ascension_pentecost_christmas_2026():
    # Easter Sunday 2026 is 5 April; Good Friday two days before, Ascension +39,
    # Pentecost +49.
    assert CAL.holiday_name(date(2026, 4, 3)) == "Goede Vrijdag"
    assert CAL.holiday_name(date(2026, 4, 5)) == "Eerste Paasdag"
    assert CAL.holiday_name(date(2026, 4, 6)) == "Tweede Paasdag"
    assert CAL.holiday_name(date(2026, 5, 14)) == "Hemelvaartsdag"
    assert CAL.holiday_name(date(2026, 5, 24)) == "Eerste Pinksterdag"
    assert CAL.holiday_name(date(2026, 5, 25)) == "Tweede Pinksterdag"
    assert CAL.holiday_name(date(2026, 12, 25)) == "Eerste Kerstdag"
    assert CAL.holiday_name(date(2026, 12, 26)) == "Tweede Kerstdag"
    assert CAL.holiday_name(date(2026, 1, 1)) == "Nieuwjaarsdag"


def test_exactly_the_atw_holidays_in_2026():
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]
    found = {d for d in days if CAL.holiday_name(d) is not None}
    assert found == {
        date(2026, 1, 1),
        date(2026, 4, 3),
        date(2026, 4, 5),
        date(2026, 4, 6),
        date(2026, 4, 27),
        date(2026, 5, 5),
        date(2026, 5, 14),
        date(2026, 5, 24),
        date(2026, 5, 25),
        date(2026, 12, 25),
        date(2026, 12, 26),
    }


def test_1_and_4_may_2026_are_ordinary_working_days():
    assert CAL.holiday_name(date(2026, 5, 1)) is None
    assert CAL.is_working_day(date(2026, 5, 1))  # Friday
    assert CAL.is_working_day(date(2026, 5, 4))  # Monday (Dodenherdenking, not a holiday)


def test_weekend_is_statutory_non_working():
    assert CAL.is_statutory_non_working(date(2026, 5, 9))  # Saturday
    assert CAL.is_statutory_non_working(date(2026, 5, 10))  # Sunday
    assert not CAL.is_statutory_non_working(date(2026, 5, 11))  # Monday


# -- working days --------------------------------------------------------------------


def test_three_working_days_after_thursday_30_april_2026():
    # Fri 1 May = 1, Mon 4 May = 2, Tue 5 May is Bevrijdingsdag, Wed 6 May = 3.
    assert CAL.working_days_after(3, "2026-04-30T10:00:00+02:00") == "2026-05-06T23:59:59+02:00"


def test_five_working_days_after_thursday_30_april_2026():
    # 1 May, 4 May, (5 May skipped), 6, 7, 8 May.
    assert CAL.working_days_after(5, "2026-04-30T10:00:00+02:00") == "2026-05-08T23:59:59+02:00"


def test_received_on_saturday_monday_is_working_day_one():
    # Sat 9 May 2026: Mon 11 May is working day 1.
    assert CAL.working_days_after(1, "2026-05-09T14:00:00+02:00") == "2026-05-11T23:59:59+02:00"
    # 11, 12, 13, (Thu 14 May Hemelvaart), 15, Mon 18 May = 5.
    assert CAL.working_days_after(5, "2026-05-09T14:00:00+02:00") == "2026-05-18T23:59:59+02:00"


def test_easter_weekend_is_skipped():
    # Thu 2 April 2026: Good Friday, weekend, Easter Monday, so Tue 7 April = 1.
    assert CAL.working_days_after(1, "2026-04-02T09:00:00+02:00") == "2026-04-07T23:59:59+02:00"


def test_over_christmas_and_new_year_in_winter_time():
    # Thu 24 Dec 2026: 25 (Fri) and 26 (Sat) Kerst, Sun 27; Mon 28 = 1, 29, 30, 31 = 4,
    # Fri 1 Jan 2027 Nieuwjaarsdag, weekend, Mon 4 Jan 2027 = 5.
    assert CAL.working_days_after(5, "2026-12-24T09:00:00+01:00") == "2027-01-04T23:59:59+01:00"


def test_day_of_receipt_is_taken_in_amsterdam():
    # 21:30 UTC on 30 April is 23:30 Thursday in Amsterdam: Fri 1 May = 1.
    assert CAL.working_days_after(1, "2026-04-30T21:30:00Z") == "2026-05-01T23:59:59+02:00"
    # 22:30 UTC is 00:30 Friday 1 May in Amsterdam: Mon 4 May = 1.
    assert CAL.working_days_after(1, "2026-04-30T22:30:00+00:00") == "2026-05-04T23:59:59+02:00"
    # An aware datetime works like the string.
    received = datetime(2026, 4, 30, 22, 30, tzinfo=UTC)
    assert CAL.working_days_after(1, received) == "2026-05-04T23:59:59+02:00"


def test_working_days_between():
    # Thu 30 April to Fri 8 May 2026: 1, 4, 6, 7, 8 May = 5 working days.
    assert CAL.working_days_between("2026-04-30T10:00:00+02:00", "2026-05-08T12:00:00+02:00") == 5
    assert CAL.working_days_between("2026-05-08T12:00:00+02:00", "2026-04-30T10:00:00+02:00") == -5
    assert CAL.working_days_between("2026-05-05T08:00:00+02:00", "2026-05-05T18:00:00+02:00") == 0


# -- weeks, months, days -------------------------------------------------------------


def test_six_weeks_ending_on_tweede_pinksterdag():
    # Mon 13 April 2026 + 42 days = Mon 25 May, Tweede Pinksterdag.
    received = "2026-04-13T11:00:00+02:00"
    assert CAL.weeks_after(6, received) == "2026-05-25T23:59:59+02:00"
    assert CAL.weeks_after(6, received, statutory=True) == "2026-05-26T23:59:59+02:00"


def test_six_weeks_ending_on_christmas_moves_past_the_weekend():
    # Fri 13 Nov 2026 + 42 days = Fri 25 Dec; 26 Dec Saturday, 27 Sunday: Mon 28 Dec.
    received = "2026-11-13T11:00:00+01:00"
    assert CAL.weeks_after(6, received) == "2026-12-25T23:59:59+01:00"
    assert CAL.weeks_after(6, received, statutory=True) == "2026-12-28T23:59:59+01:00"


def test_one_week_ending_on_saturday():
    # Sat 9 May 2026 + 7 = Sat 16 May; statutory moves it to Mon 18 May.
    assert CAL.weeks_after(1, "2026-05-09T10:00:00+02:00") == "2026-05-16T23:59:59+02:00"
    assert CAL.weeks_after(1, "2026-05-09T10:00:00+02:00", statutory=True) == "2026-05-18T23:59:59+02:00"


def test_months_after_month_end():
    # 31 January 2026 + 1 month: February 2026 has 28 days.
    assert CAL.months_after(1, "2026-01-31T10:00:00+01:00") == "2026-02-28T23:59:59+01:00"
    # 28 Feb 2026 is a Saturday: statutory moves it to Monday 2 March.
    assert CAL.months_after(1, "2026-01-31T10:00:00+01:00", statutory=True) == "2026-03-02T23:59:59+01:00"
    # 2028 is a leap year.
    assert CAL.months_after(1, "2028-01-31T10:00:00+01:00") == "2028-02-29T23:59:59+01:00"


def test_twelve_months_for_the_geschillencommissie():
    # Same day a year later; 10 March is winter time, 15 June summer time.
    assert CAL.months_after(12, "2026-03-10T10:00:00+01:00") == "2027-03-10T23:59:59+01:00"
    assert CAL.months_after(12, "2026-06-15T10:00:00+02:00") == "2027-06-15T23:59:59+02:00"


def test_days_after_and_dst_offsets():
    # Sat 28 March 2026 is winter time; Sun 29 March summer time starts.
    assert CAL.days_after(0, "2026-03-28T12:00:00+01:00") == "2026-03-28T23:59:59+01:00"
    assert CAL.days_after(1, "2026-03-28T12:00:00+01:00") == "2026-03-29T23:59:59+02:00"
    # Sun 25 Oct 2026 winter time starts again.
    assert CAL.days_after(1, "2026-10-24T12:00:00+02:00") == "2026-10-25T23:59:59+01:00"
    assert CAL.working_days_after(1, "2026-01-14T09:00:00+01:00") == "2026-01-15T23:59:59+01:00"
    assert CAL.working_days_after(1, "2026-07-14T09:00:00+02:00") == "2026-07-15T23:59:59+02:00"


# -- closing days --------------------------------------------------------------------


def test_closing_days_skip_working_days_but_not_statutory_terms():
    org = WorkingDayCalendar(closing_days=[date(2026, 5, 26)])
    assert not org.is_working_day(date(2026, 5, 26))
    assert not org.is_statutory_non_working(date(2026, 5, 26))
    assert org.holiday_name(date(2026, 5, 26)) is None
    # Fri 22 May 2026: Mon 25 Tweede Pinksterdag, Tue 26 closed, so Wed 27 = 1.
    assert org.working_days_after(1, "2026-05-22T10:00:00+02:00") == "2026-05-27T23:59:59+02:00"
    assert CAL.working_days_after(1, "2026-05-22T10:00:00+02:00") == "2026-05-26T23:59:59+02:00"
    # 13 April + 6 weeks = Tweede Pinksterdag; moves to Tue 26 May even if closed.
    assert org.weeks_after(6, "2026-04-13T11:00:00+02:00", statutory=True) == "2026-05-26T23:59:59+02:00"


# -- bad input -----------------------------------------------------------------------


def test_naive_moments_are_rejected():
    with pytest.raises(ValueError, match="no UTC offset"):
        CAL.working_days_after(3, "2026-04-30T10:00:00")
    with pytest.raises(ValueError, match="no UTC offset"):
        CAL.weeks_after(6, datetime(2026, 4, 30, 10, 0))
    with pytest.raises(ValueError, match="no UTC offset"):
        CAL.months_after(1, "2026-04-30")
    with pytest.raises(ValueError, match="not an ISO 8601"):
        CAL.days_after(1, "30-04-2026")


def test_next_working_day_passes_weekends_holidays_and_closing_days():
    assert CAL.next_working_day("2026-12-23T10:00:00+01:00") == "2026-12-23T23:59:59+01:00"  # a Wednesday
    assert CAL.next_working_day("2026-12-25T23:59:59+01:00") == "2026-12-28T23:59:59+01:00"  # Kerst, weekend
    assert CAL.next_working_day("2026-04-27T09:00:00+02:00") == "2026-04-28T23:59:59+02:00"  # Koningsdag
    closed = WorkingDayCalendar([date(2026, 12, 28)])
    assert closed.next_working_day("2026-12-25T23:59:59+01:00") == "2026-12-29T23:59:59+01:00"


def test_bad_counts_are_rejected():
    with pytest.raises(ValueError):
        CAL.working_days_after(0, "2026-04-30T10:00:00+02:00")
    with pytest.raises(ValueError):
        CAL.weeks_after(-1, "2026-04-30T10:00:00+02:00")
    with pytest.raises(TypeError):
        CAL.days_after(True, "2026-04-30T10:00:00+02:00")


# -- diagram functions ---------------------------------------------------------------


def test_diagram_functions_return_plain_strings():
    fns = diagram_functions(CAL)
    assert set(fns) == {
        "working_days_after",
        "weeks_after",
        "months_after",
        "days_after",
        "next_working_day",
        "now_iso",
        "is_past",
    }
    received = "2026-04-30T10:00:00+02:00"
    assert fns["next_working_day"]("2026-12-25T23:59:59+01:00") == "2026-12-28T23:59:59+01:00"
    assert fns["working_days_after"](5, received) == "2026-05-08T23:59:59+02:00"
    assert fns["weeks_after"](6, "2026-04-13T11:00:00+02:00", True) == "2026-05-26T23:59:59+02:00"
    assert fns["months_after"](1, "2026-01-31T10:00:00+01:00") == "2026-02-28T23:59:59+01:00"
    assert fns["days_after"](1, received) == "2026-05-01T23:59:59+02:00"
    for name in ("working_days_after", "weeks_after", "months_after", "days_after"):
        result = fns[name](1, received)
        assert type(result) is str
        # SpiffWorkflow's timeDate timers need an offset.
        assert datetime.fromisoformat(result).utcoffset() is not None


def test_now_iso_and_is_past_follow_the_virtual_clock():
    fns = diagram_functions(CAL)
    # 09:00 UTC on 15 Jan 2026 is 10:00 in Amsterdam (winter, +01:00).
    with clock.use_clock(clock.VirtualClock(datetime(2026, 1, 15, 9, 0, tzinfo=UTC))) as vc:
        assert fns["now_iso"]() == "2026-01-15T10:00:00+01:00"
        assert fns["is_past"]("2026-01-15T09:59:59+01:00") is True
        assert fns["is_past"]("2026-01-15T10:00:01+01:00") is False
        # Thu 30 April 2026 08:00 UTC = 10:00 summer time.
        vc.set(datetime(2026, 4, 30, 8, 0, tzinfo=UTC))
        assert fns["now_iso"]() == "2026-04-30T10:00:00+02:00"
        deadline = fns["working_days_after"](5, fns["now_iso"]())
        assert deadline == "2026-05-08T23:59:59+02:00"
        assert fns["is_past"](deadline) is False
        # 22:00 UTC on 8 May = 00:00 Saturday 9 May in Amsterdam: past the deadline.
        vc.advance(timedelta(days=8, hours=14))
        assert fns["now_iso"]() == "2026-05-09T00:00:00+02:00"
        assert fns["is_past"](deadline) is True
