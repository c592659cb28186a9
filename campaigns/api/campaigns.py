"""API of the email campaigns: CRUD and their lifecycle (schedule, pause, resume, cancel, test
sends, recipients)."""

from django.db.models import Count
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api_conventions import query_choice
from accounts.api_fields import (
    AccountObjects,
    StrictCharField,
    StrictChoiceField,
    StrictEmailField,
    StrictIntegerField,
    StrictModelSerializer,
)
from accounts.tenancy import AccountObjectsViewSet
from campaigns import pipeline, services
from campaigns.api.designs import CampaignDesignSerializer, DesignBody, SavedDesignSerializer
from campaigns.api.fields import UtmField
from campaigns.editor import selectors as editor_selectors
from campaigns.editor.services import campaign_design_save
from campaigns.gallery import gallery, template_source
from campaigns.links import clean_utm
from campaigns.models import EmailCampaign, Message, SenderAddress
from campaigns.selectors import campaign_checklist
from contacts.models import ContactList, Segment


class _CampaignListSerializer(serializers.ListSerializer):
    """Counts the messages of a whole page of campaigns in one query, not one per campaign."""

    def to_representation(self, data):
        campaigns = list(data.all() if hasattr(data, "all") else data)
        counts: dict[int, dict[str, int]] = {campaign.pk: {} for campaign in campaigns}
        rows = (
            Message.objects.filter(campaign__in=campaigns)
            .values_list("campaign_id", "status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for campaign_id, message_status, number in rows:
            counts[campaign_id][message_status] = number
        self.child.context["message_counts"] = counts
        return super().to_representation(campaigns)


class EmailCampaignSerializer(StrictModelSerializer):
    sender = AccountObjects(SenderAddress, allow_null=True, required=False)
    lists = AccountObjects(ContactList, many=True, required=False)
    segments = AccountObjects(Segment, many=True, required=False)
    excluded_lists = AccountObjects(ContactList, many=True, required=False)
    excluded_segments = AccountObjects(Segment, many=True, required=False)
    gallery_template = StrictChoiceField(
        choices=sorted(template.slug for template in gallery()),
        write_only=True,
        required=False,
        help_text="Start the content from a gallery template (slug); replaces `html`.",
    )
    stats = serializers.SerializerMethodField()
    utm_parameters = UtmField(
        child=StrictCharField(max_length=200, allow_blank=True),
        required=False,
        help_text="Added to every web link: utm_source, utm_medium, utm_campaign, utm_term, "
        "utm_content (a parameter already in a link wins).",
    )

    class Meta:
        model = EmailCampaign
        fields = [
            "id", "name", "subject", "preheader", "sender", "reply_to", "html", "text", "lists",
            "segments", "excluded_lists", "excluded_segments", "track_opens", "track_clicks",
            "utm_parameters", "gallery_template", "status", "sandbox", "scheduled_at",
            "created_at", "updated_at", "started_at", "finished_at", "stats",
        ]  # fmt: skip
        read_only_fields = [
            "status", "sandbox", "scheduled_at", "created_at", "updated_at", "started_at",
            "finished_at",
        ]  # fmt: skip
        list_serializer_class = _CampaignListSerializer

    def get_stats(self, campaign) -> dict[str, int]:
        counts = self.context.get("message_counts", {}).get(campaign.pk)
        if counts is None:
            counts = dict(
                Message.objects.filter(campaign=campaign)
                .values_list("status")
                .annotate(n=Count("pk"))
                .values_list("status", "n")
            )
        return {value: counts.get(value, 0) for value in Message.Status.values}

    def validate_utm_parameters(self, value):
        try:
            return clean_utm(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from error


def _campaign_data(validated: dict) -> dict:
    data = dict(validated)
    slug = data.pop("gallery_template", None)
    if slug:
        from campaigns.gallery import render_mjml

        data["html"] = render_mjml(template_source(slug))
    return data


class ScheduleSerializer(serializers.Serializer):
    at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When to send; empty: now. A time in the past is refused (400, field `at`). "
        "A scheduled campaign may be scheduled again (rescheduled) or sent now.",
    )
    expected_recipients = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=2**63 - 1,
        help_text="The audience count you confirmed (`GET …/checklist/`): if the audience "
        "changed since, the campaign is not sent (409, code `audience_changed`).",
    )


class ChecklistItemSerializer(serializers.Serializer):
    key = serializers.ChoiceField(
        choices=[
            "sender",
            "subject",
            "preheader",
            "content",
            "unsubscribe_link",
            "recipients",
            "postal_address",
            "test_sent",
        ]
    )
    field = serializers.CharField(help_text="What to change; a refused send names it in `fields`.")
    ok = serializers.BooleanField()
    blocking = serializers.BooleanField(help_text="A failing blocking item refuses sending (409).")
    label = serializers.CharField()
    problem = serializers.CharField(help_text="What is wrong, when the item fails; else empty.")


class ChecklistSerializer(serializers.Serializer):
    ready = serializers.BooleanField(help_text="No blocking item fails: the campaign may be sent.")
    recipients = serializers.IntegerField(
        help_text="Who would receive it now, after consent and suppression: confirm this figure "
        "before sending."
    )
    items = ChecklistItemSerializer(many=True)


class SendTestSerializer(serializers.Serializer):
    recipients = serializers.ListField(
        child=StrictEmailField(), min_length=1, max_length=services.MAX_TEST_RECIPIENTS
    )


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "email", "contact", "status", "attempts", "sent_at", "error"]
        fields += ["first_opened_at", "first_clicked_at"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="List email campaigns",
        parameters=[
            OpenApiParameter(
                "status", str, enum=EmailCampaign.Status.values, description="Only these."
            )
        ],
        tags=["Email campaigns"],
    ),
    retrieve=extend_schema(summary="Get a campaign and its progress", tags=["Email campaigns"]),
    destroy=extend_schema(summary="Delete a draft campaign", tags=["Email campaigns"]),
)
class EmailCampaignViewSet(AccountObjectsViewSet):
    # The audience of a page of campaigns in four queries, not four per campaign.
    queryset = EmailCampaign.objects.prefetch_related(
        "lists", "segments", "excluded_lists", "excluded_segments"
    )
    serializer_class = EmailCampaignSerializer

    def get_queryset(self):
        campaigns = super().get_queryset()
        if self.action == "list":
            wanted = query_choice(self.request, "status", EmailCampaign.Status.values)
            if wanted:
                campaigns = campaigns.filter(status=wanted)
        return campaigns

    @extend_schema(
        summary="Create a campaign",
        description="Merge tags in subject and content are checked: an unknown tag is a 400.",
        examples=[
            OpenApiExample(
                "From the gallery",
                value={
                    "name": "Soldes d'hiver",
                    "subject": '{{ first_name | default:"Bonjour" }}, les soldes commencent',
                    "gallery_template": "commerce-promotion",
                    "lists": [],
                },
            )
        ],
        tags=["Email campaigns"],
    )
    def create(self, request):
        serializer = EmailCampaignSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        campaign = services.campaign_create(
            account=request.account, data=_campaign_data(serializer.validated_data)
        )
        return Response(
            EmailCampaignSerializer(campaign, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(summary="Change a campaign (before sending)", tags=["Email campaigns"])
    def partial_update(self, request, pk=None):
        campaign = self.get_object()
        serializer = EmailCampaignSerializer(
            campaign, data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        campaign = services.campaign_update(
            campaign=campaign, data=_campaign_data(serializer.validated_data)
        )
        return Response(EmailCampaignSerializer(campaign, context={"request": request}).data)

    def perform_destroy(self, instance):
        services.campaign_delete(campaign=instance)

    @extend_schema(
        summary="Schedule the campaign, or send it now",
        description="With a test API key the campaign runs in sandbox: recorded, never delivered.",
        request=ScheduleSerializer,
        responses=EmailCampaignSerializer,
        tags=["Email campaigns"],
    )
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        serializer = ScheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = services.campaign_schedule(
            campaign=self.get_object(),
            at=serializer.validated_data.get("at"),
            sandbox=request.auth.is_test,
            expected_recipients=serializer.validated_data.get("expected_recipients"),
        )
        return Response(EmailCampaignSerializer(campaign, context={"request": request}).data)

    # Pre-send safeguards: the checklist the schedule action enforces, and unscheduling.
    @extend_schema(
        summary="Pre-send checklist and audience count",
        description="What scheduling checks: blocking items refuse `schedule` with a 409 naming "
        "their fields; the others are warnings. `recipients` is the audience as it stands now.",
        responses=ChecklistSerializer,
        tags=["Email campaigns"],
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def checklist(self, request, pk=None):
        return Response(ChecklistSerializer(campaign_checklist(self.get_object())).data)

    @extend_schema(
        summary="Unschedule a scheduled campaign (back to draft)",
        request=None,
        responses=EmailCampaignSerializer,
        tags=["Email campaigns"],
    )
    @action(detail=True, methods=["post"])
    def unschedule(self, request, pk=None):
        campaign = services.campaign_unschedule(campaign=self.get_object())
        return Response(EmailCampaignSerializer(campaign, context={"request": request}).data)

    def _transition(self, request, change, name: str):
        campaign = self.get_object()
        if not change(campaign=campaign):
            raise services.CampaignStateError(
                f"Cannot {name} a campaign that is {campaign.status}.", code="invalid_status"
            )
        campaign.refresh_from_db()
        return Response(EmailCampaignSerializer(campaign, context={"request": request}).data)

    @extend_schema(
        summary="Pause a sending campaign",
        request=None,
        responses=EmailCampaignSerializer,
        tags=["Email campaigns"],
    )
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._transition(request, pipeline.campaign_pause, "pause")

    @extend_schema(
        summary="Resume a paused campaign",
        request=None,
        responses=EmailCampaignSerializer,
        tags=["Email campaigns"],
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._transition(request, pipeline.campaign_resume, "resume")

    @extend_schema(
        summary="Cancel a campaign (messages not yet sent are dropped)",
        request=None,
        responses=EmailCampaignSerializer,
        tags=["Email campaigns"],
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(request, pipeline.campaign_cancel, "cancel")

    @extend_schema(
        summary="Send a test to up to 10 addresses",
        request=SendTestSerializer,
        responses=inline_serializer("TestSent", {"sent": serializers.IntegerField()}),
        tags=["Email campaigns"],
    )
    @action(detail=True, methods=["post"], url_path="send-test")
    def send_test(self, request, pk=None):
        serializer = SendTestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = self.get_object()
        if request.auth.is_test:
            return Response({"sent": 0})
        sent = services.campaign_send_test(
            campaign=campaign, recipients=serializer.validated_data["recipients"]
        )
        return Response({"sent": sent})

    @extend_schema(
        summary="Recipients and the status of their message",
        parameters=[OpenApiParameter("status", str, enum=Message.Status.values)],
        responses=MessageSerializer(many=True),
        tags=["Email campaigns"],
    )
    @action(detail=True, methods=["get"])
    def recipients(self, request, pk=None):
        messages = Message.objects.filter(campaign=self.get_object())
        wanted = query_choice(request, "status", Message.Status.values)
        if wanted:
            messages = messages.filter(status=wanted)
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="The campaign's block design",
        responses=CampaignDesignSerializer,
        tags=["Email campaigns"],
    )
    @extend_schema(
        methods=["PUT"],
        summary="Replace the campaign's content with a block design (before sending)",
        description="The design is checked (a 400 names each mistake by its JSON path in "
        "`fields`, e.g. `sections[0].columns[0].blocks[1].alt`), its merge tags too, then "
        "compiled to HTML, which becomes the campaign's content. A campaign already sent is a "
        "409.",
        request=DesignBody,
        responses={
            200: SavedDesignSerializer,
            409: OpenApiResponse(description="The campaign is sending or was sent."),
        },
        tags=["Email campaigns"],
    )
    @action(detail=True, methods=["get", "put"], pagination_class=None)
    def design(self, request, pk=None):
        campaign = self.get_object()
        if request.method == "PUT":
            saved = campaign_design_save(campaign=campaign, design=request.data)
            return Response(SavedDesignSerializer(saved).data)
        design, changed_elsewhere = editor_selectors.campaign_design(campaign)
        return Response(
            CampaignDesignSerializer(
                {"design": design, "html": campaign.html, "changed_elsewhere": changed_elsewhere}
            ).data
        )
