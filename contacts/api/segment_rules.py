"""The JSON shape of segment rules in the API: the schema it publishes and the check that holds
requests to it, both made from one table built on the rule language (contacts.segments.language).

The shape is exact: a rule the schema allows is well formed, and the check refuses (400) what it
does not allow. What depends on the account is left to the rule language: a custom field, list or
campaign the account does not have is a 404 (as an unknown id in a URL), and a condition that the
custom field it names does not take (an operator or a value of another type, a choice it does not
have) a 409, a conflict with that field's definition. The segment builder's form is more lenient
(numbers and dates typed as text): it calls the rule language directly.
"""

import re
from dataclasses import dataclass

import jsonschema
from django.utils.translation import gettext as _
from rest_framework import serializers

from accounts.api_conventions import INT64
from accounts.api_fields import NOT_BLANK
from contacts.models import BUILTIN_FIELDS, ConsentStatus, FieldType, field_key_validator
from contacts.segments.language import (
    AGE_OPS,
    DAY_COUNT_OPS,
    LIST_OPS,
    MAX_CONDITIONS,
    MAX_DAYS,
    MAX_DEPTH,
    MAX_YEARS,
    REGISTRY,
    SPECIAL_FIELDS,
    STATUS_OPS,
    TEXT_OPS,
    VALUELESS_OPS,
    SegmentRuleError,
)

# The JSON Schema of each kind of value (draft 7; `nullable` types are written as lists and
# turned into OpenAPI 3.0's `nullable` when published).
TEXT = {"type": "string", "pattern": NOT_BLANK}
TEXTS = {"type": "array", "items": TEXT, "minItems": 1}
NUMBER = {"type": "number", "minimum": -(2**63), "maximum": INT64}
DATE = {"type": "string", "format": "date"}
DAYS = {"type": "integer", "minimum": 0, "maximum": MAX_DAYS}
YEARS = {"type": "integer", "minimum": 0, "maximum": MAX_YEARS}
LIST_ID = {"type": "integer", "format": "int64", "minimum": 1, "maximum": INT64}
STATUSES = {
    "type": "array",
    "items": {"type": "string", "enum": list(ConsentStatus.values)},
    "minItems": 1,
}
NUMBER_OR_TEXT = {"anyOf": [NUMBER, TEXT]}
NUMBER_OR_DATE = {"anyOf": [NUMBER, DATE]}


def pair(item: dict) -> dict:
    return {"type": "array", "items": item, "minItems": 2, "maxItems": 2}


CUSTOM_FIELD_PATTERN = "^fields\\." + field_key_validator.regex.pattern.lstrip("^")


@dataclass(frozen=True)
class ConditionShape:
    """One kind of condition: the fields it applies to (names, or a pattern for custom fields),
    its operators and the value they take (None: no value)."""

    title: str
    ops: tuple[str, ...]
    value: dict | None
    fields: tuple[str, ...] = ()
    field_pattern: str = ""
    value_required: bool = True


def _builtin_names(*types: str) -> tuple[str, ...]:
    names = {**BUILTIN_FIELDS, "created_at": FieldType.DATETIME}
    return tuple(name for name, field_type in names.items() if field_type in types)


TEXT_FIELDS = _builtin_names(FieldType.TEXT, FieldType.EMAIL, FieldType.PHONE, FieldType.URL)
DATE_FIELDS = _builtin_names(FieldType.DATE, FieldType.DATETIME)
BIRTH_DATE_FIELDS = _builtin_names(FieldType.DATE)
STATUS_FIELDS = tuple(name for name, kind in SPECIAL_FIELDS.items() if kind == "consent")
SCALAR_TEXT_OPS = tuple(op for op in TEXT_OPS if op not in VALUELESS_OPS and op != "in")
DATE_VALUE_OPS = ("on", "before", "after")
CHOICE_VALUE_OPS = ("any_of", "all_of", "none_of")
EMPTINESS_OPS = ("is_empty", "is_not_empty")


def _builtin_shapes() -> list[ConditionShape]:
    salutations = {"type": "array", "items": {"type": "string", "enum": ["mr", "mrs"]}}
    salutations["minItems"] = 1
    return [
        ConditionShape("Text field", SCALAR_TEXT_OPS, TEXT, TEXT_FIELDS),
        ConditionShape("Text field, one of values", ("in",), TEXTS, TEXT_FIELDS),
        ConditionShape("Text field, emptiness", EMPTINESS_OPS, None, TEXT_FIELDS),
        ConditionShape("Salutation", CHOICE_VALUE_OPS, salutations, ("salutation",)),
        ConditionShape("Salutation, emptiness", EMPTINESS_OPS, None, ("salutation",)),
        ConditionShape("Date field", DATE_VALUE_OPS, DATE, DATE_FIELDS),
        ConditionShape("Date field, between", ("between",), pair(DATE), DATE_FIELDS),
        ConditionShape("Date field, days", tuple(sorted(DAY_COUNT_OPS)), DAYS, DATE_FIELDS),
        ConditionShape("Date field, emptiness", EMPTINESS_OPS, None, DATE_FIELDS),
        ConditionShape(
            "Date field, anniversary this month", ("anniversary_this_month",), None, DATE_FIELDS
        ),
        # An age is counted from a date of birth: date fields only, not date-times.
        ConditionShape("Date field, age in years", AGE_OPS, YEARS, BIRTH_DATE_FIELDS),
        ConditionShape("Consent status", STATUS_OPS, STATUSES, STATUS_FIELDS),
        ConditionShape("List membership", LIST_OPS, LIST_ID, ("list",)),
        ConditionShape("Suppressed address", ("is_true", "is_false"), None, ("suppressed",)),
    ]


