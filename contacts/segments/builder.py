"""What the segment builder offers an account: its fields with their types, operators and
choices, and the labels of the operators (conditions registered by other apps included)."""

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from contacts import selectors
from contacts.forms import BUILTIN_LABELS
from contacts.models import ConsentStatus, Salutation
from contacts.segments.language import (
    AGE_OPS,
    DAY_COUNT_OPS,
    OPERATORS_BY_TYPE,
    REGISTRY,
    VALUELESS_OPS,
    FieldCatalog,
)

OPERATOR_LABELS = {
    "eq": gettext_lazy("is"),
    "neq": gettext_lazy("is not"),
    "contains": gettext_lazy("contains"),
    "not_contains": gettext_lazy("does not contain"),
    "starts_with": gettext_lazy("starts with"),
    "ends_with": gettext_lazy("ends with"),
    "in": gettext_lazy("is one of"),
    "not_in": gettext_lazy("is not one of"),
    "is_empty": gettext_lazy("is empty"),
    "is_not_empty": gettext_lazy("is not empty"),
    "gt": gettext_lazy("is greater than"),
    "gte": gettext_lazy("is at least"),
    "lt": gettext_lazy("is less than"),
    "lte": gettext_lazy("is at most"),
    "between": gettext_lazy("is between"),
    "on": gettext_lazy("is on"),
    "before": gettext_lazy("is before"),
    "after": gettext_lazy("is after"),
    "within_last_days": gettext_lazy("is within the last (days)"),
    "more_than_days_ago": gettext_lazy("is more than (days) ago"),
    "within_next_days": gettext_lazy("is within the next (days)"),
    "anniversary_within_days": gettext_lazy("anniversary within (days)"),
    "anniversary_this_month": gettext_lazy("anniversary this month"),
    "age_at_least": gettext_lazy("age is at least (years)"),
    "age_at_most": gettext_lazy("age is at most (years)"),
    "is_true": gettext_lazy("is yes"),
    "is_false": gettext_lazy("is no"),
    "any_of": gettext_lazy("is any of"),
    "all_of": gettext_lazy("has all of"),
    "none_of": gettext_lazy("is none of"),
    "in_list": gettext_lazy("is in the list"),
    "not_in_list": gettext_lazy("is not in the list"),
}


def field_labels(account) -> dict[str, str]:
    """What people call each field a condition may name."""
    labels = {name: str(label) for name, label in BUILTIN_LABELS.items()}
    labels.update(
        {
            "created_at": _("Created on"),
            "email_status": _("Email consent"),
            "sms_status": _("SMS consent"),
            "list": _("List"),
            "suppressed": _("Suppressed address"),
        }
    )
    labels.update(
        {f"fields.{f.key}": f.display_label for f in selectors.contact_fields_of(account)}
    )
    labels.update({name: str(registered.label or name) for name, registered in REGISTRY.items()})
    return labels


_STEP = re.compile(r"(all|any)\[(\d+)\]")


def _place(path: str, rules, labels: dict[str, str]) -> str:
    """Where a rule error is, in words: "Condition 2 (City)", "Group 3, condition 1 (City)"."""
    steps = path.split(".") if path and path != "rules" else []
    node, words = rules, []
    for depth, step in enumerate(steps):
        match = _STEP.fullmatch(step)
        children = node.get(match.group(1)) if match and isinstance(node, dict) else None
        if not match or not isinstance(children, list):
            return path
        index = int(match.group(2))
        node = children[index] if index < len(children) else None
        is_group = isinstance(node, dict) and bool({"all", "any"} & set(node))
        if is_group:
            words.append(_("group %(n)d") % {"n": index + 1})
        else:
            words.append(_("condition %(n)d") % {"n": index + 1})
        if depth == len(steps) - 1 and not is_group and isinstance(node, dict):
            field = node.get("field")
            if isinstance(field, str) and field:
                words[-1] += f" ({labels.get(field, field)})"
    if not words:
        return _("The rules")
    text = ", ".join(words)
    return text[:1].upper() + text[1:]


def rule_error_messages(account, rules, errors: dict[str, str]) -> list[dict[str, str]]:
    """A rule tree's errors said for people: `all[0]` becomes "Condition 1 (City)"."""
    labels = field_labels(account)
    return [
        {
            "path": path,
            "text": pgettext("place: error", "%(place)s: %(error)s")
            % {"place": _place(path, rules, labels), "error": message},
        }
        for path, message in errors.items()
    ]


def builder_catalog(account) -> dict:
    """What the segment builder offers: fields with their types, operators and choices."""
    catalog = FieldCatalog.for_account(account)
    labels = field_labels(account)
    fields = []
    for name, spec in catalog.specs.items():
        choices = list(spec.choices)
        if spec.type == "consent":
            choices = [[value, str(label)] for value, label in ConsentStatus.choices]
        elif name == "salutation":
            choices = [[value, str(label)] for value, label in Salutation.choices]
        elif spec.choices:
            choices = [[choice, choice] for choice in spec.choices]
        fields.append(
            {
                "name": name,
                "label": labels.get(name, name),
                "type": spec.type,
                "choices": choices,
            }
        )
    operator_labels = {op: str(label) for op, label in OPERATOR_LABELS.items()}
    for name, registered in REGISTRY.items():
        entry = {"name": name, "label": str(registered.label or name), "type": name}
        if registered.builder is not None:
            entry.update(registered.builder(account))
        fields.append(entry)
        operator_labels.update({op: str(label) for op, label in registered.operator_labels.items()})
    return {
        "fields": fields,
        "operators": {kind: list(ops) for kind, ops in OPERATORS_BY_TYPE.items()}
        | {name: list(registered.operators) for name, registered in REGISTRY.items()},
        "operator_labels": operator_labels,
        "valueless": sorted(VALUELESS_OPS),
        "day_counts": sorted(DAY_COUNT_OPS),
        "year_counts": list(AGE_OPS),
        "units": {"days": _("days"), "years": _("years old")},
        "lists": [[item.pk, item.name] for item in selectors.lists_of(account)],
    }
