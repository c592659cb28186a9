"""The legal hours of marketing SMS, per region, across DST changes and overseas zones."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms.quiet_hours import LEGAL, REGIONS, Window, is_sending_day, next_allowed, region_of

PARIS = ZoneInfo("Europe/Paris")


def local(region, *args):
    return datetime(*args, tzinfo=ZoneInfo(REGIONS[region].zone))


def allowed(moment, region, window=LEGAL):
    at = moment.astimezone(ZoneInfo(REGIONS[region].zone))
    return is_sending_day(at.date(), region) and window.start <= at.time() < window.end


moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)
regions = st.sampled_from(sorted(REGIONS))


@settings(max_examples=500)
@given(moments, regions)
def test_the_answer_is_inside_the_window_never_earlier_and_the_first_such_minute(at, region):
    result = next_allowed(at, region)

    assert result >= at
    assert allowed(result, region)
    if allowed(at, region):
        assert result == at
    else:
        zone = ZoneInfo(REGIONS[region].zone)
        opening = result.astimezone(zone)
        assert opening.time() == LEGAL.start
        # No sending day was skipped between `at` and the opening.
        day = at.astimezone(zone).date()
        start_day = day
        while day < opening.date():
            if day != start_day or at.astimezone(zone).time() < LEGAL.start:
                assert not is_sending_day(day, region), day
            day += timedelta(days=1)


@given(moments, regions)
def test_an_allowed_moment_is_returned_unchanged(at, region):
    result = next_allowed(at, region)

    assert next_allowed(result, region) == result


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Saturday 20:00 is closed: Monday 08:00.
        (datetime(2025, 6, 14, 20, 0, tzinfo=PARIS), datetime(2025, 6, 16, 8, 0, tzinfo=PARIS)),
        (datetime(2025, 6, 13, 19, 59, tzinfo=PARIS), datetime(2025, 6, 13, 19, 59, tzinfo=PARIS)),
        (datetime(2025, 6, 13, 7, 59, tzinfo=PARIS), datetime(2025, 6, 13, 8, 0, tzinfo=PARIS)),
        # 14 July (a Monday in 2025) is a public holiday.
        (datetime(2025, 7, 14, 10, 0, tzinfo=PARIS), datetime(2025, 7, 15, 8, 0, tzinfo=PARIS)),
        # Saturday 3 May, then Sunday, then Monday 5: fine; Thursday 1 May is a holiday.
        (datetime(2025, 4, 30, 21, 0, tzinfo=PARIS), datetime(2025, 5, 2, 8, 0, tzinfo=PARIS)),
        # Sundays of the DST changes: Monday 08:00 in the new offset.
        (datetime(2025, 3, 30, 1, 30, tzinfo=UTC), datetime(2025, 3, 31, 6, 0, tzinfo=UTC)),
        (datetime(2025, 10, 26, 1, 30, tzinfo=UTC), datetime(2025, 10, 27, 7, 0, tzinfo=UTC)),
    ],
)
def test_mainland_examples(at, expected):
    assert next_allowed(at, "FR") == expected


def test_reunion_has_its_own_zone_and_abolition_day():
    # 07:00 in Paris in June is 09:00 in Réunion (UTC+4): open there, not in Paris.
    at = datetime(2025, 6, 11, 7, 0, tzinfo=PARIS)
    assert next_allowed(at, "RE") == at
    assert next_allowed(at, "FR") == datetime(2025, 6, 11, 8, 0, tzinfo=PARIS)
    # 20 December (Abolition of Slavery in Réunion) is an ordinary Saturday in Paris.
    assert is_sending_day(date(2025, 12, 20), "FR")
    assert not is_sending_day(date(2025, 12, 20), "RE")
    assert next_allowed(local("RE", 2025, 12, 20, 10, 0), "RE") == local("RE", 2025, 12, 22, 8, 0)


@pytest.mark.parametrize(
    ("region", "abolition"),
    [
        ("GP", date(2025, 5, 27)),
        ("MQ", date(2025, 5, 22)),
        ("GF", date(2025, 6, 10)),
        ("YT", date(2025, 4, 27)),
    ],
)
def test_overseas_abolition_days(region, abolition):
    assert not is_sending_day(abolition, region)
    assert is_sending_day(abolition, "FR") or abolition.weekday() == 6


def test_the_antilles_are_six_hours_behind_paris_in_summer():
    # Wednesday 13:00 in Paris is 07:00 in Martinique: wait until 08:00 there.
    at = datetime(2025, 6, 11, 13, 0, tzinfo=PARIS)
    assert next_allowed(at, "MQ") == local("MQ", 2025, 6, 11, 8, 0)


@pytest.mark.parametrize(
    ("mobile", "region"),
    [
        ("+33612345678", "FR"),
        ("+262692123456", "RE"),
        ("+262639012345", "YT"),
        ("+590690001234", "GP"),
        ("+596696201234", "MQ"),
        ("+594694201234", "GF"),
        ("+32470123456", "FR"),  # another country: mainland rules
        ("not a number", "FR"),
    ],
)
def test_region_of_a_number(mobile, region):
    assert region_of(mobile) == region


def test_an_account_window_can_only_narrow_the_legal_one():
    window = LEGAL.narrowed(time(9), time(18))
    at = datetime(2025, 6, 11, 18, 30, tzinfo=PARIS)

    assert next_allowed(at, "FR", window) == datetime(2025, 6, 12, 9, 0, tzinfo=PARIS)
    with pytest.raises(ValueError):
        LEGAL.narrowed(time(7), time(18))
    with pytest.raises(ValueError):
        Window().narrowed(time(10), time(21))


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        next_allowed(datetime(2025, 6, 11, 10, 0), "FR")
