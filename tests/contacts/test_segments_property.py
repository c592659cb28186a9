"""Segments: the SQL compiler selects exactly the contacts the plain-Python reference selects.

Hypothesis draws a contact base (built-in columns, custom fields of every comparable type, list
memberships, suppressions, empty values, campaign messages with their opens and clicks, by people
or machines, around midnight in the account's time zone), then random rule trees over it, with
comparison values often taken from the data so that rules are not trivially empty. Each tree is validated like a
user's, compiled to SQL, and its result compared with `segments_reference.evaluate`.

Letters are ASCII only: SQLite's case-insensitive comparisons fold ASCII letters only.
"""

import calendar
import string
import zoneinfo
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from campaigns.models import Message
from contacts.models import (
    ConsentStatus,
    Contact,
    ListMembership,
    Salutation,
)
from contacts.normalization import normalize_field_value
from contacts.segments.compiler import segment_queryset
from contacts.segments.language import (
    AGE_OPS,
    DAY_COUNT_OPS,
    MAX_DAYS,
    MAX_YEARS,
    OPERATORS_BY_TYPE,
    REGISTRY,
    VALUELESS_OPS,
    FieldCatalog,
    anniversary_days,
    validate_rules,
)
from contacts.services.consent import suppression_add
from contacts.services.fields import field_create
from contacts.typed_values import typed_values_refresh
from stats.models import EmailEvent
from tests.contacts.segments_reference import (
    Activity,
    ActivityEvent,
    SentMessage,
    age_in_years,
    anniversary_within,
    evaluate,
)
from tests.factories import (
    AccountFactory,
    ContactFactory,
    ContactListFactory,
    EmailCampaignFactory,
    EmailEventFactory,
    ListMembershipFactory,
    MessageFactory,
)

# Days around a year end and around 28 February, in non-leap (2025) and leap (2024) years.
TODAYS = (
    date(2025, 12, 29),
    date(2025, 2, 27),
    date(2025, 2, 28),
    date(2024, 2, 28),
    date(2024, 12, 31),
    date(2025, 6, 15),
)

SHOPS = ["Paris", "Lyon", "Nice"]
TAGS = ["bio", "vin", "fromage"]
CUSTOM_FIELDS = {
    "points": ("number", None),
    "spent": ("decimal", None),
    "last_order": ("date", None),
    "vip": ("boolean", None),
    "shop": ("choice", SHOPS),
    "tags": ("multichoice", TAGS),
    "note": ("text", None),
}
NAME_COLUMNS = ("first_name", "last_name", "zip_code", "city", "country", "company")
BUILTIN_TEXT = ("email", "mobile", *NAME_COLUMNS)

ALNUM = string.ascii_letters + string.digits
# Words that repeat, in several cases, so that rules compare equal values spelled differently.
WORDS = ("Paris", "paris", "PARIS", "Lyon", "Martin", "martine", "Dupont", "DUPOND", "a1", "x")
RULES_PER_EXAMPLE = 20
# Zones whose calendar day differs from UTC's in either direction, and one with half hours.
TIMEZONES = ("Europe/Paris", "America/New_York", "Pacific/Auckland", "Asia/Kolkata", "UTC")
CAMPAIGNS = 3
MESSAGE_STATUSES = [
    Message.Status.SENT,
    Message.Status.SENT,
    Message.Status.SENT,
    Message.Status.SANDBOXED,
    Message.Status.BOUNCED,
    Message.Status.FAILED,
    Message.Status.QUEUED,
    Message.Status.CANCELLED,
]
EVENT_KINDS = [
    *[EmailEvent.Kind.OPEN] * 3,
    *[EmailEvent.Kind.CLICK] * 2,
    EmailEvent.Kind.UNSUBSCRIBE,
]
MACHINE_REASONS = [
    "",
    "",
    "",
    EmailEvent.MachineReason.PRIVACY_PROXY,
    EmailEvent.MachineReason.SCANNER,
]
MAX_GROUP_DEPTH = 3

