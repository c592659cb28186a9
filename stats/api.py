"""REST API of email statistics: a campaign's report (figures, links, activity, clients, CSV),
a contact's activity and the account dashboard. Reads only, through stats.selectors."""

import re

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from accounts.tenancy import get_for_account_or_404
from campaigns.models import CampaignLink, EmailCampaign
from contacts.models import Channel, Contact
from stats import selectors
from stats.exports import report_csv_response
from stats.models import EmailEvent


class CampaignSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField(
        help_text="draft, scheduled, running, paused, finished or cancelled (as the campaign)."
    )
    sandbox = serializers.BooleanField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    pause_reason = serializers.CharField(
        help_text="Why the platform paused the campaign by itself; empty otherwise."
    )


class RatesSerializer(serializers.Serializer):
    open = serializers.FloatField(help_text="Unique human opens / delivered (0 to 1).")
    click = serializers.FloatField(help_text="Unique human clicks / delivered.")
    click_to_open = serializers.FloatField(help_text="Unique clicks / unique opens.")
    bounce = serializers.FloatField(help_text="(Hard + soft bounces) / sent.")
    unsubscribe = serializers.FloatField(help_text="Unsubscribes / delivered.")
    complaint = serializers.FloatField(help_text="Spam complaints / delivered.")


class CampaignReportSerializer(serializers.Serializer):
    campaign = CampaignSummarySerializer()
    recipients = serializers.IntegerField(help_text="Messages of the campaign, any status.")
    pending = serializers.IntegerField(help_text="Queued or being sent.")
    sent = serializers.IntegerField(
        help_text="Answered for good by the receiving server: accepted, or refused (bounced)."
    )
    delivered = serializers.IntegerField(help_text="Sent − hard bounces.")
    hard_bounces = serializers.IntegerField(
        help_text="`rejected` + `bounced_after_acceptance`; these addresses are suppressed."
    )
    rejected = serializers.IntegerField(
        help_text="Refused with a permanent error during the SMTP dialogue."
    )
    bounced_after_acceptance = serializers.IntegerField(
        help_text="Accepted, then reported as a hard bounce (DSN, ESP webhook)."
    )
    soft_bounces = serializers.IntegerField(
        help_text="Temporary failures reported after acceptance (not taken off `delivered`)."
    )
    failed = serializers.IntegerField(help_text="Gave up without a usable answer.")
    cancelled = serializers.IntegerField(help_text="Dropped by a cancellation or an erasure.")
    sandboxed = serializers.IntegerField(help_text="Recorded, never delivered (test key).")
    opens_unique = serializers.IntegerField(help_text="Recipients who opened (or clicked).")
    opens_total = serializers.IntegerField(help_text="Human opens, repeats included.")
    machine_opens = serializers.IntegerField(
        help_text="Opens by mail privacy proxies or scanners; in no rate."
    )
    clicks_unique = serializers.IntegerField(help_text="Recipients who clicked.")
    clicks_total = serializers.IntegerField(help_text="Human clicks, repeats included.")
    machine_clicks = serializers.IntegerField(help_text="Clicks by link scanners; in no rate.")
    unsubscribes = serializers.IntegerField()
    complaints = serializers.IntegerField()
    rates = RatesSerializer()


class CampaignLinkSerializer(serializers.ModelSerializer):
    class Meta:
        model = CampaignLink
        fields = ["index", "url", "clicks_total", "clicks_unique", "machine_clicks"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.DATETIME)
class LocalDateTimeField(serializers.Field):
    """An aware datetime written with its own offset (the account's time zone), not converted
    to the request's."""

    def to_representation(self, value):
        return value.isoformat()


class ActivityPointSerializer(serializers.Serializer):
    start = LocalDateTimeField(help_text="Start of the hour or day, in the account's time zone.")
    opens = serializers.IntegerField()
    clicks = serializers.IntegerField()


