from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from accounts.api import AccountSerializer
from accounts.api_conventions import ErrorSerializer, query_bool
from accounts.api_fields import StrictCharField, StrictChoiceField
from accounts.errors import ConflictError
from accounts.services import account_update
from accounts.tenancy import AccountObjectsViewSet
from apikeys.models import ApiKey
from apikeys.services import api_key_create, api_key_revoke


class ApiKeySerializer(serializers.ModelSerializer):
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "mode", "prefix", "is_active", "created_at", "last_used_at"]
        fields += ["revoked_at"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100)
    mode = StrictChoiceField(choices=ApiKey.Mode.choices, default=ApiKey.Mode.LIVE)

    def validate_name(self, value):
        if not value.strip():
            raise serializers.ValidationError("The name cannot be blank.")
        return value

    def validate_mode(self, value):
        caller = self.context["request"].auth
        if caller.is_test and value != ApiKey.Mode.TEST:
            # A sandbox key must not be able to mint a key that reaches the outside world.
            raise serializers.ValidationError("A test key can only create test keys.")
        return value


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(
        read_only=True, help_text="The secret. Shown in this response only: store it now."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


# `self` is told in the description, not declared as a parameter: a declared boolean is sent as
# `true` by schema-driven test tools (schemathesis), which then revoke the key they run with.
@extend_schema_view(
    list=extend_schema(summary="List the active API keys", tags=["API keys"]),
    retrieve=extend_schema(
        summary="Get an API key", description="A revoked key is a 404.", tags=["API keys"]
    ),
    destroy=extend_schema(
        summary="Revoke an API key",
        description=(
            "Takes effect at once: the key gets 401 from its next request, and it is gone from "
            "the API (a 404 here, absent from the list); the account's API keys page keeps it, "
            "with its revocation date, as the audit record. The key making the "
            "request is only revoked when the query string says `?self=true` (otherwise a 409 "
            "`revoking_own_key`), so that a client does not lock itself out by mistake; `self` "
            "takes `true` or `false`, anything else is a 400."
        ),
        responses={
            204: None,
            409: OpenApiResponse(
                ErrorSerializer,
                description="`revoking_own_key`: the key is the one making the request and "
                "`self=true` was not given.",
            ),
        },
        tags=["API keys"],
    ),
)
class ApiKeyViewSet(AccountObjectsViewSet):
    # A revoked key is deleted as far as the API is concerned (DELETE means the resource is gone,
    # and a client must not mistake a revoked key for a usable one); its row stays, shown on the
    # account's API keys page as the audit record of who had access until when.
    queryset = ApiKey.objects.filter(revoked_at__isnull=True)
    serializer_class = ApiKeySerializer

    @extend_schema(
        summary="Create an API key",
        description="An account holds at most 5 active keys. The secret is returned once.",
        request=ApiKeyCreateSerializer,
        responses={
            201: ApiKeyCreatedSerializer,
            409: OpenApiResponse(ErrorSerializer, description="The account already has 5 keys."),
        },
        examples=[OpenApiExample("Test key", value={"name": "CRM sync", "mode": "test"})],
        tags=["API keys"],
    )
    def create(self, request):
        serializer = ApiKeyCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        api_key, plaintext = api_key_create(
            account=request.account,
            name=serializer.validated_data["name"],
            mode=serializer.validated_data["mode"],
        )
        api_key.key = plaintext
        return Response(ApiKeyCreatedSerializer(api_key).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        revoking_self = query_bool(self.request, "self")
        if instance.pk == self.request.auth.pk and not revoking_self:
            raise ConflictError(
                "This is the key making the request: pass self=true to revoke it.",
                code="revoking_own_key",
            )
        api_key_revoke(api_key=instance)


class CurrentAccountSerializer(AccountSerializer):
    api_key = serializers.SerializerMethodField(help_text="The key used for this request.")

    class Meta(AccountSerializer.Meta):
        fields = [*AccountSerializer.Meta.fields, "api_key"]
        read_only_fields = [*AccountSerializer.Meta.read_only_fields, "api_key"]

    @extend_schema_field(ApiKeySerializer)
    def get_api_key(self, account) -> dict:
        return ApiKeySerializer(self.context["request"].auth).data


@extend_schema(tags=["Account"])
class CurrentAccountView(generics.RetrieveUpdateAPIView):
    """The account that owns the API key making the request."""

    serializer_class = CurrentAccountSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return self.request.account

    @extend_schema(summary="Get the key's account")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Update the account's settings")
    def patch(self, request, *args, **kwargs):
        return super().patch(request, *args, **kwargs)

    def perform_update(self, serializer):
        account_update(account=self.request.account, **serializer.validated_data)