# No shrinking: each example builds a contact base, so shrinking a failure takes minutes (it
# stops at Hypothesis' 5-minute limit). The failure message names the rule and the contacts the
# SQL and the reference disagree on, single conditions are checked before whole trees, and the
# failing example is replayed first on the next run.
property_test = settings(
    max_examples=60,
    deadline=None,
    phases=[phase for phase in Phase if phase != Phase.shrink],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


# --- The contact base -----------------------------------------------------------------------


def _optional(strategy):
    """The value, or None (an empty value) about one time in three."""
    return st.one_of(st.none(), strategy, strategy)


def _texts():
    return st.one_of(st.sampled_from(WORDS), st.text(ALNUM, min_size=1, max_size=6))


def _shifted(today: date):
    """Days near `today`, and some further away."""
    offsets = st.one_of(st.integers(-45, 45), st.integers(0, 60), st.integers(-800, 800))
    return offsets.map(lambda offset: today + timedelta(days=offset))


def _birthdays(today: date):
    def near_anniversary(offset: int, year: int) -> date:
        anchor = today + timedelta(days=offset)
        if (anchor.month, anchor.day) == (2, 29) and not calendar.isleap(year):
            year = 2000
        return date(year, anchor.month, anchor.day)

    return st.one_of(
        st.builds(near_anniversary, st.integers(-3, 40), st.integers(1950, 2010)),
        st.sampled_from(
            [date(2000, 2, 29), date(1996, 2, 29), date(1990, 2, 28), date(1985, 3, 1)]
            + [date(1970, 12, 31), date(1980, 1, 1), date(1975, 1, 2)]
        ),
        st.dates(date(1940, 1, 1), date(2015, 12, 31)),
    )


def _custom_values(today: date):
    """Custom field values in canonical form, as every write path stores them."""
    return st.fixed_dictionaries(
        {
            "points": _optional(st.one_of(st.integers(-5, 60), st.integers(-(10**6), 10**6))),
            "spent": _optional(
                st.integers(-1000, 20000).map(
                    lambda cents: normalize_field_value("decimal", Decimal(cents) / 100)
                )
            ),
            "last_order": _optional(st.one_of(_shifted(today), _birthdays(today))).map(
                lambda day: day and day.isoformat()
            ),
            "vip": _optional(st.booleans()),
            "shop": _optional(st.sampled_from(SHOPS)),
            "tags": _optional(
                st.lists(st.sampled_from(TAGS), min_size=1, max_size=3).map(
                    lambda tags: normalize_field_value("multichoice", tags, choices=TAGS)
                )
            ),
            "note": _optional(_texts()),
        }
    ).map(lambda values: {key: value for key, value in values.items() if value is not None})


def _moments():
    """(days after today, hour, minute) in the account's zone: mostly recent, often at midnight's
    edges, sometimes tomorrow (later than any "last N days")."""
    days = st.one_of(st.integers(-40, 0), st.integers(-40, 1), st.integers(-800, 0))
    clock = st.one_of(
        st.sampled_from([(0, 0), (0, 1), (23, 59), (12, 0)]),
        st.tuples(st.integers(0, 23), st.integers(0, 59)),
    )
    return st.tuples(days, clock).map(lambda pair: (pair[0], *pair[1]))


def _mail():
    """Messages of the account's campaigns (at most one per campaign), each with its events."""
    event = st.tuples(st.sampled_from(EVENT_KINDS), st.sampled_from(MACHINE_REASONS), _moments())
    message = st.tuples(st.sampled_from(MESSAGE_STATUSES), _moments(), st.lists(event, max_size=3))
    per_campaign = [
        st.one_of(st.none(), message.map(lambda drawn, number=number: (number, *drawn)))
        for number in range(CAMPAIGNS)
    ]
    return st.tuples(*per_campaign).map(lambda drawn: [item for item in drawn if item])


def _people(today: date):
    person = st.fixed_dictionaries(
        {
            "email": _optional(st.sampled_from(["anne", "bob", "contact", "x"])),
            "domain": st.sampled_from(["example.com", "shop.fr", "mail.org"]),
            "mobile": st.one_of(
                st.just(""), st.integers(0, 999_999).map(lambda number: f"+33612{number:06d}")
            ),
            "salutation": st.sampled_from(["", Salutation.MR, Salutation.MRS]),
            **{column: st.one_of(st.just(""), _texts()) for column in NAME_COLUMNS},
            "birth_date": _optional(_birthdays(today)),
            "fields": _custom_values(today),
            "email_status": st.sampled_from(ConsentStatus.values),
            "sms_status": st.sampled_from(ConsentStatus.values),
            "lists": st.tuples(*[st.sampled_from([None, "subscribed", "unsubscribed"])] * 2),
            "suppress_email": st.sampled_from([False, False, False, True]),
            "suppress_mobile": st.sampled_from([False, False, False, True]),
            "mail": _mail(),
        }
    )
    return st.lists(person, min_size=15, max_size=30)


class Base:
    """One account's contact base, and what the reference needs to know about it."""

    def __init__(self, today: date, people: list[dict], timezone: str = "Europe/Paris"):
        self.today = today
        self.account = AccountFactory(timezone=timezone)
        self.campaigns = [
            EmailCampaignFactory(account=self.account, name=f"Campaign {number}").pk
            for number in range(CAMPAIGNS)
        ]
        messages, events = [], []
        for key, (field_type, choices) in CUSTOM_FIELDS.items():
            field_create(
                account=self.account, key=key, label=key.title(), type=field_type, choices=choices
            )
        self.lists = [
            ContactListFactory(account=self.account, name=f"List {number}") for number in (1, 2)
        ]
        self.list_members = {contact_list.pk: set() for contact_list in self.lists}
        suppressed_emails, suppressed_mobiles = set(), set()
        for index, person in enumerate(people):
            email = f"{person['email']}{index}@{person['domain']}" if person["email"] else ""
            contact = ContactFactory(
                account=self.account,
                key=email or f"contact-{index}",
                email=email,
                mobile=person["mobile"],
                salutation=person["salutation"],
                birth_date=person["birth_date"],
                fields=person["fields"],
                email_status=person["email_status"],
                sms_status=person["sms_status"],
                **{column: person[column] for column in NAME_COLUMNS},
            )
            for contact_list, status in zip(self.lists, person["lists"], strict=True):
                if status:
                    ListMembershipFactory(contact_list=contact_list, contact=contact, status=status)
                    if status == ListMembership.Status.SUBSCRIBED:
                        self.list_members[contact_list.pk].add(contact.pk)
            if person["suppress_email"] and email:
                suppression_add(
                    account=self.account, channel="email", address=email, reason="unsubscribed"
                )
                suppressed_emails.add(email)
            if person["suppress_mobile"] and person["mobile"]:
                suppression_add(
                    account=self.account,
                    channel="sms",
                    address=person["mobile"],
                    reason="unsubscribed",
                )
                suppressed_mobiles.add(person["mobile"])
            for campaign, status, sent, happenings in person.get("mail", ()):
                message = Message(
                    campaign_id=self.campaigns[campaign],
                    contact=contact,
                    email=email or f"former{index}@example.net",
                    status=status,
                    sent_at=None if status in {"queued", "cancelled"} else self.moment(sent),
                )
                messages.append(message)
                events += [
                    EmailEvent(
                        account=self.account,
                        campaign_id=message.campaign_id,
                        message=message,
                        contact=contact,
                        kind=kind,
                        machine_reason=machine_reason,
                        occurred_at=self.moment(moment),
                    )
                    for kind, machine_reason, moment in happenings
                ]
        Message.objects.bulk_create(messages)
        EmailEvent.objects.bulk_create(events)
        # Read back, so that the reference sees what the database holds.
        # Written with the ORM, not a contact service: derive the typed copies as services do.
        typed_values_refresh(self.account.pk)
        self.contacts = list(Contact.objects.filter(account=self.account).order_by("pk"))
        self.activity = self._read_activity()
        self.suppressed = {
            contact.pk
            for contact in self.contacts
            if contact.email in suppressed_emails
            or (contact.mobile and contact.mobile.as_e164 in suppressed_mobiles)
        }
        self._add_another_account()
        self.catalog = FieldCatalog.for_account(self.account)

    def moment(self, when: tuple[int, int, int]) -> datetime:
        days, hour, minute = when
        day = self.today + timedelta(days=days)
        zone = zoneinfo.ZoneInfo(self.account.timezone)
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)

    def _read_activity(self) -> Activity:
        messages, events = defaultdict(list), defaultdict(list)
        for message in Message.objects.filter(campaign__account=self.account):
            messages[message.contact_id].append(
                SentMessage(message.pk, message.campaign_id, message.status, message.sent_at)
            )
        for row in EmailEvent.objects.filter(account=self.account):
            events[row.contact_id].append(
                ActivityEvent(
                    row.message_id, row.campaign_id, row.kind, row.occurred_at, row.is_machine
                )
            )
        return Activity(self.account.timezone, dict(messages), dict(events))

    def activity_days(self) -> list[int]:
        """How many days ago (in the account's zone) each message was sent or event happened."""
        zone = zoneinfo.ZoneInfo(self.account.timezone)
        moments = [m.sent_at for found in self.activity.messages.values() for m in found]
        moments += [e.occurred_at for found in self.activity.events.values() for e in found]
        return sorted(
            {(self.today - moment.astimezone(zone).date()).days for moment in moments if moment}
        )

    def _add_another_account(self):
        """A twin of the first contact in another account, where its email is suppressed and
        which opened and clicked that account's campaign: no rule may select the twin, nor count
        the other account's suppression or activity here."""
        first = self.contacts[0]
        other = AccountFactory()
        twin = ContactFactory(
            account=other,
            key=first.key,
            email=first.email,
            mobile=first.mobile,
            salutation=first.salutation,
            birth_date=first.birth_date,
            fields=first.fields,
            email_status=first.email_status,
            sms_status=first.sms_status,
            **{column: getattr(first, column) for column in NAME_COLUMNS},
        )
        if first.email:
            suppression_add(account=other, channel="email", address=first.email, reason="erased")
        other_list = ContactListFactory(account=other, name="Other list")
        ListMembershipFactory(contact_list=other_list, contact=twin)
        theirs = EmailCampaignFactory(account=other, name="Theirs")
        message = MessageFactory(
            campaign=theirs,
            contact=twin,
            email=first.email or "twin@example.net",
            status=Message.Status.SENT,
            sent_at=self.moment((-1, 12, 0)),
        )
        for kind in (EmailEvent.Kind.OPEN, EmailEvent.Kind.CLICK):
            EmailEventFactory(message=message, kind=kind, occurred_at=self.moment((0, 0, 0)))

    def values(self, name: str) -> list:
        """The non-empty values of a field in the base."""
        spec = self.catalog.specs[name]
        found = []
        for contact in self.contacts:
            if spec.column is None:
                value = contact.fields.get(spec.custom_key)
            else:
                value = getattr(contact, spec.column)
                if spec.column == "mobile":
                    value = value.as_e164 if value else ""
            if value not in (None, "") and value not in found:
                found.append(value)
        return found

    def reference(self, rules: dict, today: date) -> set[int]:
        return {
            contact.pk
            for contact in self.contacts
            if evaluate(
                contact,
                rules,
                today=today,
                list_members=self.list_members,
                suppressed=self.suppressed,
                catalog=self.catalog,
                activity=self.activity,
            )
        }


