"""Figures as the report pages show them."""

from django import template
from django.utils import formats

from stats.formatting import percent_text

register = template.Library()


@register.filter
def percent(value) -> str:
    """A rate between 0 and 1 as a percentage rounded to one decimal, in the active language's
    format (42,9 % in French, 42.9 % in English for 3/7)."""
    try:
        return f"{percent_text(value, 1)}\u00a0%"
    except (TypeError, ValueError):
        return ""


@register.filter
def figure(value) -> str:
    """A count with the language's thousands separator (12 345 in French)."""
    try:
        return formats.number_format(int(value or 0), 0, use_l10n=True, force_grouping=True)
    except (TypeError, ValueError):
        return ""
