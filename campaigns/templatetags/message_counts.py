"""A campaign's message counts in words ("7 en attente · 3 envoyés"), not status codes."""

from django import template
from django.utils.translation import ngettext

register = template.Library()


def _count_text(status: str, count: int) -> str:
    texts = {
        "queued": ngettext("%(count)s queued", "%(count)s queued", count),
        "sending": ngettext("%(count)s being sent", "%(count)s being sent", count),
        "sent": ngettext("%(count)s sent", "%(count)s sent", count),
        "sandboxed": ngettext(
            "%(count)s recorded (sandbox)", "%(count)s recorded (sandbox)", count
        ),
        "failed": ngettext("%(count)s failed", "%(count)s failed", count),
        "bounced": ngettext("%(count)s bounced", "%(count)s bounced", count),
        "cancelled": ngettext("%(count)s cancelled", "%(count)s cancelled", count),
    }
    text = texts.get(status, f"%(count)s {status}")
    return text % {"count": count}


@register.simple_tag
def message_counts(stats: dict) -> str:
    """`stats` maps a message status to its count; known statuses come in the pipeline's order."""
    order = ["queued", "sending", "sent", "sandboxed", "bounced", "failed", "cancelled"]
    statuses = sorted(stats, key=lambda status: order.index(status) if status in order else 99)
    return " · ".join(_count_text(status, stats[status]) for status in statuses)