# --- Rules ----------------------------------------------------------------------------------


def _recased(strategy):
    changes = st.sampled_from([str, str.upper, str.lower, str.swapcase, lambda text: f" {text} "])
    return st.tuples(strategy, changes).map(lambda pair: pair[1](pair[0]))


def _fragment(text: str, start: int, length: int) -> str:
    start %= len(text)
    return text[start : start + 1 + length % (len(text) - start)]


def _text_values(pool: list[str]):
    known = st.sampled_from(pool) if pool else st.sampled_from(WORDS)
    return _recased(
        st.one_of(
            known,
            st.builds(_fragment, known, st.integers(0, 30), st.integers(0, 30)),
            _texts(),
        )
    )


def _number_values(pool: list):
    number = st.one_of(
        st.sampled_from(pool) if pool else st.integers(0, 10),
        st.sampled_from(pool) if pool else st.integers(0, 10),
        st.integers(-10, 70),
        st.integers(-1000, 20000).map(lambda cents: float(Decimal(cents) / 100)),
    )
    # As a user may write it: a JSON number, or text in English or French notation.
    spelling = st.sampled_from([lambda n: n, str, lambda n: str(n).replace(".", ",")])
    return st.tuples(number, spelling).map(lambda pair: pair[1](pair[0]))


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _date_values(pool: list, today: date):
    days = [_as_date(value) for value in pool]
    known = st.sampled_from(days) if days else _shifted(today)
    day = st.one_of(known, known, _shifted(today))
    spelling = st.sampled_from([date.isoformat, lambda value: value.strftime("%d/%m/%Y")])
    return st.tuples(day, spelling).map(lambda pair: pair[1](pair[0]))


