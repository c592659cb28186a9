"""Reading scenarios, enrolments and per-step statistics, always from the account."""

import time

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q

from automations import flow
from automations.models import DueStep, Enrolment, Scenario, StepCampaign
from campaigns.models import Message
from connectors.models import ShopOrder
from sms.models import SmsMessage

# The trigger receivers run for every contact an import or a shop sync creates (thousands a
# minute): an account's active triggers are read from the database once per few seconds, not
# once per contact (a sync of 6,000 customers spent 20 of its 37 s asking). Services forget the
# cached set when a scenario's status or trigger changes; a worker with its own in-process cache
# (the embedded default) sees the change within the TTLs.
ACTIVE_TRIGGERS_TTL = 5


def _active_triggers_key(account_id: int) -> str:
    return f"automations:active-triggers:{account_id}"


# In front of the shared cache, this process keeps what it read for a second: a sync's
# thousands of signals then cost no round trip to Redis either.
LOCAL_TTL = 1.0
_recently_read: dict[int, tuple[float, frozenset[str]]] = {}


def active_triggers(account_id: int) -> frozenset[str]:
    """The triggers of the account's active scenarios."""
    now = time.monotonic()
    recent = _recently_read.get(account_id)
    if recent is not None and recent[0] > now:
        return recent[1]
    key = _active_triggers_key(account_id)
    found = cache.get(key)
    if found is None:
        found = sorted(
            set(
                Scenario.objects.filter(
                    account_id=account_id, status=Scenario.Status.ACTIVE
                ).values_list("trigger", flat=True)
            )
        )
        cache.set(key, found, ACTIVE_TRIGGERS_TTL)
    triggers = frozenset(found)
    if len(_recently_read) > 10_000:  # a worker serving many accounts: start afresh
        _recently_read.clear()
    _recently_read[account_id] = (now + LOCAL_TTL, triggers)
    return triggers


def forget_active_triggers(account_id: int) -> None:
    _recently_read.pop(account_id, None)
    cache.delete(_active_triggers_key(account_id))


def scenarios_of(account):
    return Scenario.objects.filter(account=account).select_related("current_version")


def enrolments_of(scenario: Scenario):
    return Enrolment.objects.filter(
        account_id=scenario.account_id, scenario=scenario
    ).select_related("contact", "version")


def contact_journeys(contact):
    """The scenarios a contact went through, each with its steps: the contact's timeline."""
    return (
        Enrolment.objects.filter(account_id=contact.account_id, contact=contact)
        .select_related("scenario", "version")
        .prefetch_related("steps")
        .order_by("-entered_at")
    )


def scenario_stats(scenario: Scenario) -> list[dict]:
    """Per step of the current flow (all versions counted together, steps keep their ids):
    entered, waiting, done, exited by reason, for sending steps sent/opened/clicked, and
    conversions: contacts who placed an order after the step."""
    rows = (
        DueStep.objects.filter(scenario=scenario)
        .values("step_id", "status", "outcome")
        .annotate(count=Count("pk"))
    )
    by_step: dict[str, dict] = {}
    for row in rows:
        figures = by_step.setdefault(
            row["step_id"], {"entered": 0, "waiting": 0, "done": 0, "exited": {}}
        )
        figures["entered"] += row["count"]
        if row["status"] in (DueStep.Status.PENDING, DueStep.Status.HELD, DueStep.Status.CLAIMED):
            figures["waiting"] += row["count"]
        elif row["status"] == DueStep.Status.DONE:
            figures["done"] += row["count"]
        else:
            reason = row["outcome"] or "cancelled"
            figures["exited"][reason] = figures["exited"].get(reason, 0) + row["count"]
    messages = _message_figures(scenario)
    conversions = _conversions(scenario)
    result = []
    for step in flow.iter_steps(scenario.steps or []):
        figures = by_step.get(step["id"], {"entered": 0, "waiting": 0, "done": 0, "exited": {}})
        result.append({
            "step": step["id"],
            "kind": step["kind"],
            **figures,
            **messages.get(step["id"], {"sent": 0, "opened": 0, "clicked": 0}),
            "conversions": conversions.get(step["id"], 0),
        })  # fmt: skip
    return result


def _conversions(scenario: Scenario) -> dict[str, int]:
    """Contacts who ordered (the shop connectors' orders) after passing each step."""
    ordered_after = ShopOrder.objects.filter(
        connection__account_id=scenario.account_id,
        email=OuterRef("enrolment__contact__email"),
        created_at__gt=OuterRef("done_at"),
    )
    rows = (
        DueStep.objects.filter(scenario=scenario, status=DueStep.Status.DONE)
        .filter(Exists(ordered_after))
        .values("step_id")
        .annotate(count=Count("pk"))
    )
    return {row["step_id"]: row["count"] for row in rows}


def _message_figures(scenario: Scenario) -> dict[str, dict]:
    figures: dict[str, dict] = {}
    links = StepCampaign.objects.filter(version__scenario=scenario)
    for link in links:
        if link.email_campaign_id:
            counts = Message.objects.filter(campaign_id=link.email_campaign_id).aggregate(
                sent=Count("pk", filter=Q(status="sent")),
                opened=Count("pk", filter=Q(first_opened_at__isnull=False)),
                clicked=Count("pk", filter=Q(first_clicked_at__isnull=False)),
            )
        else:
            counts = SmsMessage.objects.filter(campaign_id=link.sms_campaign_id).aggregate(
                sent=Count("pk", filter=Q(status__in=["sent", "delivered"]))
            )
            counts.update(opened=0, clicked=0)
        step = figures.setdefault(link.step_id, {"sent": 0, "opened": 0, "clicked": 0})
        for key in step:
            step[key] += counts[key]
    return figures
