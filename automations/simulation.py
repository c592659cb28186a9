"""The editor's test mode: one chosen contact through the scenario, time fast-forwarded, and
what it would send, without sending or changing anything.

Branches are evaluated for the contact as it is now; a wait for an event is shown at its
time-out (the event could release it earlier); consent and suppression are shown as the send
step would find them now.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from automations import flow
from automations.models import Scenario
from campaigns import merge_tags
from campaigns.engine.audience import reachable
from campaigns.engine.channel import channel_named
from contacts.segments.language import SegmentRuleError
from contacts.segments.selectors import rules_contacts

MAX_SIMULATED_STEPS = 250


@dataclass(frozen=True)
class SimulatedStep:
    at: datetime
    step_id: str
    kind: str
    label: str
    detail: str


def _holds(account, rules, contact) -> bool:
    try:
        return rules_contacts(account, rules).filter(pk=contact.pk).exists()
    except SegmentRuleError:
        return False


def _send_detail(account, contact, step: dict) -> str:
    config = step.get("config") or {}
    channel = "email" if step["kind"] == flow.EMAIL else "sms"
    may = reachable(channel_named(channel), account).filter(pk=contact.pk).exists()
    values = merge_tags.contact_values(contact, account)
    text = config.get("subject") if channel == "email" else config.get("text")
    rendered = merge_tags.render(text or "", values, escape=False)
    if not may:
        return _("Not sent: no consent, or the address is suppressed (“%(text)s”)") % {
            "text": rendered
        }
    return _("Would send “%(text)s”") % {"text": rendered}


def _detail(account, contact, step: dict, now: datetime) -> str:
    kind, config = step["kind"], step.get("config") or {}
    if kind in (flow.EMAIL, flow.SMS):
        return _send_detail(account, contact, step)
    if kind == flow.UPDATE_FIELD:
        return f"{config.get('field', '')} → {config.get('value', '')}"
    if kind == flow.NOTIFY:
        return ", ".join(config.get("emails") or [])
    return ""


def scenario_simulate(scenario: Scenario, contact, *, start: datetime | None = None):
    """The steps `contact` would go through, each with the time it would run."""
    account = scenario.account
    nodes = flow.compile_flow(scenario.steps or [])
    now = start or timezone.now()
    current = flow.first_step_id(scenario.steps or [])
    journey = []
    while current is not None and len(journey) < MAX_SIMULATED_STEPS:
        node = nodes[current]
        step = node.step
        detail, following = "", node.next_id
        if step["kind"] == flow.WAIT:
            now = flow.wait_release(step.get("config") or {}, now, account.timezone)
        elif step["kind"] == flow.BRANCH:
            holds = _holds(account, (step.get("config") or {}).get("rules"), contact)
            detail = _("yes") if holds else _("no")
            following = node.yes_id if holds else node.no_id
        else:
            detail = _detail(account, contact, step, now)
        journey.append(
            SimulatedStep(now, step["id"], step["kind"], flow.step_label(step["kind"]), detail)
        )
        current = following
    return journey
