"""The segment rule language: what a rule tree may contain, and its validation.

A rule is a JSON tree of groups and conditions:

    {"all": [                                   # every child must hold ("any": at least one)
        {"field": "fields.last_order", "op": "more_than_days_ago", "value": 90},
        {"field": "fields.points", "op": "gt", "value": 100},
        {"field": "list", "op": "in_list", "value": 12},
        {"any": [...]}                          # groups nest
    ]}

Fields are the built-in contact columns, `fields.<key>` for the account's custom fields, and the
special fields `email_status`, `sms_status`, `list`, `suppressed`. Other apps register more (the
statistics app registers email activity) through `register_condition`, so the contact base does
not depend on them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from accounts.errors import ConflictError, NotFoundError, ServiceError
from contacts.models import BUILTIN_FIELDS, ConsentStatus, FieldType
from contacts.normalization import (
    InvalidValue,
    normalize_field_value,
    parse_date,
)

MAX_DEPTH = 5
MAX_CONDITIONS = 100
MAX_DAYS = 3660
MAX_YEARS = 150

TEXT_OPS = (
    "eq", "neq", "contains", "not_contains", "starts_with", "ends_with", "is_empty",
    "is_not_empty", "in",
)  # fmt: skip
NUMBER_OPS = ("eq", "neq", "gt", "gte", "lt", "lte", "between", "is_empty", "is_not_empty")
DATE_OPS = (
    "on", "before", "after", "between", "within_last_days", "more_than_days_ago",
    "within_next_days", "anniversary_within_days", "anniversary_this_month", "is_empty",
    "is_not_empty",
)  # fmt: skip
# A person's age from a date of birth, in whole years: relative to today, like the day counts.
AGE_OPS = ("age_at_least", "age_at_most")
BIRTH_DATE_OPS = (*DATE_OPS, *AGE_OPS)
BOOLEAN_OPS = ("is_true", "is_false", "is_empty", "is_not_empty")
CHOICE_OPS = ("any_of", "all_of", "none_of", "is_empty", "is_not_empty")
STATUS_OPS = ("in", "not_in")
LIST_OPS = ("in_list", "not_in_list")

OPERATORS_BY_TYPE: dict[str, tuple[str, ...]] = {
    FieldType.TEXT: TEXT_OPS,
    FieldType.EMAIL: TEXT_OPS,
    FieldType.URL: TEXT_OPS,
    FieldType.PHONE: TEXT_OPS,
    FieldType.NUMBER: NUMBER_OPS,
    FieldType.DECIMAL: NUMBER_OPS,
    FieldType.DATE: BIRTH_DATE_OPS,
    FieldType.DATETIME: DATE_OPS,
    FieldType.BOOLEAN: BOOLEAN_OPS,
    FieldType.CHOICE: CHOICE_OPS,
    FieldType.MULTICHOICE: CHOICE_OPS,
    "consent": STATUS_OPS,
    "list": LIST_OPS,
    "suppressed": BOOLEAN_OPS[:2],
}
# "anniversary_this_month": the date's month is the current month in the account's time zone
# (a birthday this month), whatever the day.
VALUELESS_OPS = {"is_empty", "is_not_empty", "is_true", "is_false", "anniversary_this_month"}
DAY_COUNT_OPS = {
    "within_last_days",
    "more_than_days_ago",
    "within_next_days",
    "anniversary_within_days",
}
SPECIAL_FIELDS = {
    "email_status": "consent",
    "sms_status": "consent",
    "list": "list",
    "suppressed": "suppressed",
}


@dataclass(frozen=True)
class FieldSpec:
    """What a condition's `field` refers to."""

    name: str
    type: str
    choices: tuple[str, ...] = ()
    column: str | None = None  # a Contact column, or None for a custom field
    custom_key: str | None = None
    slot: int | None = None  # position in Contact.number_values/date_values, if typed


@dataclass
class RegisteredCondition:
    """A condition kind contributed by another app (e.g. email activity)."""

    operators: tuple[str, ...]
    validate: Callable  # (account, op, value) -> cleaned value; raises InvalidValue
    compile: Callable  # (account, op, value, today, now) -> Q
    label: str = ""
    operator_labels: dict[str, str] = field(default_factory=dict)  # for the segment builder
    builder: Callable | None = None  # (account) -> extra keys of the builder's field entry
    # The JSON Schema (draft 7) of its value, published by the API, which holds requests to it;
    # None: it takes no value.
    value_schema: dict | None = None


REGISTRY: dict[str, RegisteredCondition] = {}


def register_condition(name: str, condition: RegisteredCondition) -> None:
    REGISTRY[name] = condition


class UnknownReference(InvalidValue):
    """A condition names a custom field, a list or a campaign the account does not have."""


class DoesNotFitField(InvalidValue):
    """A well-formed condition that the custom field it names does not take (an operator or a
    value of another type, a choice it does not have): it depends on the field's definition."""