def _custom_shapes() -> list[ConditionShape]:
    """A custom field's type is the account's: the shapes take the operators of every type, and
    the rule language answers 409 for one the field does not take."""
    shapes = [
        ("Custom field, equality", ("eq", "neq"), NUMBER_OR_TEXT),
        ("Custom field, text", ("contains", "not_contains", "starts_with", "ends_with"), TEXT),
        ("Custom field, one of values", ("in", *CHOICE_VALUE_OPS), TEXTS),
        ("Custom field, number comparison", ("gt", "gte", "lt", "lte"), NUMBER),
        ("Custom field, between", ("between",), pair(NUMBER_OR_DATE)),
        ("Custom field, date", DATE_VALUE_OPS, DATE),
        ("Custom field, days", tuple(sorted(DAY_COUNT_OPS)), DAYS),
        ("Custom field, age in years", AGE_OPS, YEARS),
        ("Custom field, no value", tuple(sorted(VALUELESS_OPS)), None),
    ]
    return [
        ConditionShape(title, ops, value, field_pattern=CUSTOM_FIELD_PATTERN)
        for title, ops, value in shapes
    ]


def condition_shapes() -> list[ConditionShape]:
    """Every kind of condition, those other apps registered included (read when called: the
    registry fills as apps load)."""
    registered = [
        ConditionShape(
            f"Registered: {name}",
            condition.operators,
            condition.value_schema,
            (name,),
            value_required=False,
        )
        for name, condition in sorted(REGISTRY.items())
    ]
    return [*_builtin_shapes(), *registered, *_custom_shapes()]


def _shape_of(field_name: str, op) -> tuple[ConditionShape | None, str]:
    """The shape of a condition on `field_name` with `op`, or None and why there is none."""
    shapes = [
        shape
        for shape in condition_shapes()
        if field_name in shape.fields
        or (shape.field_pattern and re.search(shape.field_pattern, field_name))
    ]
    if not shapes:
        return None, _("unknown field: %(field)s") % {"field": field_name}
    for shape in shapes:
        if op in shape.ops:
            return shape, ""
    ops = [op for shape in shapes for op in shape.ops]
    return None, _("the operator must be one of: %(ops)s") % {"ops": ", ".join(ops)}


_FORMATS = jsonschema.FormatChecker(["date"])
# JSON's 3.0 is an integer to JSON Schema, not to the rule language (nor to DRF): whole numbers
# are written as such.
_STRICT_TYPES = jsonschema.Draft7Validator.TYPE_CHECKER.redefine(
    "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
)
_Validator = jsonschema.validators.extend(jsonschema.Draft7Validator, type_checker=_STRICT_TYPES)


def _value_problem(shape: ConditionShape, node: dict) -> str:
    if shape.value is None:
        if node.get("value") is None:
            return ""
        return _("this operator takes no value: leave “value” out, or give null")
    if "value" not in node:
        return "" if not shape.value_required else _("a value is required")
    validator = _Validator(shape.value, format_checker=_FORMATS)
    error = jsonschema.exceptions.best_match(validator.iter_errors(node["value"]))
    if error is None:
        return ""
    where = "".join(f"[{step}]" for step in error.absolute_path)
    return _("value%(where)s: %(reason)s") % {"where": where, "reason": error.message}


def rule_shape_errors(rules) -> dict[str, str]:
    """What is malformed in a rule tree, by path (`all[1].any[0]`), as the schema says."""
    errors: dict[str, str] = {}
    conditions = 0

    def walk(node, path: str, depth: int) -> None:
        nonlocal conditions
        where = path or "rules"
        if not isinstance(node, dict):
            errors[where] = _("must be a group or a condition object")
            return
        if depth == 0 or {"all", "any"} & set(node):
            if len(node) != 1 or not {"all", "any"} >= set(node):
                errors[where] = _("a group has exactly one key: “all” or “any”")
                return
            ((kind, children),) = node.items()
            if depth >= MAX_DEPTH:
                errors[where] = _("groups nest at most %(n)d deep") % {"n": MAX_DEPTH}
            elif not isinstance(children, list):
                errors[where] = _("“%(kind)s” must be a list") % {"kind": kind}
            else:
                prefix = f"{path}." if path else ""
                for index, child in enumerate(children):
                    walk(child, f"{prefix}{kind}[{index}]", depth + 1)
            return
        conditions += 1
        unknown_keys = set(node) - {"field", "op", "value"}
        if unknown_keys:
            errors[where] = _("unknown keys: %(keys)s") % {"keys": ", ".join(sorted(unknown_keys))}
        elif not isinstance(node.get("field"), str) or not isinstance(node.get("op"), str):
            errors[where] = _("a condition has a “field” and an “op” (texts)")
        else:
            shape, reason = _shape_of(node["field"], node["op"])
            reason = reason or _value_problem(shape, node)
            if reason:
                errors[where] = reason

    walk(rules, "", 0)
    if conditions > MAX_CONDITIONS and not errors:
        errors["rules"] = _("at most %(n)d conditions") % {"n": MAX_CONDITIONS}
    return errors


