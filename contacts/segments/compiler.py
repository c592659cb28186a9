"""Compile a validated rule tree into one SQL query (a Q object over Contact), evaluated live.

No membership is stored: a segment is always exactly the contacts matching it now. Custom
field values live in the `fields` JSON column in canonical form (numbers as JSON numbers, dates
as ISO text), so they compare by type on PostgreSQL and SQLite alike.
"""

import zoneinfo
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import (
    DateField,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, ExtractDay, ExtractMonth, Lower, Substr, TruncDate
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    IEndsWith,
    IExact,
    In,
    IsNull,
    IStartsWith,
    LessThan,
    LessThanOrEqual,
)
from django.utils import timezone

from accounts.models import Account
from contacts.models import Channel, Contact, FieldType, ListMembership, Suppression
from contacts.segments.functions import ArrayElement, Sha256Hex
from contacts.segments.language import (
    REGISTRY,
    FieldCatalog,
    FieldSpec,
    anniversary_days,
    years_before,
)
from contacts.typed_values import DATE_COLUMN, NUMBER_COLUMN

NOTHING = Q(pk__in=[])
# Not Q(): Django drops an empty Q when combining, so `x | Q()` would wrongly become `x`.
EVERYTHING = Q(pk__isnull=False)
TEXT_TYPES = {FieldType.TEXT, FieldType.EMAIL, FieldType.URL, FieldType.PHONE}
NUMBER_TYPES = {FieldType.NUMBER, FieldType.DECIMAL}


def account_today(account: Account) -> date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(account.timezone)).date()


def segment_queryset(account: Account, rules: dict, *, today: date | None = None) -> QuerySet:
    """The contacts of `account` matching the (validated) rules."""
    return _Compiler(account, today).queryset(rules)


def count_matching(account: Account, rules: dict, *, today: date | None = None) -> int:
    """How many contacts match the (validated) rules: the live count of the builder, the API
    and the segment list."""
    compiler = _Compiler(account, today)
    queryset = compiler.queryset(rules)
    if connection.vendor != "postgresql" or compiler.subqueries != {"list"}:
        return queryset.count()
    with transaction.atomic(), connection.cursor() as cursor:
        # List conditions are semi-joins of contacts with memberships. PostgreSQL has no
        # statistics on the typed values' array elements, so it guesses that custom-field
        # conditions keep a ninth of the contacts and hashes the wrong side, or loops over
        # memberships, where reading both covering indexes in contact order and merging them
        # is 2-3x faster at a million contacts. The data being in memory, an index page costs
        # about what a sequential one does. (Other subqueries, e.g. activity, hash better.)
        settings = {"enable_hashjoin": "off", "random_page_cost": "1.1"}
        cursor.execute("SELECT " + ", ".join(f"current_setting('{name}')" for name in settings))
        previous = cursor.fetchone()
        cursor.execute(
            "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in settings),
            [item for pair in settings.items() for item in pair],
        )
        count = queryset.count()
        # Inside a caller's transaction, SET LOCAL would outlast this block: put them back.
        cursor.execute(
            "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in settings),
            [item for pair in zip(settings, previous, strict=True) for item in pair],
        )
        return count