def _pairs(values):
    """[low, high] pairs for `between`: in order or not, often on the data's own values."""
    return st.lists(values, min_size=2, max_size=2)


DAY_COUNTS = st.one_of(
    st.integers(0, 40),
    st.sampled_from([0, 1, 2, 7, 30, 90, 364, 365, 366, 400]),
    st.integers(0, 3660),
)


def _days_to_anniversary(day: date, today: date) -> int:
    for offset in range(367):
        if anniversary_within(day, today + timedelta(days=offset), 0):
            return offset
    raise AssertionError(f"no anniversary of {day} within a year of {today}")


def _day_counts(pool: list, today: date, op: str):
    """Day counts, often one that puts a value of the data on the edge of the window."""
    if op == "anniversary_within_days":
        edges = [_days_to_anniversary(_as_date(value), today) for value in pool]
    else:
        edges = [abs((today - _as_date(value)).days) for value in pool]
    if not edges:
        return DAY_COUNTS
    near_edge = st.tuples(st.sampled_from(edges), st.sampled_from([-1, 0, 0, 1])).map(
        lambda pair: min(max(pair[0] + pair[1], 0), MAX_DAYS)
    )
    return st.one_of(DAY_COUNTS, near_edge, near_edge)


def _ages(pool: list, today: date):
    """Ages in years, often one that puts a date of the data on the edge (a birthday today,
    yesterday or tomorrow included by the data's own dates)."""
    edges = [age_in_years(_as_date(value), today) + shift for value in pool for shift in (-1, 0, 1)]
    edges = [age for age in edges if 0 <= age <= MAX_YEARS]
    ages = st.one_of(st.integers(0, 100), st.sampled_from([0, 18, 65, MAX_YEARS]))
    return st.one_of(ages, st.sampled_from(edges), st.sampled_from(edges)) if edges else ages