class SegmentRuleError(ServiceError):
    """A bad rule tree. `paths` (also `errors`) maps the path of each bad node (e.g.
    `all[1].any[0]`; "rules" for the whole tree, "name" for the segment's name) to what is wrong,
    as the segment builder shows it; `fields` names the same nodes as API fields (`rules.all[1]`).
    """

    def __init__(self, paths: dict[str, str]):
        self.paths = {path: str(reason) for path, reason in paths.items()}
        super().__init__(
            {
                path if path in ("name", "rules") else f"rules.{path}": reason
                for path, reason in self.paths.items()
            }
        )

    @property
    def errors(self) -> dict[str, str]:
        return dict(self.paths)

    @classmethod
    def of(cls, paths: dict[str, str], kinds: set[type]) -> "SegmentRuleError":
        """The error for these bad nodes: a malformed one makes the rule invalid (400);
        otherwise a reference to what the account does not have is a 404, as an unknown id in
        a URL, and a condition its custom field does not take a conflict with that field (409).
        """
        if not kinds <= {UnknownReference, DoesNotFitField}:
            return cls(paths)
        if UnknownReference in kinds:
            return SegmentRuleNotFound(paths)
        return SegmentRuleConflict(paths)


class SegmentRuleNotFound(SegmentRuleError, NotFoundError):
    code = "not_found"


class SegmentRuleConflict(SegmentRuleError, ConflictError):
    code = "does_not_fit_field"


@dataclass
class FieldCatalog:
    """The fields one account's rules may use."""

    specs: dict[str, FieldSpec] = field(default_factory=dict)
    list_ids: set[int] = field(default_factory=set)

    @classmethod
    def for_account(cls, account) -> "FieldCatalog":
        from contacts.models import ContactField, ContactList

        builtin_types = {**BUILTIN_FIELDS, "created_at": FieldType.DATETIME}
        specs = {
            name: FieldSpec(name=name, type=field_type, column=name)
            for name, field_type in builtin_types.items()
        }
        specs["salutation"] = FieldSpec(
            name="salutation", type=FieldType.CHOICE, choices=("mr", "mrs"), column="salutation"
        )
        for custom in ContactField.objects.filter(account=account):
            name = f"fields.{custom.key}"
            specs[name] = FieldSpec(
                name=name,
                type=custom.type,
                choices=tuple(custom.choices),
                custom_key=custom.key,
                slot=custom.slot,
            )
        for name, kind in SPECIAL_FIELDS.items():
            specs[name] = FieldSpec(name=name, type=kind)
        list_ids = set(ContactList.objects.filter(account=account).values_list("pk", flat=True))
        return cls(specs=specs, list_ids=list_ids)


