"""SMS activity conditions for segments, registered with the contact base (which never imports
sms), the way stats registers the email ones:

    {"field": "sms_activity", "op": "received", "value": {"campaign": 12, "days": 30}}

`campaign`: one of the account's SMS campaigns, or null for any; `days`: the last N calendar
days in the account's time zone (1 to MAX_DAYS), or null for any time. Received: a message of
the campaign went out to the contact (sent; recorded in sandbox only when the rule names that
campaign). `not_received` is its exact negation.

    {"field": "sms_activity", "op": "replied_stop", "value": {"campaign": null, "days": 30}}

Replied STOP: an SMS from the contact's mobile asked to stop (STOP, ARRET…: sms.inbound),
within the days given; with a campaign, a reply attributed to it (the last SMS of the account
sent to that number). Matched on the number, so a contact created after the reply has it too.
`not_replied_stop` is its exact negation."""

import zoneinfo
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.segments.activity import activity_value_schema, clean_activity_value
from contacts.segments.language import RegisteredCondition, register_condition
from sms.models import SmsCampaign, SmsMessage, SmsReply

FIELD = "sms_activity"
OPERATORS = ("received", "not_received", "replied_stop", "not_replied_stop")
OPERATOR_LABELS = {
    "received": gettext_lazy("received the SMS"),
    "not_received": gettext_lazy("did not receive the SMS"),
    "replied_stop": gettext_lazy("replied STOP to the SMS"),
    "not_replied_stop": gettext_lazy("did not reply STOP to the SMS"),
}
BUILDER_CAMPAIGNS = 500


def clean_sms_activity(account, op: str, value) -> dict:
    return clean_activity_value(
        value,
        campaign_exists=lambda pk: SmsCampaign.objects.filter(account=account, pk=pk).exists(),
        no_such=_("no such SMS campaign: %(value)s"),
    )


def _within(account, days: int, today: date) -> tuple[datetime, datetime]:
    """The last `days` calendar days and today, in the account's time zone."""
    zone = zoneinfo.ZoneInfo(account.timezone)
    start = datetime.combine(today - timedelta(days=days), time.min, tzinfo=zone)
    return start, datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)


def _replied_stop(account, value: dict, today: date) -> Q:
    # The (account, mobile, received_at) index of STOP replies.
    replies = SmsReply.objects.filter(account=account, is_stop=True, mobile=OuterRef("mobile"))
    if value["campaign"] is not None:
        replies = replies.filter(campaign_id=value["campaign"])
    if value["days"] is not None:
        start, end = _within(account, value["days"], today)
        replies = replies.filter(received_at__gte=start, received_at__lt=end)
    return Q(Exists(replies))


def compile_sms_activity(account, op: str, value: dict, today: date, now: datetime) -> Q:
    if op in ("replied_stop", "not_replied_stop"):
        found = _replied_stop(account, value, today)
        return ~found if op == "not_replied_stop" else found
    campaign, days = value["campaign"], value["days"]
    statuses = [SmsMessage.Status.SENT]
    if campaign is not None:
        statuses.append(SmsMessage.Status.SANDBOXED)
    # The (contact, sent_at) index; the contact is the account's, so are its messages.
    messages = SmsMessage.objects.filter(contact=OuterRef("pk"), status__in=statuses)
    if campaign is not None:
        messages = messages.filter(campaign_id=campaign)
    if days is not None:
        start, end = _within(account, days, today)
        messages = messages.filter(sent_at__gte=start, sent_at__lt=end)
    found = Q(Exists(messages))
    return ~found if op == "not_received" else found


def builder_options(account) -> dict:
    campaigns = SmsCampaign.objects.filter(account=account).order_by("-pk")
    return {
        "editor": "activity",
        "campaigns": [list(row) for row in campaigns.values_list("pk", "name")[:BUILDER_CAMPAIGNS]],
        "campaign_label": _("Campaign"),
        "any_campaign_label": _("any campaign"),
        "within_label": _("in the last"),
        "days_unit": _("days"),
        "days_label": _("Number of days (empty: any time)"),
        "any_time_label": _("any time"),
    }


register_condition(
    FIELD,
    RegisteredCondition(
        operators=OPERATORS,
        validate=clean_sms_activity,
        compile=compile_sms_activity,
        label=gettext_lazy("SMS activity"),
        operator_labels=OPERATOR_LABELS,
        builder=builder_options,
        value_schema=activity_value_schema(
            "One of the account's SMS campaigns (404 if not); null: any."
        ),
    ),
)
