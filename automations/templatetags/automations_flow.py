from django import template
from django.utils.translation import gettext as _

from automations import flow

register = template.Library()


@register.filter
def step_label(kind: str) -> str:
    return flow.step_label(kind)


@register.filter
def get(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def step_summary(step: dict) -> str:
    """One line saying what the step does, shown on its card."""
    kind, config = step.get("kind"), step.get("config") or {}
    if kind == flow.WAIT:
        mode = config.get("mode")
        if mode == "duration":
            parts = [
                _("%(n)s d") % {"n": config["days"]} if config.get("days") else "",
                _("%(n)s h") % {"n": config["hours"]} if config.get("hours") else "",
                _("%(n)s min") % {"n": config["minutes"]} if config.get("minutes") else "",
            ]
            return " ".join(part for part in parts if part)
        if mode == "event":
            return _("until %(event)s, at most %(hours)s h") % {
                "event": config.get("event", ""),
                "hours": config.get("timeout_hours", 0),
            }
        return config.get("time", "")
    if kind == flow.EMAIL:
        return config.get("subject", "")
    if kind == flow.SMS:
        return config.get("text", "")[:60]
    if kind == flow.UPDATE_FIELD:
        return f"{config.get('field', '')} → {config.get('value', '')}"
    if kind == flow.BRANCH:
        return config.get("segment_name", "")
    return ""