class ActivitySerializer(serializers.Serializer):
    bucket = serializers.ChoiceField(choices=["hour", "day"])
    timezone = serializers.CharField(help_text="The account's time zone.")
    points = ActivityPointSerializer(many=True)


class ShareSerializer(serializers.Serializer):
    name = serializers.CharField()
    opens = serializers.IntegerField()
    share = serializers.FloatField(help_text="Of the human opens (0 to 1).")


class ClientsSerializer(serializers.Serializer):
    opens = serializers.IntegerField(help_text="Human opens with a known device and client.")
    devices = ShareSerializer(
        many=True, help_text="By device kind: desktop, mobile, tablet, other (hidden by a proxy)."
    )
    clients = ShareSerializer(many=True, help_text="By mail client or browser family.")


class AddressStatusSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    address = serializers.CharField()
    consent = serializers.CharField(help_text="Consent status of this channel.")
    suppression = serializers.CharField(
        help_text="Why the address is suppressed (unsubscribed, hard_bounce, complaint…); empty "
        "when it is not."
    )
    suppressed_since = serializers.DateTimeField(allow_null=True)


class TimelineCampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="campaign_id")
    name = serializers.CharField(source="campaign_name")


class TimelineItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["message", *EmailEvent.Kind.values],
        help_text="`message`: a campaign message (see `message_status`); else what happened.",
    )
    occurred_at = serializers.DateTimeField()
    campaign = TimelineCampaignSerializer(source="*")
    message_status = serializers.CharField(help_text="For a message: sent, bounced, failed…")
    detail = serializers.CharField(
        help_text="The link of a click, the diagnostic of a bounce or complaint, the lists of "
        "an unsubscribe, the error of a message."
    )
    machine_reason = serializers.CharField(
        help_text="Not empty when a machine, not the person, opened or clicked."
    )
    device = serializers.CharField()
    client = serializers.CharField()


class ContactActivitySerializer(serializers.Serializer):
    contact = serializers.IntegerField(source="contact.pk")
    addresses = AddressStatusSerializer(many=True)
    messages_received = serializers.IntegerField(help_text="Delivered email messages.")
    messages_opened = serializers.IntegerField()
    messages_clicked = serializers.IntegerField()
    items = TimelineItemSerializer(many=True, help_text="Newest first.")


class RecentCampaignSerializer(serializers.Serializer):
    campaign = CampaignSummarySerializer()
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    rates = RatesSerializer()


class DashboardSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    since = serializers.DateTimeField()
    campaigns_sent = serializers.IntegerField(
        help_text="Email campaigns started in the period (sandboxed ones aside)."
    )
    messages_sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    opens_unique = serializers.IntegerField()
    clicks_unique = serializers.IntegerField()
    open_rate = serializers.FloatField(help_text="The period's unique opens / delivered.")
    click_rate = serializers.FloatField(help_text="The period's unique clicks / delivered.")
    unsubscribes = serializers.IntegerField()
    complaints = serializers.IntegerField()
    contacts_total = serializers.IntegerField()
    contacts_subscribed = serializers.IntegerField(
        help_text="Contacts whose email consent allows campaigns (subscribed or soft opt-in)."
    )
    addresses_suppressed = serializers.IntegerField(
        help_text="Email addresses never to be sent to again (erased contacts included)."
    )
    recent = RecentCampaignSerializer(many=True, help_text="The latest campaigns started.")


