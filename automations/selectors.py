"""Reading scenarios, enrolments and per-step statistics, always from the account."""

from django.db.models import Count, Exists, OuterRef, Q

from automations import flow
from automations.models import DueStep, Enrolment, Scenario, StepCampaign
from campaigns.models import Message
from connectors.models import ShopOrder
from sms.models import SmsMessage


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
