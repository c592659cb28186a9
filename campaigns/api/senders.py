"""API of the sending identities: sender addresses (confirmed by email) and DKIM keys."""

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.api_fields import StrictBooleanField, StrictCharField, StrictModelSerializer
from accounts.tenancy import AccountObjectsViewSet
from campaigns import services
from campaigns.dkim import (
    DOMAIN_MAX_LENGTH,
    DOMAIN_PATTERN,
    SELECTOR_PATTERN,
    dkim_key_create,
)
from campaigns.models import DkimKey, SenderAddress


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
