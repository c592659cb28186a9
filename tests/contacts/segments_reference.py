"""The meaning of a segment rule, in plain Python: what the SQL compiler must agree with.

Tests only. It is written from the rule language's specification, not from the compiler, and it
is deliberately naive (one contact at a time, no SQL), so that the property tests can check the
compiler against it. It takes the *validated* tree (what `validate_rules` returns), whose values
are already normalised.

Empty values: an empty built-in column is '' (or NULL for birth_date), an empty custom field is an
absent key. Every comparison with an empty value is false, except the negative operators (neq,
not_contains, none_of, not_in, not_in_list), which are the negation of their positive operator
and therefore hold for empty values.

Email activity (`email_activity`, registered by the statistics app) reads the contact's messages
and events from an `Activity` snapshot; see `_email_activity` for its meaning.
"""

import calendar
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from contacts.models import FieldType
from contacts.segments.language import REGISTRY, FieldCatalog, FieldSpec

TEXT_TYPES = {FieldType.TEXT, FieldType.EMAIL, FieldType.URL, FieldType.PHONE}
NUMBER_TYPES = {FieldType.NUMBER, FieldType.DECIMAL}


@dataclass(frozen=True)
class SentMessage:
    """A campaign message to a contact (campaigns.models.Message)."""

    pk: int
    campaign: int
    status: str
    sent_at: datetime | None


@dataclass(frozen=True)
class ActivityEvent:
    """Something done with a message (stats.models.EmailEvent); `machine` when a privacy proxy or
    a scanner did it rather than the person."""

    message: int
    campaign: int
    kind: str
    occurred_at: datetime
    machine: bool


@dataclass(frozen=True)
class Activity:
    """The email activity of one account's contacts, by contact id."""

    timezone: str = "UTC"
    messages: dict[int, list[SentMessage]] = field(default_factory=dict)
    events: dict[int, list[ActivityEvent]] = field(default_factory=dict)


def evaluate(
    contact,
    rules: dict,
    *,
    today: date,
    list_members: dict[int, set[int]],
    suppressed: set[int],
    catalog: FieldCatalog | None = None,
    activity: Activity | None = None,
) -> bool:
    """Whether `contact` is in the segment `rules` (a validated tree) on day `today`.

    `list_members` maps a list id to the ids of the contacts subscribed to it; `suppressed` is
    the ids of the contacts whose email or mobile is suppressed. `catalog` (the field types) is
    read from the database when not given. `activity` is the account's email activity (none
    when not given).
    """
    if catalog is None:
        catalog = FieldCatalog.for_account(contact.account)
    context = _Context(
        today=today,
        list_members=list_members,
        suppressed=suppressed,
        activity=activity or Activity(),
    )
    return _node(contact, rules, catalog, context)


@dataclass(frozen=True)
class _Context:
    today: date
    list_members: dict[int, set[int]]
    suppressed: set[int]
    activity: Activity


def _node(contact, node: dict, catalog: FieldCatalog, context: _Context) -> bool:
    if "all" in node:
        return all(_node(contact, child, catalog, context) for child in node["all"])
    if "any" in node:
        return any(_node(contact, child, catalog, context) for child in node["any"])
    return _condition(contact, node, catalog, context)


def _condition(contact, node: dict, catalog: FieldCatalog, context: _Context) -> bool:
    name, op, value = node["field"], node["op"], node.get("value")
    if name == "email_activity":
        return _email_activity(contact, op, value, context)
    if name in REGISTRY:
        raise NotImplementedError(f"no reference semantics for registered condition {name!r}")
    spec = catalog.specs[name]
    if spec.type == "consent":
        in_statuses = getattr(contact, name) in value
        return in_statuses if op == "in" else not in_statuses
    if spec.type == "list":
        member = contact.pk in context.list_members.get(value, set())
        return member if op == "in_list" else not member
    if spec.type == "suppressed":
        is_suppressed = contact.pk in context.suppressed
        return is_suppressed if op == "is_true" else not is_suppressed
    current = _value(contact, spec)
    if op == "is_empty":
        return current is None
    if op == "is_not_empty":
        return current is not None
    if spec.type in TEXT_TYPES:
        return _text(op, current, value)
    if spec.type in NUMBER_TYPES:
        return _number(op, current, value)
    if spec.type == FieldType.DATE:
        return _date(op, current, value, context.today)
    if spec.type == FieldType.BOOLEAN:
        return current is (op == "is_true")
    if spec.type == FieldType.CHOICE:
        return _choice(op, current, value)
    if spec.type == FieldType.MULTICHOICE:
        return _multichoice(op, current, value)
    raise NotImplementedError(f"no reference semantics for {spec.type} fields ({name})")


def _value(contact, spec: FieldSpec):
    """The contact's value for `spec`, None when empty."""
    if spec.column is None:
        return contact.fields.get(spec.custom_key)
    current = getattr(contact, spec.column)
    if spec.column == "mobile":
        current = current.as_e164 if current else ""
    if current == "" or current is None:
        return None
    return current


