"""What the segment builder offers an account: its fields with their types, operators and
choices, and the labels of the operators (conditions registered by other apps included)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts import selectors
from contacts.forms import BUILTIN_LABELS
from contacts.models import ConsentStatus
from contacts.segments.language import (
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
    "is_true": gettext_lazy("is yes"),
    "is_false": gettext_lazy("is no"),
    "any_of": gettext_lazy("is any of"),
    "all_of": gettext_lazy("has all of"),
    "none_of": gettext_lazy("is none of"),
    "in_list": gettext_lazy("is in the list"),
    "not_in_list": gettext_lazy("is not in the list"),
}


def builder_catalog(account) -> dict:
    """What the segment builder offers: fields with their types, operators and choices."""
    catalog = FieldCatalog.for_account(account)
    labels = dict(BUILTIN_LABELS)
    labels.update(
        {
            "created_at": _("Created on"),
            "email_status": _("Email consent"),
            "sms_status": _("SMS consent"),
            "list": _("List"),
            "suppressed": _("Suppressed address"),
        }
    )
    custom = {f"fields.{f.key}": f.display_label for f in selectors.contact_fields_of(account)}
    fields = []
    for name, spec in catalog.specs.items():
        choices = list(spec.choices)
        if spec.type == "consent":
            choices = [[value, str(label)] for value, label in ConsentStatus.choices]
        elif spec.choices:
            choices = [[choice, choice] for choice in spec.choices]
        fields.append(
            {
                "name": name,
                "label": str(custom.get(name) or labels.get(name, name)),
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
        "lists": [[item.pk, item.name] for item in selectors.lists_of(account)],
    }
