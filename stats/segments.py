"""Email activity conditions for segments: received, opened, clicked (DESIGN §4).

The contact base knows no campaign, so this app registers one condition field with it:

    {"field": "email_activity", "op": "opened", "value": {"campaign": 12, "days": 30}}

`campaign` is one of the account's email campaigns, or null for any campaign; `days` limits the
activity to the last N days (1 to MAX_DAYS), or null for any time. A missing value is
`{"campaign": null, "days": null}`.

- received: a message of the campaign went out to the contact. A message that bounced, failed or
  was cancelled was not received. A sandbox campaign's recorded messages stand for sent ones when
  the rule names that campaign; "any campaign" means messages that really went out.
- opened: a person opened it or clicked in it (a click proves the opening even when images were
  blocked or a privacy proxy fetched the pixel first). Machine opens and clicks never count.
- clicked: a person clicked a link in it.
- received_not_opened: received at least one message in scope (the campaign, or any sent in the
  last N days) and opened none of them: the non-openers to send again, the inactive subscribers.
- not_received, not_opened, not_clicked: the exact negations; `not_opened` with no campaign and
  no days is "never opened anything".

"Within the last N days" is counted in calendar days in the account's time zone, like the
relative date operators of the contact fields: from midnight N days before today to the end of
today.
"""

import zoneinfo
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from campaigns.models import EmailCampaign, Message
from contacts.segments.activity import activity_value_schema, clean_activity_value
from contacts.segments.language import (
    RegisteredCondition,
    register_condition,
)
from stats.models import EmailEvent

FIELD = "email_activity"
OPERATORS = (
    "received",
    "not_received",
    "opened",
    "not_opened",
    "clicked",
    "not_clicked",
    "received_not_opened",
)
OPERATOR_LABELS = {
    "received": gettext_lazy("received"),
    "not_received": gettext_lazy("did not receive"),
    "opened": gettext_lazy("opened"),
    "not_opened": gettext_lazy("did not open"),
    "clicked": gettext_lazy("clicked in"),
    "not_clicked": gettext_lazy("did not click in"),
    "received_not_opened": gettext_lazy("received but did not open"),
}
# Beyond a bigint: no row can have it, and PostgreSQL would refuse the comparison.
OPENING_KINDS = (EmailEvent.Kind.OPEN, EmailEvent.Kind.CLICK)
CLICK_KINDS = (EmailEvent.Kind.CLICK,)
BUILDER_CAMPAIGNS = 500


def clean_activity(account, op: str, value) -> dict:
    """`{"campaign": id | None, "days": int | None}`; raises InvalidValue saying what is wrong."""
    return clean_activity_value(
        value,
        campaign_exists=lambda pk: EmailCampaign.objects.filter(account=account, pk=pk).exists(),
        no_such=_("no such email campaign: %(value)s"),
    )


def window(account, today: date, days: int) -> tuple[datetime, datetime]:
    """[midnight `days` days before today, midnight after today), in the account's time zone."""
    tz = zoneinfo.ZoneInfo(account.timezone)
    start = datetime.combine(today - timedelta(days=days), time.min, tzinfo=tz)
    end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def _received_statuses(campaign: int | None) -> list[str]:
    if campaign is None:
        return [Message.Status.SENT]
    return [Message.Status.SENT, Message.Status.SANDBOXED]


def _received(account, campaign: int | None, days: int | None, today: date):
    """The contact's received messages in scope: (contact, sent_at) or (campaign, status) index.
    The contact is the account's, so its messages are the account's campaigns'."""
    messages = Message.objects.filter(
        contact=OuterRef("pk"), status__in=_received_statuses(campaign)
    )
    if campaign is not None:
        messages = messages.filter(campaign_id=campaign)
    if days is not None:
        start, end = window(account, today, days)
        messages = messages.filter(sent_at__gte=start, sent_at__lt=end)
    return messages


def _human_events(account, kinds, campaign: int | None, days: int | None, today: date):
    """The contact's opens or clicks made by a person: (contact, -occurred_at) or
    (campaign, kind, occurred_at) index."""
    events = EmailEvent.objects.filter(
        account=account, contact=OuterRef("pk"), kind__in=kinds, machine_reason=""
    )
    if campaign is not None:
        events = events.filter(campaign_id=campaign)
    if days is not None:
        start, end = window(account, today, days)
        events = events.filter(occurred_at__gte=start, occurred_at__lt=end)
    return events


def _opened_received(account, campaign: int | None, days: int | None, today: date):
    """Opens or clicks by a person of the received messages in scope."""
    events = EmailEvent.objects.filter(
        account=account,
        contact=OuterRef("pk"),
        kind__in=OPENING_KINDS,
        machine_reason="",
        message__status__in=_received_statuses(campaign),
    )
    if campaign is not None:
        events = events.filter(campaign_id=campaign)
    if days is not None:
        start, end = window(account, today, days)
        events = events.filter(message__sent_at__gte=start, message__sent_at__lt=end)
    return events


def compile_activity(account, op: str, value: dict, today: date, now: datetime) -> Q:
    # Windows are calendar days of the account counted back from `today` (the account's day
    # now, or the day a test fixes), so `now` itself is not needed.
    campaign, days = value["campaign"], value["days"]
    if op == "received_not_opened":
        return Q(Exists(_received(account, campaign, days, today))) & ~Q(
            Exists(_opened_received(account, campaign, days, today))
        )
    positive = op.removeprefix("not_")
    if positive == "received":
        found = Exists(_received(account, campaign, days, today))
    else:
        kinds = OPENING_KINDS if positive == "opened" else CLICK_KINDS
        found = Exists(_human_events(account, kinds, campaign, days, today))
    return ~Q(found) if op.startswith("not_") else Q(found)


def builder_options(account) -> dict:
    """What the segment builder needs to edit the condition: the campaign picker's choices."""
    campaigns = EmailCampaign.objects.filter(account=account).order_by("-pk")
    return {
        "editor": "activity",
        "campaigns": [list(row) for row in campaigns.values_list("pk", "name")[:BUILDER_CAMPAIGNS]],
        "campaign_label": _("Campaign"),
        "any_campaign_label": _("any campaign"),
        "within_label": _("in the last"),
        "days_unit": pgettext("in the last … days", "days"),
        "days_label": _("Number of days (empty: any time)"),
        "any_time_label": _("any time"),
    }


register_condition(
    FIELD,
    RegisteredCondition(
        operators=OPERATORS,
        validate=clean_activity,
        compile=compile_activity,
        label=gettext_lazy("Email activity"),
        operator_labels=OPERATOR_LABELS,
        builder=builder_options,
        value_schema=activity_value_schema(
            "One of the account's email campaigns (404 if not); null: any."
        ),
    ),
)