class _Compiler:
    def __init__(self, account: Account, today: date | None = None):
        self.account = account
        self.catalog = FieldCatalog.for_account(account)
        self.today = today or account_today(account)
        self.tz = zoneinfo.ZoneInfo(account.timezone)
        # Kinds of subquery the rules compiled to ("list", "activity", "suppressed", "choices").
        self.subqueries: set[str] = set()

    def queryset(self, rules: dict) -> QuerySet:
        return Contact.objects.filter(account=self.account).filter(self.node(rules))

    def node(self, node: dict) -> Q:
        if "all" in node:
            children = self._children(node["all"], merged_op="not_in_list")
            if not children:
                return EVERYTHING
            query = children[0]
            for child in children[1:]:
                query &= child
            return query
        if "any" in node:
            children = self._children(node["any"], merged_op="in_list")
            if not children:
                return NOTHING
            query = children[0]
            for child in children[1:]:
                query |= child
            return query
        return self.condition(node["field"], node["op"], node.get("value"))

    def _children(self, items: list[dict], *, merged_op: str) -> list[Q]:
        """The compiled children of a group, sibling list conditions with `merged_op` as one:
        "in A or in B" is a membership of A or B, "not in A and not in B" one of neither. One
        subquery, where PostgreSQL would run one per contact and per condition under an OR."""

        def merged(item: dict) -> bool:
            return item.get("field") == "list" and item.get("op") == merged_op

        list_ids = [item["value"] for item in items if merged(item)]
        children = [self.node(item) for item in items if not merged(item)]
        if list_ids:
            children.append(self._membership(list_ids, merged_op))
        return children

    def _membership(self, list_ids: list[int], op: str) -> Q:
        self.subqueries.add("list")
        member = Exists(
            ListMembership.objects.filter(
                contact=OuterRef("pk"),
                contact_list_id__in=list_ids,
                status=ListMembership.Status.SUBSCRIBED,
            )
        )
        return Q(member) if op == "in_list" else ~Q(member)

    def condition(self, field_name: str, op: str, value) -> Q:
        if field_name in REGISTRY:
            self.subqueries.add("activity")
            now = timezone.now()
            return REGISTRY[field_name].compile(self.account, op, value, self.today, now)
        spec = self.catalog.specs[field_name]
        if spec.type == "consent":
            query = Q(**{f"{field_name}__in": value})
            return query if op == "in" else ~query
        if spec.type == "list":
            return self._membership([value], op)
        if spec.type == "suppressed":
            self.subqueries.add("suppressed")
            return self._suppressed() if op == "is_true" else ~self._suppressed()
        if op in {"is_empty", "is_not_empty"}:
            empty = self._empty(spec)
            return empty if op == "is_empty" else ~empty
        if spec.type in TEXT_TYPES:
            return self._text(spec, op, value)
        if spec.type in NUMBER_TYPES:
            return self._number(spec, op, value)
        if spec.type in {FieldType.DATE, FieldType.DATETIME}:
            return self._date(spec, op, value)
        if spec.type == FieldType.BOOLEAN:
            return Q(**{f"fields__{spec.custom_key}": op == "is_true"})
        if spec.type == FieldType.CHOICE:
            return self._choice(spec, op, value)
        if spec.type == FieldType.MULTICHOICE:
            return self._multichoice(spec, op, value)
        raise ValueError(f"no compilation for {spec.type} {op}")

    # --- helpers by type ------------------------------------------------------------------------

    def _typed(self, spec: FieldSpec):
        """The value's typed copy (contacts.typed_values), where PostgreSQL has one: compared
        without reading the JSON, and found in the covering index alone."""
        if spec.slot is None or connection.vendor != "postgresql":
            return None
        if spec.type in NUMBER_TYPES:
            return ArrayElement(F(NUMBER_COLUMN), spec.slot, FloatField())
        if spec.type == FieldType.DATE:
            return ArrayElement(F(DATE_COLUMN), spec.slot, DateField())
        return None

    def _empty(self, spec: FieldSpec) -> Q:
        typed = self._typed(spec)
        if typed is not None:
            return Q(IsNull(typed, True))
        if spec.custom_key:
            # Empty custom values are never stored: an absent key is an empty field.
            return ~Q(fields__has_key=spec.custom_key)
        if spec.column in {"birth_date", "created_at"}:
            return Q(**{f"{spec.column}__isnull": True})
        return Q(**{spec.column: ""})

    def _expression(self, spec: FieldSpec):
        return KT(f"fields__{spec.custom_key}") if spec.custom_key else F(spec.column)

    def _text(self, spec: FieldSpec, op: str, value) -> Q:
        lhs = self._expression(spec)
        if op == "in":
            return Q(In(Lower(lhs), [item.lower() for item in value]))
        lookup = {
            "eq": IExact,
            "neq": IExact,
            "contains": IContains,
            "not_contains": IContains,
            "starts_with": IStartsWith,
            "ends_with": IEndsWith,
        }[op]
        query = Q(lookup(lhs, value))
        if op in {"neq", "not_contains"}:
            # NOT on a missing custom value is NULL in SQL: empty fields are "not equal" too.
            return ~query | self._empty(spec) if spec.custom_key else ~query
        return query

    def _number(self, spec: FieldSpec, op: str, value) -> Q:
        lhs = self._typed(spec) or Cast(KT(f"fields__{spec.custom_key}"), FloatField())
        if op == "between":
            low, high = value
            return Q(GreaterThanOrEqual(lhs, float(low))) & Q(LessThanOrEqual(lhs, float(high)))
        lookup = {
            "eq": Exact,
            "neq": Exact,
            "gt": GreaterThan,
            "gte": GreaterThanOrEqual,
            "lt": LessThan,
            "lte": LessThanOrEqual,
        }[op]
        query = Q(lookup(lhs, float(value)))
        if op == "neq":
            return ~query | self._empty(spec)
        return query

    def _date_expression(self, spec: FieldSpec):
        """The field as a date (columns, typed copies) or an ISO 'YYYY-MM-DD' text (JSON)."""
        typed = self._typed(spec)
        if typed is not None:
            return typed
        if spec.custom_key:
            return Substr(KT(f"fields__{spec.custom_key}"), 1, 10)
        if spec.column == "created_at":
            return TruncDate("created_at", tzinfo=self.tz)
        return F(spec.column)

    def _date_value(self, spec: FieldSpec, day: date | str):
        day = date.fromisoformat(day) if isinstance(day, str) else day
        return day.isoformat() if spec.custom_key and self._typed(spec) is None else day

    def _date(self, spec: FieldSpec, op: str, value) -> Q:
        if op == "anniversary_within_days":
            return self._anniversary(spec, value)
        if op == "anniversary_this_month":
            return self._anniversary_month(spec, self.today.month)
        lhs = self._date_expression(spec)
        today = self.today
        ranges = {
            "within_last_days": lambda: (today - timedelta(days=value), today),
            "within_next_days": lambda: (today, today + timedelta(days=value)),
            "between": lambda: tuple(value),
        }
        if op in ranges:
            low, high = ranges[op]()
            return Q(GreaterThanOrEqual(lhs, self._date_value(spec, low))) & Q(
                LessThanOrEqual(lhs, self._date_value(spec, high))
            )
        if op == "more_than_days_ago":
            return Q(LessThan(lhs, self._date_value(spec, today - timedelta(days=value))))
        # Born on or before this day N years ago: N years old or more today. A plain range on
        # the date, so the birth date's index serves it.
        if op == "age_at_least":
            return Q(LessThanOrEqual(lhs, self._date_value(spec, years_before(today, value))))
        if op == "age_at_most":
            return Q(GreaterThan(lhs, self._date_value(spec, years_before(today, value + 1))))
        lookup = {"on": Exact, "before": LessThan, "after": GreaterThan}[op]
        return Q(lookup(lhs, self._date_value(spec, value)))

    def _anniversary(self, spec: FieldSpec, days: int) -> Q:
        pairs = anniversary_days(self.today, days)
        if spec.custom_key:
            month_day = Substr(KT(f"fields__{spec.custom_key}"), 6, 5)
            return Q(In(month_day, [f"{month:02d}-{day:02d}" for month, day in pairs]))
        column = spec.column if spec.column != "created_at" else None
        if column is None:
            return NOTHING
        # month * 100 + day: one indexable expression (see the functional index on Contact).
        month_day = ExtractMonth(column) * Value(100) + ExtractDay(column)
        return Q(In(Cast(month_day, IntegerField()), [m * 100 + d for m, d in pairs]))

    def _anniversary_month(self, spec: FieldSpec, month: int) -> Q:
        if spec.custom_key:
            return Q(Exact(Substr(KT(f"fields__{spec.custom_key}"), 6, 2), f"{month:02d}"))
        if spec.column == "created_at":
            return Q(Exact(ExtractMonth(TruncDate("created_at", tzinfo=self.tz)), month))
        return Q(Exact(ExtractMonth(spec.column), month))

    def _choice(self, spec: FieldSpec, op: str, value) -> Q:
        lhs = self._expression(spec)
        if op == "all_of":
            return Q(Exact(lhs, value[0])) if len(set(value)) == 1 else NOTHING
        query = Q(In(lhs, list(value)))
        if op == "none_of":
            return ~query | self._empty(spec) if spec.custom_key else ~query
        return query

    def _multichoice(self, spec: FieldSpec, op: str, value) -> Q:
        key = spec.custom_key
        table = Contact._meta.db_table
        choices = list(dict.fromkeys(value))
        self.subqueries.add("choices")
        # Values travel as parameters; only the table name and operator come from this code.
        if connection.vendor == "postgresql":
            operator = "?&" if op == "all_of" else "?|"
            matching = RawSQL(  # noqa: S611
                f"SELECT id FROM {table} WHERE account_id = %s AND (fields -> %s) {operator} %s",  # noqa: S608
                (self.account.pk, key, choices),
            )
        else:
            placeholders = ", ".join(["%s"] * len(choices))
            having = f" GROUP BY c.id HAVING COUNT(DISTINCT j.value) = {len(choices)}"
            matching = RawSQL(  # noqa: S611
                f"SELECT c.id FROM {table} c, json_each(c.fields, %s) j "  # noqa: S608
                f"WHERE c.account_id = %s AND json_type(c.fields, %s) = 'array' "
                f"AND j.value IN ({placeholders})" + (having if op == "all_of" else ""),
                (f'$."{key}"', self.account.pk, f'$."{key}"', *choices),
            )
        query = Q(pk__in=matching)
        return ~query if op == "none_of" else query

    def _suppressed(self) -> Q:
        suppressions = Suppression.objects.filter(account=self.account)
        by_email = Exists(
            suppressions.filter(channel=Channel.EMAIL, address_hash=Sha256Hex(OuterRef("email")))
        )
        by_mobile = Exists(
            suppressions.filter(channel=Channel.SMS, address_hash=Sha256Hex(OuterRef("mobile")))
        )
        return (Q(by_email) & ~Q(email="")) | (Q(by_mobile) & ~Q(mobile=""))
