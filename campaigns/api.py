"""REST API of email campaigns: sender addresses, templates, campaigns and their lifecycle."""

import inspect

from django.core.validators import RegexValidator
from django.db.models import Count
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.relations import MANY_RELATION_KWARGS
from rest_framework.response import Response

from accounts.api_conventions import INT64, query_choice
from accounts.api_fields import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictEmailField,
    StrictModelSerializer,
    StrictPrimaryKeyRelatedField,
)
from accounts.tenancy import AccountObjectsViewSet
from campaigns import pipeline, services
from campaigns.dkim import (
    DOMAIN_MAX_LENGTH,
    DOMAIN_PATTERN,
    SELECTOR_PATTERN,
    dkim_key_create,
)
from campaigns.gallery import OBJECTIVES, UNIVERSES, gallery, template_source
from campaigns.links import UTM_KEYS, clean_utm
from campaigns.models import DkimKey, EmailCampaign, EmailTemplate, Message, SenderAddress
from contacts.models import ContactList, Segment


class SenderAddressSerializer(StrictModelSerializer):
    is_verified = StrictBooleanField(read_only=True)

    class Meta:
        model = SenderAddress
        fields = ["id", "email", "name", "is_verified", "verified_at", "created_at"]
        read_only_fields = ["id", "is_verified", "verified_at", "created_at"]


@extend_schema_view(
    list=extend_schema(summary="List sender addresses", tags=["Senders"]),
    retrieve=extend_schema(summary="Get a sender address", tags=["Senders"]),
    destroy=extend_schema(summary="Delete a sender address", tags=["Senders"]),
)
class SenderAddressViewSet(AccountObjectsViewSet):
    queryset = SenderAddress.objects.all()
    serializer_class = SenderAddressSerializer
    pagination_class = None

    @extend_schema(
        summary="Add a sender address",
        description="A confirmation email is sent to it; campaigns can use it once confirmed.",
        tags=["Senders"],
    )
    def create(self, request):
        serializer = SenderAddressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sender = services.sender_create(account=request.account, **serializer.validated_data)
        return Response(SenderAddressSerializer(sender).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.sender_delete(sender=instance)


class GalleryTemplateSerializer(serializers.Serializer):
    slug = serializers.CharField()
    universe = serializers.ChoiceField(choices=list(UNIVERSES.items()))
    objective = serializers.ChoiceField(choices=list(OBJECTIVES.items()))
    name = serializers.CharField()
    description = serializers.CharField()


MJML_PATTERN = r"^\s*<mjml"


class TemplateSourceField(StrictCharField):
    """The template's code: HTML, or for `kind` mjml an MJML document (starting with `<mjml`,
    compiled at save: a source that does not compile is a 400). Merge tags are checked as in
    campaigns: an unknown or unclosed tag is a 400."""


class EmailTemplateSerializer(StrictModelSerializer):
    source = TemplateSourceField()

    class Meta:
        model = EmailTemplate
        fields = ["id", "name", "kind", "source", "html", "created_at", "updated_at"]
        read_only_fields = ["id", "html", "created_at", "updated_at"]


# The request of POST /templates/, written out because its rule on `source` depends on `kind`
# (which a serializer field cannot say): an MJML source starts with `<mjml`.
TEMPLATE_REQUEST_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "kind": {
            "type": "string",
            "enum": EmailTemplate.Kind.values,
            "default": EmailTemplate.Kind.HTML,
        },
        "source": {
            "type": "string",
            "minLength": 1,
            "description": inspect.cleandoc(TemplateSourceField.__doc__),
        },
    },
    "required": ["name", "source"],
    "anyOf": [
        # Patterns, not one-value enums: the schema's enum post-processing would merge those
        # into the full enum and lose the condition.
        {"properties": {"kind": {"type": "string", "pattern": f"^{EmailTemplate.Kind.HTML}$"}}},
        {
            "properties": {
                "kind": {"type": "string", "pattern": f"^{EmailTemplate.Kind.MJML}$"},
                "source": {"type": "string", "pattern": MJML_PATTERN},
            },
            "required": ["kind"],
        },
    ],
}


class EmailTemplateCreateSerializer(EmailTemplateSerializer):
    """The body of POST /templates/; its schema is TEMPLATE_REQUEST_SCHEMA."""


class _TemplateRequestSchema(OpenApiSerializerExtension):
    target_class = EmailTemplateCreateSerializer

    def map_serializer(self, auto_schema, direction):
        return TEMPLATE_REQUEST_SCHEMA


