"""REST API of SMS: senders, campaigns and their lifecycle, the estimate (counter and cost), the
report, test sends, single transactional sends and the local outbox."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_conventions import query_choice
from accounts.api_fields import (
    AccountObjects,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictModelSerializer,
)
from accounts.tenancy import AccountObjectsViewSet
from campaigns.engine.audience import audience, audience_for
from contacts.models import ContactList, Segment
from sms import selectors, services
from sms.channel import SMS
from sms.estimate import estimate
from sms.models import OutboxSms, SmsCampaign, SmsMessage, SmsSender

TAG = ["SMS"]


class SmsSenderSerializer(StrictModelSerializer):
    class Meta:
        model = SmsSender
        fields = ["id", "value", "is_number", "created_at"]
        read_only_fields = ["id", "is_number", "created_at"]

    is_number = serializers.BooleanField(read_only=True)


@extend_schema_view(
    list=extend_schema(summary="List SMS senders", tags=TAG),
    retrieve=extend_schema(summary="Get an SMS sender", tags=TAG),
    destroy=extend_schema(summary="Delete an SMS sender", tags=TAG),
)
class SmsSenderViewSet(AccountObjectsViewSet):
    queryset = SmsSender.objects.all()
    serializer_class = SmsSenderSerializer
    pagination_class = None

    @extend_schema(
        summary="Add an SMS sender",
        description="3 to 11 letters and digits (at least one letter), or an E.164 number.",
        tags=TAG,
    )
    def create(self, request):
        serializer = SmsSenderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sender = services.sender_create(account=request.account, **serializer.validated_data)
        return Response(SmsSenderSerializer(sender).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.sender_delete(sender=instance)


class SmsCampaignSerializer(StrictModelSerializer):
    sender = AccountObjects(SmsSender, allow_null=True, required=False)
    lists = AccountObjects(ContactList, many=True, required=False)
    segments = AccountObjects(Segment, many=True, required=False)
    excluded_lists = AccountObjects(ContactList, many=True, required=False)
    excluded_segments = AccountObjects(Segment, many=True, required=False)

    class Meta:
        model = SmsCampaign
        fields = [
            "id", "name", "kind", "sender", "text", "short_links", "lists", "segments", "excluded_lists",
            "excluded_segments", "status", "pause_reason", "resumes_at", "sandbox",
            "scheduled_at", "created_at", "updated_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = [
            "status", "pause_reason", "resumes_at", "sandbox", "scheduled_at", "created_at",
            "updated_at", "started_at", "finished_at",
        ]  # fmt: skip


class EstimateRequestSerializer(serializers.Serializer):
    text = StrictCharField(max_length=2000, allow_blank=True)
    kind = StrictChoiceField(choices=SmsCampaign.Kind.choices, default=SmsCampaign.Kind.MARKETING)
    short_links = StrictBooleanField(
        default=False, help_text="Count the links as the short links that will replace them."
    )
    lists = AccountObjects(ContactList, many=True, required=False)
    segments = AccountObjects(Segment, many=True, required=False)
    excluded_lists = AccountObjects(ContactList, many=True, required=False)
    excluded_segments = AccountObjects(Segment, many=True, required=False)


class CountryCostSerializer(serializers.Serializer):
    country = serializers.CharField()
    recipients = serializers.IntegerField()
    segments = serializers.IntegerField()
    price_per_segment = serializers.DecimalField(max_digits=10, decimal_places=4)
    cost = serializers.DecimalField(max_digits=14, decimal_places=4)


class EstimateSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="The SMS as the longest audience values render it.")
    encoding = serializers.CharField(source="counted.encoding")
    characters = serializers.IntegerField(source="counted.characters")
    units = serializers.IntegerField(source="counted.units", help_text="Septets or UTF-16 units")
    segments = serializers.IntegerField(source="counted.segments", help_text="Per message")
    per_segment = serializers.IntegerField(source="counted.per_segment")
    remaining = serializers.IntegerField(source="counted.remaining")
    ucs2_characters = serializers.ListField(
        child=serializers.CharField(), source="counted.ucs2_characters"
    )
    replacements = serializers.DictField(child=serializers.CharField())
    text_after_replacements = serializers.CharField()
    segments_saved = serializers.IntegerField()
    recipients = serializers.IntegerField()
    total_segments = serializers.IntegerField()
    currency = serializers.CharField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=4)
    by_country = CountryCostSerializer(many=True)


class SmsScheduleSerializer(serializers.Serializer):
    at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When to send; empty or past: now."
    )


class SmsSendTestSerializer(serializers.Serializer):
    mobile = StrictCharField(max_length=16, help_text="E.164, e.g. +33612345678")


class SmsTestSentSerializer(serializers.Serializer):
    mobile = serializers.CharField()
    text = serializers.CharField()
    encoding = serializers.CharField()
    segments = serializers.IntegerField()


class SmsMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = SmsMessage
        fields = ["id", "mobile", "contact", "status", "attempts", "segments", "sent_at"]
        fields += ["delivered_at", "next_attempt_at", "error"]
        read_only_fields = fields


class FailureSerializer(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()


class ReportSerializer(serializers.Serializer):
    recipients = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    failed = serializers.IntegerField()
    failed_by_reason = FailureSerializer(many=True)
    stop_replies = serializers.IntegerField()
    clicks = serializers.IntegerField(help_text="Clicks on the short links (people's)")
    clickers = serializers.IntegerField(help_text="Messages whose short links people clicked")
    machine_clicks = serializers.IntegerField(
        help_text="Link previews of messaging apps, scanners: left out of `clicks`"
    )
    segments_billed = serializers.IntegerField()
    currency = serializers.CharField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=4)


def _estimate_response(estimated) -> Response:
    return Response(EstimateSerializer(estimated).data)


@extend_schema_view(
    list=extend_schema(
        summary="List SMS campaigns",
        parameters=[OpenApiParameter("status", str, enum=SmsCampaign.Status.values)],
        tags=TAG,
    ),
    retrieve=extend_schema(summary="Get an SMS campaign", tags=TAG),
    destroy=extend_schema(summary="Delete a draft or cancelled SMS campaign", tags=TAG),
)
class SmsCampaignViewSet(AccountObjectsViewSet):
    queryset = SmsCampaign.objects.prefetch_related(
        "lists", "segments", "excluded_lists", "excluded_segments"
    )
    serializer_class = SmsCampaignSerializer

    def get_queryset(self):
        campaigns = super().get_queryset()
        if self.action == "list":
            wanted = query_choice(self.request, "status", SmsCampaign.Status.values)
            if wanted:
                campaigns = campaigns.filter(status=wanted)
        return campaigns

    def _out(self, campaign):
        return SmsCampaignSerializer(campaign, context={"request": self.request}).data

    @extend_schema(
        summary="Create an SMS campaign",
        description="Merge tags are checked; a marketing text without the account's opt-out "
        'mention ("STOP au 36180" by default) is a 400.',
        tags=TAG,
    )
    def create(self, request):
        serializer = SmsCampaignSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        campaign = services.campaign_create(account=request.account, data=serializer.validated_data)
        return Response(self._out(campaign), status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change an SMS campaign (before sending)", tags=TAG)
    def partial_update(self, request, pk=None):
        campaign = self.get_object()
        serializer = SmsCampaignSerializer(
            campaign, data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        campaign = services.campaign_update(campaign=campaign, data=serializer.validated_data)
        return Response(self._out(campaign))

    def perform_destroy(self, instance):
        services.campaign_delete(campaign=instance)

    @extend_schema(
        summary="Count the campaign's SMS and estimate its cost",
        responses=EstimateSerializer,
        tags=TAG,
    )
    @action(detail=True, methods=["get"])
    def estimate(self, request, pk=None):
        campaign = self.get_object()
        return _estimate_response(
            estimate(
                account=request.account,
                text=campaign.text,
                marketing=campaign.is_marketing,
                contacts=audience(SMS, campaign),
                short_links=campaign.short_links,
            )
        )

    @extend_schema(
        summary="Schedule the campaign, or send it now",
        description="Marketing SMS are delivered Monday to Saturday, 08:00–20:00 in the "
        "recipient's zone (narrower if the account says so): outside, the campaign pauses and "
        "resumes by itself (`pause_reason`, `resumes_at`). With a test API key: sandbox.",
        request=SmsScheduleSerializer,
        responses=SmsCampaignSerializer,
        tags=TAG,
    )
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        serializer = SmsScheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = services.campaign_schedule(
            campaign=self.get_object(),
            at=serializer.validated_data.get("at"),
            sandbox=request.auth.is_test,
        )
        return Response(self._out(campaign))

    def _transition(self, change, name: str):
        campaign = self.get_object()
        if not change(campaign=campaign):
            raise services.SmsStateError(
                f"Cannot {name} a campaign that is {campaign.status}.", code="invalid_status"
            )
        campaign.refresh_from_db()
        return Response(self._out(campaign))

    @extend_schema(
        summary="Pause a sending SMS campaign",
        request=None,
        responses=SmsCampaignSerializer,
        tags=TAG,
    )
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._transition(services.campaign_pause, "pause")

    @extend_schema(
        summary="Resume a paused SMS campaign",
        request=None,
        responses=SmsCampaignSerializer,
        tags=TAG,
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._transition(services.campaign_resume, "resume")

    @extend_schema(
        summary="Cancel an SMS campaign (messages not yet sent are dropped)",
        request=None,
        responses=SmsCampaignSerializer,
        tags=TAG,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(services.campaign_cancel, "cancel")

    @extend_schema(
        summary="Send the campaign's SMS to one number",
        description="As the first contact of the audience would get it, whatever the hour.",
        request=SmsSendTestSerializer,
        responses=SmsTestSentSerializer,
        tags=TAG,
    )
    @action(detail=True, methods=["post"], url_path="send-test")
    def send_test(self, request, pk=None):
        serializer = SmsSendTestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = self.get_object()
        services.check_mobile(serializer.validated_data["mobile"])
        if request.auth.is_test:
            campaign.sandbox = True
        sent = services.campaign_send_test(
            campaign=campaign, mobile=serializer.validated_data["mobile"]
        )
        return Response(SmsTestSentSerializer(sent).data)

    @extend_schema(
        summary="The campaign's report",
        description="Sent, delivered, failed by reason, STOP replies, clicks on the short "
        "links, segments billed, cost.",
        responses=ReportSerializer,
        tags=TAG,
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        return Response(ReportSerializer(selectors.campaign_report(self.get_object())).data)

    @extend_schema(
        summary="The campaign's messages and their status",
        parameters=[OpenApiParameter("status", str, enum=SmsMessage.Status.values)],
        responses=SmsMessageSerializer(many=True),
        tags=TAG,
    )
    @action(detail=True, methods=["get"])
    def messages(self, request, pk=None):
        messages = SmsMessage.objects.filter(campaign=self.get_object())
        wanted = query_choice(request, "status", SmsMessage.Status.values)
        if wanted:
            messages = messages.filter(status=wanted)
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(SmsMessageSerializer(page, many=True).data)


class SmsEstimateView(APIView):
    @extend_schema(
        summary="Count an SMS text and estimate its cost for an audience",
        description="Encoding (GSM-7 or UCS-2), characters, segments per message, the characters "
        "that force UCS-2 with GSM-7 replacements and the segments they save; with lists or "
        "segments, the total segments (merge values at their longest in the audience) and "
        "the cost by country in the account's currency.",
        request=EstimateRequestSerializer,
        responses=EstimateSerializer,
        tags=TAG,
    )
    def post(self, request):
        serializer = EstimateRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        contacts = None
        if data.get("lists") or data.get("segments"):
            contacts = audience_for(
                SMS,
                request.account,
                lists=data.get("lists", []),
                segments=data.get("segments", []),
                excluded_lists=data.get("excluded_lists", []),
                excluded_segments=data.get("excluded_segments", []),
            )
        return _estimate_response(
            estimate(
                account=request.account,
                text=data["text"],
                marketing=data["kind"] == SmsCampaign.Kind.MARKETING,
                contacts=contacts,
                short_links=data["short_links"],
            )
        )


class OutboxSmsSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboxSms
        fields = ["id", "message", "sender", "mobile", "text", "encoding", "segments"]
        fields += ["created_at"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="SMS kept by the local outbox (nothing left)", tags=TAG),
    retrieve=extend_schema(summary="One SMS of the local outbox", tags=TAG),
)
class OutboxSmsViewSet(AccountObjectsViewSet):
    http_method_names = ["get", "head", "options"]
    queryset = OutboxSms.objects.all()
    serializer_class = OutboxSmsSerializer