class QueryIntegerField(serializers.IntegerField):
    """A whole number written as one in the URL: `1.0`, ` 1` or `` are refused (DRF's own takes
    them), as the schema's `integer` says."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or not re.fullmatch(r"-?[0-9]{1,10}", data):
            self.fail("invalid")
        return super().to_internal_value(data)


def query_values(request) -> dict[str, str]:
    """The query string as one value per name, for a query serializer: a name given twice is a
    400, and an empty value is a value (DRF reads an empty form value as "not given")."""
    repeated = [name for name, values in request.query_params.lists() if len(values) > 1]
    if repeated:
        raise serializers.ValidationError(
            {name: ["Give this parameter once."] for name in repeated}
        )
    return request.query_params.dict()


class ActivityQuerySerializer(serializers.Serializer):
    bucket = serializers.ChoiceField(choices=["auto", "hour", "day"], default="auto")


class ContactActivityQuerySerializer(serializers.Serializer):
    limit = QueryIntegerField(min_value=1, max_value=500, default=50, help_text="Timeline items.")


class DashboardQuerySerializer(serializers.Serializer):
    days = QueryIntegerField(
        min_value=1, max_value=366, default=30, help_text="The period, in days back from now."
    )


REPORT_EXAMPLE = OpenApiExample(
    "A finished campaign",
    value={
        "campaign": {
            "id": 12,
            "name": "Soldes d'hiver",
            "status": "finished",
            "sandbox": False,
            "started_at": "2025-01-08T09:00:00+01:00",
            "finished_at": "2025-01-08T09:42:10+01:00",
            "pause_reason": "",
        },
        "recipients": 10000,
        "pending": 0,
        "sent": 9950,
        "delivered": 9860,
        "hard_bounces": 90,
        "rejected": 70,
        "bounced_after_acceptance": 20,
        "soft_bounces": 15,
        "failed": 10,
        "cancelled": 40,
        "sandboxed": 0,
        "opens_unique": 2958,
        "opens_total": 4410,
        "machine_opens": 1210,
        "clicks_unique": 493,
        "clicks_total": 702,
        "machine_clicks": 35,
        "unsubscribes": 21,
        "complaints": 2,
        "rates": {
            "open": 0.3,
            "click": 0.05,
            "click_to_open": 0.1667,
            "bounce": 0.0106,
            "unsubscribe": 0.0021,
            "complaint": 0.0002,
        },
    },
)

TAGS = ["Statistics"]


class CampaignReportViewSet(viewsets.ViewSet):
    """The report of one of the account's email campaigns; another account's campaign is a 404."""

    def _campaign(self, pk) -> EmailCampaign:
        return get_for_account_or_404(
            EmailCampaign.objects.select_related("account"), self.request.account, pk=pk
        )

    @extend_schema(
        summary="A campaign's report: every figure and rate",
        description=(
            "Figures come from counters kept as events arrive, so a report is fast whatever the "
            "campaign's size; message counts may lag by up to 30 seconds while it is sending. "
            "`sent` counts messages the receiving server answered for good (accepted or "
            "refused); `delivered` = `sent` − hard bounces. Machine opens and clicks (mail "
            "privacy proxies, link scanners) are reported apart and in no rate."
        ),
        responses=CampaignReportSerializer,
        examples=[REPORT_EXAMPLE],
        tags=TAGS,
    )
    def report(self, request, pk=None):
        report = selectors.campaign_report(self._campaign(pk))
        return Response(CampaignReportSerializer(report).data)

    @extend_schema(
        summary="Clicks per tracked link of a campaign",
        description="Most clicked first. `clicks_unique`: recipients who clicked that link.",
        responses=CampaignLinkSerializer(many=True),
        tags=TAGS,
    )
    def links(self, request, pk=None):
        links = selectors.campaign_links(self._campaign(pk))
        return Response(CampaignLinkSerializer(links, many=True).data)

    @extend_schema(
        summary="Human opens and clicks of a campaign over time",
        description=(
            "One point per hour or per day, in the account's time zone, empty ones included. "
            "`auto` uses hours when the activity spans up to three days; hours are kept for "
            "spans up to 31 days."
        ),
        parameters=[ActivityQuerySerializer],
        responses=ActivitySerializer,
        tags=TAGS,
    )
    def activity(self, request, pk=None):
        query = ActivityQuerySerializer(data=query_values(request))
        query.is_valid(raise_exception=True)
        series = selectors.campaign_activity(
            self._campaign(pk), bucket=query.validated_data["bucket"]
        )
        return Response(ActivitySerializer(series).data)

    @extend_schema(
        summary="Human opens of a campaign by device kind and mail client",
        responses=ClientsSerializer,
        tags=TAGS,
    )
    def clients(self, request, pk=None):
        breakdown = selectors.campaign_clients(self._campaign(pk))
        return Response(ClientsSerializer(breakdown).data)

    @extend_schema(
        summary="Download a campaign's report (CSV)",
        description=(
            "UTF-8 with BOM, `;`-separated, in sections separated by blank rows: figures and "
            "rates (in %), links, opens and clicks over time, devices, mail clients. Headers "
            "follow `Accept-Language` (fr or en)."
        ),
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
        tags=TAGS,
    )
    def export(self, request, pk=None):
        campaign = self._campaign(pk)
        return report_csv_response(campaign)


class ContactActivityViewSet(viewsets.ViewSet):
    @extend_schema(
        summary="A contact's email activity",
        description=(
            "The state of the contact's addresses (consent, suppression) and a timeline, newest "
            "first: the campaign messages sent to them and what they did with them (opens, "
            "clicks, bounces, complaints, unsubscribes; machine events flagged). Another "
            "account's contact is a 404."
        ),
        parameters=[ContactActivityQuerySerializer],
        responses=ContactActivitySerializer,
        tags=TAGS,
    )
    def activity(self, request, pk=None):
        query = ContactActivityQuerySerializer(data=query_values(request))
        query.is_valid(raise_exception=True)
        contact = get_for_account_or_404(Contact, request.account, pk=pk)
        activity = selectors.contact_activity(contact, limit=query.validated_data["limit"])
        return Response(ContactActivitySerializer(activity).data)


class DashboardViewSet(viewsets.ViewSet):
    @extend_schema(
        summary="The account dashboard",
        description=(
            "Email campaigns started in the last `days` days (default 30) and their totals, "
            "the contact base, and the latest campaigns with their rates."
        ),
        # The query serializer itself, so the schema states its bounds (minimum 1, maximum 366).
        parameters=[DashboardQuerySerializer],
        responses=DashboardSerializer,
        tags=TAGS,
    )
    def dashboard(self, request):
        query = DashboardQuerySerializer(data=query_values(request))
        query.is_valid(raise_exception=True)
        dashboard = selectors.account_dashboard(request.account, days=query.validated_data["days"])
        return Response(DashboardSerializer(dashboard).data)


def _get(viewset, action: str):
    return viewset.as_view({"get": action})


# Mounted under /api/v1/ (sendethic/urls.py), beside the routers: `campaigns/email/<id>/` itself
# belongs to the campaigns API.
urls = [
    path(
        "campaigns/email/<int:pk>/report/",
        _get(CampaignReportViewSet, "report"),
        name="email-campaign-report",
    ),
    path(
        "campaigns/email/<int:pk>/report/links/",
        _get(CampaignReportViewSet, "links"),
        name="email-campaign-report-links",
    ),
    path(
        "campaigns/email/<int:pk>/report/activity/",
        _get(CampaignReportViewSet, "activity"),
        name="email-campaign-report-activity",
    ),
    path(
        "campaigns/email/<int:pk>/report/clients/",
        _get(CampaignReportViewSet, "clients"),
        name="email-campaign-report-clients",
    ),
    path(
        "campaigns/email/<int:pk>/report/export/",
        _get(CampaignReportViewSet, "export"),
        name="email-campaign-report-export",
    ),
    path(
        "contacts/<int:pk>/activity/",
        _get(ContactActivityViewSet, "activity"),
        name="contact-activity",
    ),
    path("stats/dashboard/", _get(DashboardViewSet, "dashboard"), name="stats-dashboard"),
]