class RulesField(serializers.JSONField):
    """A rule tree (see RULES_DESCRIPTION), checked against its schema: a malformed one is a
    400 naming each bad node as a field (`rules.all[1]`), as the rule language names them."""

    def to_internal_value(self, data):
        rules = super().to_internal_value(data)
        errors = rule_shape_errors(rules)
        if errors:
            raise SegmentRuleError(errors)
        return rules


RULES_DESCRIPTION = (
    'A group: `{"all": [...]}` (every child holds) or `{"any": [...]}` (at least one). Children '
    f"are groups (nested up to {MAX_DEPTH} deep, the top one included) or conditions "
    '`{"field", "op", "value"}`, at most '
    f"{MAX_CONDITIONS} conditions in the whole tree (more is a 400). Fields: the built-in "
    "columns, `fields.<key>` for the account's custom fields, `email_status`, `sms_status`, "
    "`list`, `suppressed`, `email_activity` and `sms_activity` (received an SMS campaign, "
    "replied STOP); each kind of condition below says its "
    "operators and value (text comparisons ignore case; relative days count in the account's "
    "time zone). A custom field, list or campaign the account does not have is a 404; a "
    "condition its custom field does not take (an operator or a value of another type, a "
    "choice it does not have; see GET /api/v1/fields/) is a 409 `does_not_fit_field`."
)


def _openapi(schema):
    """JSON Schema (draft 7) → OpenAPI 3.0: a type list with "null" becomes `nullable`."""
    if isinstance(schema, list):
        return [_openapi(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: _openapi(value) for key, value in schema.items()}
    if isinstance(result.get("type"), list):
        types = [kind for kind in result["type"] if kind != "null"]
        result["type"] = types[0]
        if len(types) < len(schema["type"]):
            result["nullable"] = True
    return result


def _condition_schema(shape: ConditionShape) -> dict:
    field = {"type": "string"}
    if shape.fields:
        field["enum"] = list(shape.fields)
    else:
        field["pattern"] = shape.field_pattern
    properties = {"field": field, "op": {"type": "string", "enum": list(shape.ops)}}
    required = ["field", "op"]
    if shape.value is None:
        properties["value"] = {
            "type": "string",
            "nullable": True,
            "enum": [None],
            "description": "No value: leave it out, or give null.",
        }
    else:
        properties["value"] = _openapi(shape.value)
        if shape.value_required:
            required.append("value")
    return {
        "title": shape.title,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


CONDITION = "SegmentCondition"


def _group_name(depth: int) -> str:
    return "SegmentRules" if depth == 0 else f"SegmentRuleGroup{depth}"


def rule_components() -> dict[str, dict]:
    """The schema components of a rule tree: the conditions, and one group per depth (OpenAPI
    cannot count the depth of a recursive reference)."""
    components = {
        CONDITION: {
            "description": "One condition: its kinds, each with its fields, operators and value.",
            "oneOf": [_condition_schema(shape) for shape in condition_shapes()],
        }
    }
    for depth in range(MAX_DEPTH):
        child = {"$ref": f"#/components/schemas/{CONDITION}"}
        if depth + 1 < MAX_DEPTH:
            child = {"oneOf": [child, {"$ref": f"#/components/schemas/{_group_name(depth + 1)}"}]}
        children = {"type": "array", "items": child, "maxItems": MAX_CONDITIONS}
        components[_group_name(depth)] = {
            "type": "object",
            "properties": {"all": children, "any": children},
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
        }
    components["SegmentRules"].update(
        description=RULES_DESCRIPTION,
        # Built-in fields only, so that the example holds on any account, a fresh one included.
        example={
            "all": [
                {"field": "birth_date", "op": "anniversary_within_days", "value": 30},
                {"field": "email_status", "op": "in", "value": ["subscribed"]},
                {"any": [{"field": "city", "op": "in", "value": ["Paris", "Lyon"]}]},
            ]
        },
    )
    return components


def add_rule_components(result, generator, request, public):
    """drf-spectacular post-processing hook: the rule components, added after the enum hook (which
    would merge the operator sets of the condition kinds into one)."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(rule_components())
    return result


RULES_REF = {"$ref": "#/components/schemas/SegmentRules"}