def _recased_choices(choices):
    return st.lists(_recased(st.sampled_from(list(choices))), min_size=1, max_size=3)


def _value_strategy(base: Base, name: str, field_type: str, op: str, today: date):
    """A raw (not yet validated) value for `op` on field `name`."""
    if field_type in {"text", "email", "phone"}:
        values = _text_values(base.values(name))
        return st.lists(values, min_size=1, max_size=3) if op == "in" else values
    if field_type in {"number", "decimal"}:
        values = _number_values(base.values(name))
        return _pairs(values) if op == "between" else values
    if field_type == "date":
        if op in AGE_OPS:
            return _ages(base.values(name), today)
        if op in DAY_COUNT_OPS:
            return _day_counts(base.values(name), today, op)
        values = _date_values(base.values(name), today)
        return _pairs(values) if op == "between" else values
    if field_type in {"choice", "multichoice"}:
        return _recased_choices(base.catalog.specs[name].choices)
    if field_type == "consent":
        return st.lists(st.sampled_from(ConsentStatus.values), min_size=1, max_size=3)
    if field_type == "list":
        return st.sampled_from([contact_list.pk for contact_list in base.lists])
    raise AssertionError(f"no values for {field_type}")


def _activity_values(base: Base):
    """`{"campaign", "days"}`, either key sometimes left out; often a day count that puts a
    message or an event on the edge of the window."""
    edges = [days + shift for days in base.activity_days() for shift in (-1, 0, 1)]
    edges = [days for days in edges if 1 <= days <= MAX_DAYS]
    days = st.one_of(
        st.none(),
        st.integers(1, 45),
        st.sampled_from([1, 2, 7, 30, 365, 800, MAX_DAYS]),
        *([st.sampled_from(edges)] * 2 if edges else []),
    )
    value = st.fixed_dictionaries(
        {},
        optional={
            "campaign": st.one_of(st.none(), st.sampled_from(base.campaigns)),
            "days": days,
        },
    )
    return st.one_of(value, value, value, st.none())