def _clean_scalar(spec: FieldSpec, value):
    """A comparison value, normalised like stored values of the field's type."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidValue(_("a value is required"))
    if isinstance(value, (list, dict)):
        raise InvalidValue(_("the value must be a single value, not a list or an object"))
    if isinstance(value, str) and "\x00" in value:
        # Rules are stored as JSON, and PostgreSQL cannot store this character there.
        raise InvalidValue(_("the value holds a NUL character"))
    if spec.type in {FieldType.DATE, FieldType.DATETIME}:
        return parse_date(value).isoformat()
    if spec.type in {FieldType.NUMBER, FieldType.DECIMAL}:
        return normalize_field_value(FieldType.DECIMAL, value)
    return str(value).strip()


def clean_condition(node: dict, catalog: FieldCatalog, account) -> dict:
    """A validated condition with normalised values; raises InvalidValue saying what is wrong."""
    field_name, op, value = node.get("field"), node.get("op"), node.get("value")
    unknown_keys = set(node) - {"field", "op", "value"}
    if unknown_keys:
        raise InvalidValue(_("unknown keys: %(keys)s") % {"keys": ", ".join(sorted(unknown_keys))})
    if not isinstance(field_name, str) or not field_name:
        raise InvalidValue(_("a condition needs a field"))
    if field_name in REGISTRY:
        registered = REGISTRY[field_name]
        if op not in registered.operators:
            raise InvalidValue(
                _("operator “%(op)s” is not valid for a %(type)s field; use one of: %(ops)s")
                % {"op": op, "type": field_name, "ops": ", ".join(registered.operators)}
            )
        return {"field": field_name, "op": op, "value": registered.validate(account, op, value)}
    spec = catalog.specs.get(field_name)
    if spec is None:
        unknown = UnknownReference if field_name.startswith("fields.") else InvalidValue
        raise unknown(_("unknown field: %(field)s") % {"field": field_name})
    if spec.custom_key is None:
        return _clean_condition_of(spec, op, value, catalog)
    try:
        return _clean_condition_of(spec, op, value, catalog)
    except UnknownReference:
        raise
    except InvalidValue as error:
        raise DoesNotFitField(str(error)) from None


def _clean_condition_of(spec: FieldSpec, op, value, catalog: FieldCatalog) -> dict:
    field_name = spec.name
    operators = OPERATORS_BY_TYPE[spec.type]
    if op not in operators:
        raise InvalidValue(
            _("operator “%(op)s” is not valid for a %(type)s field; use one of: %(ops)s")
            % {"op": op, "type": spec.type, "ops": ", ".join(operators)}
        )
    if op in VALUELESS_OPS:
        cleaned = None
    elif op in DAY_COUNT_OPS:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
            raise InvalidValue(
                _("the value must be a whole number of days between 0 and %(max)d")
                % {"max": MAX_DAYS}
            )
        cleaned = value
    elif op in AGE_OPS:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_YEARS:
            raise InvalidValue(
                _("the value must be a whole number of years between 0 and %(max)d")
                % {"max": MAX_YEARS}
            )
        cleaned = value
    elif op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise InvalidValue(_("“between” needs a list of two values: [low, high]"))
        cleaned = [_clean_scalar(spec, item) for item in value]
    elif op in {"in", "not_in", "any_of", "all_of", "none_of"}:
        if not isinstance(value, list) or not value:
            raise InvalidValue(_("the value must be a non-empty list"))
        if spec.type == "consent":
            bad = [item for item in value if item not in ConsentStatus.values]
            if bad:
                raise InvalidValue(
                    _("unknown consent status: %(value)s") % {"value": ", ".join(map(str, bad))}
                )
            cleaned = list(value)
        elif spec.choices:
            cleaned = []
            lowered = {choice.lower(): choice for choice in spec.choices}
            for item in value:
                choice = lowered.get(str(item).strip().lower())
                if choice is None:
                    raise InvalidValue(
                        _("“%(value)s” is not one of: %(choices)s")
                        % {"value": item, "choices": ", ".join(spec.choices)}
                    )
                cleaned.append(choice)
        else:
            cleaned = [_clean_scalar(spec, item) for item in value]
    elif op in LIST_OPS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidValue(_("no such list: %(value)s") % {"value": value})
        if value not in catalog.list_ids:
            raise UnknownReference(_("no such list: %(value)s") % {"value": value})
        cleaned = value
    else:
        cleaned = _clean_scalar(spec, value)
    return {"field": field_name, "op": op, "value": cleaned}


def validate_rules(rules, catalog: FieldCatalog, account) -> dict:
    """The rule tree, checked and normalised; raises SegmentRuleError listing every bad node."""
    errors: dict[str, str] = {}
    kinds: set[type] = set()
    count = 0

    def refuse(path: str, reason, kind: type = InvalidValue) -> None:
        errors[path or "rules"] = str(reason)
        kinds.add(kind)

    def walk(node, path: str, depth: int):
        nonlocal count
        if not isinstance(node, dict):
            return refuse(path, _("must be a group or a condition object"))
        groups = [key for key in ("all", "any") if key in node]
        if groups:
            if len(node) != 1:
                return refuse(path, _("a group has exactly one key: “all” or “any”"))
            kind = groups[0]
            children = node[kind]
            if depth >= MAX_DEPTH:
                return refuse(path, _("groups nest at most %(n)d deep") % {"n": MAX_DEPTH})
            if not isinstance(children, list):
                return refuse(path, _("“%(kind)s” must be a list") % {"kind": kind})
            prefix = f"{path}." if path else ""
            cleaned = [
                walk(child, f"{prefix}{kind}[{index}]", depth + 1)
                for index, child in enumerate(children)
            ]
            return {kind: cleaned}
        count += 1
        if count > MAX_CONDITIONS:
            return refuse(path, _("at most %(n)d conditions") % {"n": MAX_CONDITIONS})
        try:
            return clean_condition(node, catalog, account)
        except InvalidValue as error:
            return refuse(path, error, type(error))

    if not isinstance(rules, dict) or not ({"all", "any"} & set(rules)):
        raise SegmentRuleError({"rules": _('the top of a rule is a group: {"all": [...]}')})
    cleaned = walk(rules, "", 0)
    if errors:
        raise SegmentRuleError.of(errors, kinds)
    return cleaned


def years_before(today: date, years: int) -> date:
    """The same day `years` earlier; 29 February becomes 28 February in a year without one."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def anniversary_days(today: date, days: int) -> list[tuple[int, int]]:
    """(month, day) pairs from today to today + days. A 29 February birthday is celebrated on
    28 February in years without one."""
    from datetime import timedelta

    pairs = []
    for offset in range(min(days, 366) + 1):
        current = today + timedelta(days=offset)
        pairs.append((current.month, current.day))
        if current.month == 2 and current.day == 28:
            leap = current.year % 4 == 0 and (current.year % 100 != 0 or current.year % 400 == 0)
            if not leap:
                pairs.append((2, 29))
    return list(dict.fromkeys(pairs))