def _text(op: str, current: str | None, value) -> bool:
    if op in {"neq", "not_contains"}:
        return not _text({"neq": "eq", "not_contains": "contains"}[op], current, value)
    if current is None:
        return False
    text = current.lower()
    if op == "in":
        return text in {item.lower() for item in value}
    wanted = value.lower()
    match op:
        case "eq":
            return text == wanted
        case "contains":
            return wanted in text
        case "starts_with":
            return text.startswith(wanted)
        case "ends_with":
            return text.endswith(wanted)
    raise ValueError(f"not a text operator: {op}")


def _number(op: str, current, value) -> bool:
    if op == "neq":
        return not _number("eq", current, value)
    if current is None:
        return False
    match op:
        case "eq":
            return current == value
        case "gt":
            return current > value
        case "gte":
            return current >= value
        case "lt":
            return current < value
        case "lte":
            return current <= value
        case "between":
            low, high = value
            return low <= current <= high
    raise ValueError(f"not a number operator: {op}")


def _date(op: str, current, value, today: date) -> bool:
    if current is None:
        return False
    day = current if isinstance(current, date) else date.fromisoformat(current)
    match op:
        case "on":
            return day == date.fromisoformat(value)
        case "before":
            return day < date.fromisoformat(value)
        case "after":
            return day > date.fromisoformat(value)
        case "between":
            low, high = (date.fromisoformat(item) for item in value)
            return low <= day <= high
        case "within_last_days":
            return today - timedelta(days=value) <= day <= today
        case "more_than_days_ago":
            return day < today - timedelta(days=value)
        case "within_next_days":
            return today <= day <= today + timedelta(days=value)
        case "anniversary_within_days":
            return anniversary_within(day, today, value)
        case "anniversary_this_month":
            return day.month == today.month
        case "age_at_least":
            return age_in_years(day, today) >= value
        case "age_at_most":
            return age_in_years(day, today) <= value
    raise ValueError(f"not a date operator: {op}")


def age_in_years(born: date, today: date) -> int:
    """Whole years since `born`, as people count them: one more on each birthday; someone born
    on 29 February gets a year older on 1 March in years without one (French civil law)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def anniversary_within(day: date, today: date, days: int) -> bool:
    """Whether an anniversary of `day` falls in [today, today + days]; a 29 February one is
    celebrated on 28 February in years without a 29 February. Written independently of
    `language.anniversary_days`, so that the property tests check it too."""
    last = today + timedelta(days=days)
    for year in range(today.year, last.year + 1):
        if (day.month, day.day) == (2, 29) and not calendar.isleap(year):
            celebrated = date(year, 2, 28)
        else:
            celebrated = date(year, day.month, day.day)
        if today <= celebrated <= last:
            return True
    return False


def _choice(op: str, current: str | None, value: list[str]) -> bool:
    match op:
        case "any_of":
            return current is not None and current in value
        case "all_of":
            return current is not None and set(value) == {current}
        case "none_of":
            return not _choice("any_of", current, value)
    raise ValueError(f"not a choice operator: {op}")


def _multichoice(op: str, current: list[str] | None, value: list[str]) -> bool:
    selected = set(current or ())
    match op:
        case "any_of":
            return bool(selected & set(value))
        case "all_of":
            return current is not None and set(value) <= selected
        case "none_of":
            return not selected & set(value)
    raise ValueError(f"not a multichoice operator: {op}")


def _email_activity(contact, op: str, value: dict, context: _Context) -> bool:
    """`value` is {"campaign": id or None (any), "days": N or None (any time)}.

    - A message was received when it was sent; a sandboxed one only counts when the rule names
      its campaign. With `days`, it was sent within the last N days.
    - Opened: the person (not a machine) opened or clicked in a message of the campaign (any
      campaign), within the last N days. Clicked: the person clicked.
    - Received but not opened: received at least one message in scope, and the person opened or
      clicked in none of those.
    - not_…: the negation.

    "Within the last N days": on a calendar day of the account's time zone from today - N to today.
    """
    if op.startswith("not_"):
        return not _email_activity(contact, op.removeprefix("not_"), value, context)
    activity = context.activity
    campaign, days = value["campaign"], value["days"]
    zone = zoneinfo.ZoneInfo(activity.timezone)

    def recent(moment: datetime | None) -> bool:
        if days is None:
            return True
        if moment is None:
            return False
        return (
            context.today - timedelta(days=days) <= moment.astimezone(zone).date() <= context.today
        )

    def counts_as_received(message: SentMessage) -> bool:
        if campaign is None:
            return message.status == "sent"
        return message.campaign == campaign and message.status in {"sent", "sandboxed"}

    received = [
        message
        for message in activity.messages.get(contact.pk, [])
        if counts_as_received(message) and recent(message.sent_at)
    ]
    by_the_person = [
        event
        for event in activity.events.get(contact.pk, [])
        if not event.machine and (campaign is None or event.campaign == campaign)
    ]
    opening = {"open", "click"}
    match op:
        case "received":
            return bool(received)
        case "opened":
            return any(e.kind in opening and recent(e.occurred_at) for e in by_the_person)
        case "clicked":
            return any(e.kind == "click" and recent(e.occurred_at) for e in by_the_person)
        case "received_not_opened":
            received_ids = {message.pk for message in received}
            return bool(received) and not any(
                e.kind in opening and e.message in received_ids for e in by_the_person
            )
    raise ValueError(f"not an email activity operator: {op}")