def _condition(base: Base, name: str, op: str, today: date):
    if name == "email_activity":
        return _activity_values(base).map(lambda value: {"field": name, "op": op, "value": value})
    field_type = base.catalog.specs[name].type
    if op in VALUELESS_OPS:
        return st.just({"field": name, "op": op})
    return _value_strategy(base, name, field_type, op, today).map(
        lambda value: {"field": name, "op": op, "value": value}
    )


# Fields drawn by kind first, so that a kind with one field (email) comes up as often as one
# with many (the text columns).
FIELD_KINDS = (
    (*NAME_COLUMNS, "fields.note"),
    ("email",),
    ("mobile",),
    ("salutation", "fields.shop"),
    ("birth_date",),
    *((f"fields.{key}",) for key in ("points", "spent", "last_order", "vip", "tags")),
    ("email_status", "sms_status"),
    ("list",),
    ("suppressed",),
    ("email_activity",),
    ("email_activity",),
)


def _operators(base: Base, name: str) -> tuple[str, ...]:
    if name in REGISTRY:
        return REGISTRY[name].operators
    return OPERATORS_BY_TYPE[base.catalog.specs[name].type]


def _conditions(base: Base, today: date):
    return (
        st.sampled_from(FIELD_KINDS)
        .flatmap(st.sampled_from)
        .flatmap(
            lambda name: st.sampled_from(_operators(base, name)).flatmap(
                lambda op: _condition(base, name, op, today)
            )
        )
    )


def _rule_trees(conditions, depth: int = 1):
    if depth >= MAX_GROUP_DEPTH:
        child = conditions
    else:
        child = st.one_of(conditions, conditions, _rule_trees(conditions, depth + 1))
    return st.builds(
        lambda kind, children: {kind: children},
        st.sampled_from(["all", "any"]),
        st.lists(child, max_size=4),
    )


def _describe(base: Base, pks: set[int]) -> str:
    lines = []
    for contact in base.contacts:
        if contact.pk in pks:
            columns = {
                name: getattr(contact, name)
                for name in (
                    *BUILTIN_TEXT,
                    "salutation",
                    "birth_date",
                    "email_status",
                    "sms_status",
                )
                if getattr(contact, name) not in ("", None)
            }
            extra = {
                "lists": [pk for pk, members in base.list_members.items() if contact.pk in members],
                "suppressed": contact.pk in base.suppressed,
                "messages": base.activity.messages.get(contact.pk, []),
                "events": base.activity.events.get(contact.pk, []),
            }
            lines.append(f"  #{contact.pk}: {columns} fields={contact.fields} {extra}")
    return "\n".join(lines)


def _leaves(node: dict):
    for kind in ("all", "any"):
        if kind in node:
            for child in node[kind]:
                yield from _leaves(child)
            return
    yield node


def _share(selected: set[int], base: Base) -> str:
    """For --hypothesis-show-statistics: a rule that selects none or all of the contacts tests
    little."""
    return "none" if not selected else "all" if len(selected) == len(base.contacts) else "some"


# --- Properties -----------------------------------------------------------------------------


@pytest.mark.django_db
@property_test
@given(data=st.data())
def test_sql_segment_is_the_reference_segment(data):
    today = data.draw(st.sampled_from(TODAYS), label="today")
    zone = data.draw(st.sampled_from(TIMEZONES), label="timezone")
    people = data.draw(_people(today), label="people")
    # A savepoint per example: a database error in one leaves the test's transaction usable
    # (PostgreSQL aborts a transaction on error) and is reported as itself.
    with transaction.atomic():
        base = Base(today, people, timezone=zone)
        trees = _rule_trees(_conditions(base, today))
        for number in range(RULES_PER_EXAMPLE):
            rules = data.draw(trees, label=f"rules {number}")
            cleaned = validate_rules(rules, base.catalog, base.account)
            # Each condition alone first: a wrong operator is then reported by itself.
            for leaf in _leaves(cleaned):
                selected = _check(base, {"all": [leaf]}, today)
                name = leaf["field"]
                field_type = name if name in REGISTRY else base.catalog.specs[name].type
                event(f"{field_type} {leaf['op']} selects {_share(selected, base)}")
            selected = _check(base, cleaned, today)
            event(f"a rule selects {_share(selected, base)} of the contacts")