@extend_schema_view(
    list=extend_schema(summary="List the account's templates", tags=["Templates"]),
    retrieve=extend_schema(summary="Get a template", tags=["Templates"]),
    destroy=extend_schema(summary="Delete a template", tags=["Templates"]),
)
class EmailTemplateViewSet(AccountObjectsViewSet):
    queryset = EmailTemplate.objects.all()
    serializer_class = EmailTemplateSerializer

    @extend_schema(
        summary="Save a template (MJML is compiled, HTML kept)",
        request=EmailTemplateCreateSerializer,
        responses={201: EmailTemplateSerializer},
        tags=["Templates"],
    )
    def create(self, request):
        serializer = EmailTemplateCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = services.template_save(account=request.account, **serializer.validated_data)
        return Response(EmailTemplateSerializer(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The starter gallery (responsive MJML templates by universe and objective)",
        responses=GalleryTemplateSerializer(many=True),
        tags=["Templates"],
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def gallery(self, request):
        return Response(GalleryTemplateSerializer(gallery(), many=True).data)


class StrictManyRelatedField(serializers.ManyRelatedField):
    """A JSON array of ids, nothing else: DRF's takes any iterable, so `{}` passed as none."""

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": INT64})
class AccountObjects(StrictPrimaryKeyRelatedField):
    """Ids of the caller's own lists, segments or senders: another account's id is invalid.
    Ids are positive 64-bit integers (the database's range), as the schema says."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool) and not 1 <= data <= INT64:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)

    @classmethod
    def many_init(cls, *args, **kwargs):
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        for key in kwargs:
            if key in MANY_RELATION_KWARGS:
                list_kwargs[key] = kwargs[key]
        return StrictManyRelatedField(**list_kwargs)

    def get_queryset(self):
        return self.model.objects.filter(account=self.context["request"].account)


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            key: {"type": "string", "maxLength": 200, "pattern": "^[^\\u0000]*$"}
            for key in UTM_KEYS
        },
        "additionalProperties": False,
    }
)
class UtmField(serializers.DictField):
    """The five standard UTM keys (campaigns.links.clean_utm refuses any other)."""


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
        required=False, allow_null=True, help_text="When to send; empty or past: now."
    )


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
        )
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


@extend_schema_field({"type": "string", "pattern": DOMAIN_PATTERN, "maxLength": DOMAIN_MAX_LENGTH})
class DomainField(StrictCharField):
    """A host name: the schema's pattern is its ASCII form; a Unicode one is also taken (IDNA),
    checked by the service (campaigns.dkim.check_domain)."""


class DkimKeySerializer(StrictModelSerializer):
    # Spaces around a name are refused, not trimmed: the schema's pattern says no spaces.
    domain = DomainField(
        max_length=DOMAIN_MAX_LENGTH,
        trim_whitespace=False,
        help_text="The sending domain, e.g. `shop.example` (a Unicode name is encoded with IDNA).",
    )
    selector = StrictCharField(
        max_length=63,
        trim_whitespace=False,
        required=False,
        validators=[RegexValidator(SELECTOR_PATTERN, "Give a DNS label.")],
        help_text="A DNS label: letters, digits and hyphens, not at either end.",
    )
    dns_name = serializers.CharField(read_only=True, help_text="TXT record name to publish")
    dns_value = serializers.CharField(read_only=True, help_text="TXT record value to publish")

    class Meta:
        model = DkimKey
        fields = ["id", "domain", "selector", "dns_name", "dns_value", "created_at"]
        read_only_fields = ["id", "dns_name", "dns_value", "created_at"]


@extend_schema_view(
    list=extend_schema(summary="List DKIM keys", tags=["Senders"]),
    retrieve=extend_schema(summary="Get a DKIM key and its DNS record", tags=["Senders"]),
    destroy=extend_schema(summary="Delete a DKIM key", tags=["Senders"]),
)
class DkimKeyViewSet(AccountObjectsViewSet):
    queryset = DkimKey.objects.all()
    serializer_class = DkimKeySerializer
    pagination_class = None

    @extend_schema(
        summary="Create a DKIM key for a sending domain",
        description="Publish the returned TXT record; messages from this domain are then signed.",
        tags=["Senders"],
    )
    def create(self, request):
        serializer = DkimKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = dkim_key_create(account=request.account, **serializer.validated_data)
        return Response(DkimKeySerializer(key).data, status=status.HTTP_201_CREATED)
