"""When the law lets a marketing SMS reach a phone: Monday to Saturday, 08:00 to 20:00 in the
recipient's time zone, never on a Sunday or a French public holiday (the operators' code of
conduct, and the CNIL's recommendation for commercial prospection by SMS).

The overseas departments and collectivities have their own time zone and holidays (Abolition
of Slavery on a different day in each): the number's region (+262 69x Réunion, +262 639
Mayotte, +590 Guadeloupe, +596 Martinique, +594 Guyane…) decides both. Transactional SMS are not
concerned; callers only ask for marketing ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import phonenumbers

MAINLAND = "FR"


@dataclass(frozen=True)
class Region:
    zone: str
    # The holidays package's subdivision of France (None: the national list).
    subdivision: str | None


# By the number's region (phonenumbers' region codes).
REGIONS = {
    MAINLAND: Region("Europe/Paris", None),
    "RE": Region("Indian/Reunion", "RE"),
    "YT": Region("Indian/Mayotte", "YT"),
    "GP": Region("America/Guadeloupe", "GP"),
    "MQ": Region("America/Martinique", "MQ"),
    "GF": Region("America/Cayenne", "GY"),
    "BL": Region("America/St_Barthelemy", "BL"),
    "MF": Region("America/Marigot", "MF"),
    "PM": Region("America/Miquelon", "PM"),
}


@dataclass(frozen=True)
class Window:
    """Allowed local hours, [start, end), on allowed days."""

    start: time = time(8)
    end: time = time(20)

    def narrowed(self, start: time, end: time) -> Window:
        """An account's own window: only ever inside this one."""
        if not (self.start <= start < end <= self.end):
            raise ValueError(f"{start}–{end} is not inside {self.start}–{self.end}")
        return Window(start, end)


LEGAL = Window()


def region_of(mobile: str) -> str:
    """The region (REGIONS' key) of an E.164 number; mainland France for any other number."""
    try:
        code = phonenumbers.region_code_for_number(phonenumbers.parse(mobile))
    except phonenumbers.NumberParseException:
        return MAINLAND
    return code if code in REGIONS else MAINLAND


@cache
def _zone(region: str) -> ZoneInfo:
    return ZoneInfo(REGIONS[region].zone)


@cache
def _holidays(region: str) -> holidays.HolidayBase:
    # Years are filled in on first look-up; one object per region keeps them.
    return holidays.country_holidays("FR", subdiv=REGIONS[region].subdivision)


def is_sending_day(day: date, region: str) -> bool:
    return day.weekday() != 6 and day not in _holidays(region)


def next_allowed(at: datetime, region: str = MAINLAND, window: Window = LEGAL) -> datetime:
    """`at` itself when a marketing SMS may be delivered then, else the first minute it may
    (the window's opening on the next sending day), in `at`'s time zone."""
    if at.tzinfo is None:
        raise ValueError("an aware datetime is required")
    region = region if region in REGIONS else MAINLAND
    zone = _zone(region)
    local = at.astimezone(zone)
    if is_sending_day(local.date(), region) and window.start <= local.time() < window.end:
        return at
    day = local.date()
    if local.time() < window.start and is_sending_day(day, region):
        return datetime.combine(day, window.start, tzinfo=zone).astimezone(at.tzinfo)
    day += timedelta(days=1)
    while not is_sending_day(day, region):
        day += timedelta(days=1)
    return datetime.combine(day, window.start, tzinfo=zone).astimezone(at.tzinfo)
