"""Figures as the report pages show them."""

from django import template
from django.utils import formats

register = template.Library()


@register.filter
def percent(value) -> str:
    """A rate between 0 and 1 as a percentage with one decimal, in the active language's format
    (12,5 % in French, 12.5 % in English)."""
    try:
        number = float(value or 0) * 100
    except (TypeError, ValueError):
        return ""
    return f"{formats.number_format(number, 1)}\u00a0%"


@register.filter
def figure(value) -> str:
    """A count with the language's thousands separator (12 345 in French)."""
    try:
        return formats.number_format(int(value or 0), 0, use_l10n=True, force_grouping=True)
    except (TypeError, ValueError):
        return ""