def _check(base: Base, rules: dict, today: date) -> set[int]:
    """The contacts the rules select, after checking that SQL and the reference agree."""
    selected = list(segment_queryset(base.account, rules, today=today).values_list("pk", flat=True))
    expected = base.reference(rules, today)

    assert len(selected) == len(set(selected)), f"duplicate contacts for {rules}"
    assert set(selected) == expected, (
        f"rules {rules} on {today} in {base.account.timezone}\n"
        f"selected by SQL only:\n{_describe(base, set(selected) - expected)}\n"
        f"selected by the reference only:\n{_describe(base, expected - set(selected))}"
    )
    return expected


@settings(max_examples=300, deadline=None)
@given(
    today=st.dates(date(2023, 1, 1), date(2029, 12, 31)),
    birthday=st.one_of(
        st.dates(date(1950, 1, 1), date(2010, 12, 31)),
        st.sampled_from([date(2000, 2, 29), date(1990, 2, 28), date(1990, 3, 1)]),
    ),
    days=st.one_of(st.integers(0, 40), st.integers(0, 3660)),
)
def test_reference_anniversary_agrees_with_anniversary_days(today, birthday, days):
    """The reference's own reading of "an anniversary within N days" is the language's."""
    in_window = (birthday.month, birthday.day) in anniversary_days(today, days)

    assert anniversary_within(birthday, today, days) == in_window


# --- Examples the strategies do not reach ---------------------------------------------------


CITIES = ["100%", "1000", "a_b", "axb", "a\\b", ""]


def _plain_person(city: str) -> dict:
    return {
        "email": "",
        "domain": "example.com",
        "mobile": "",
        "salutation": "",
        **dict.fromkeys(NAME_COLUMNS, ""),
        "city": city,
        "birth_date": None,
        "fields": {},
        "email_status": ConsentStatus.NONE,
        "sms_status": ConsentStatus.NONE,
        "lists": (None, None),
        "suppress_email": False,
        "suppress_mobile": False,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("contains", "%", {"100%"}),
        ("contains", "_", {"a_b"}),
        ("contains", "\\", {"a\\b"}),
        ("starts_with", "100%", {"100%"}),
        ("ends_with", "_b", {"a_b"}),
        ("eq", "A_B", {"a_b"}),
        ("not_contains", "%", {"1000", "a_b", "axb", "a\\b", ""}),
    ],
)
def test_like_wildcards_in_a_value_match_literally(op, value, expected):
    base = Base(date(2025, 6, 15), [_plain_person(city) for city in CITIES])
    rules = validate_rules(
        {"all": [{"field": "city", "op": op, "value": value}]}, base.catalog, base.account
    )

    selected = segment_queryset(base.account, rules, today=date(2025, 6, 15))

    assert {contact.city for contact in selected} == expected
    assert set(selected.values_list("pk", flat=True)) == base.reference(rules, date(2025, 6, 15))


@pytest.mark.django_db
@pytest.mark.xfail(
    strict=True,
    reason="the compiler compares numbers as floats, so whole numbers beyond 2**53 (which "
    "number fields store exactly, up to 2**63 - 1) compare wrongly",
)
@pytest.mark.parametrize("op", ["eq", "neq", "gt", "lte"])
def test_large_whole_numbers_compare_exactly(op):
    today = date(2025, 6, 15)
    base = Base(today, [{**_plain_person(""), "fields": {"points": 2**53 + 1}}])
    rules = validate_rules(
        {"all": [{"field": "fields.points", "op": op, "value": 2**53}]}, base.catalog, base.account
    )

    selected = segment_queryset(base.account, rules, today=today)

    assert set(selected.values_list("pk", flat=True)) == base.reference(rules, today)
