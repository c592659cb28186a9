"""REST API of shop connectors: connections and their settings, the connection test, runs (now,
stop, the log), pause/resume, the newsletter hook's address and secret, and abandoned carts.

Platform-agnostic: a connection's platform is one of `Platform`, its shop client comes from
`connectors.platforms.shop_client_for`, and the credentials object has the fields of
`ShopCredentials`, whatever platform uses them. Credentials are write-only: an answer names the
values that are stored (`credentials_given`), never a value. With a test API key nothing
leaves the platform: the operations that call the shop (test, run now) answer 403.
"""

from dataclasses import fields as dataclass_fields

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api_conventions import INT64, ErrorSerializer, query_choice, query_id
from accounts.api_fields import (
    AccountObjects,
    StrictCharField,
    StrictModelSerializer,
)
from accounts.tenancy import (
    AccountObjectsViewSet,
    AccountScopedViewMixin,
    get_for_account_or_404,
)
from connectors import selectors, services
from connectors.credentials import (
    CredentialsUnreadable,
    ShopCredentials,
    decrypt_credentials,
    decrypt_secret,
)
from connectors.models import ShopCart, ShopConnection, SyncRun
from connectors.shop_client import ShopError
from contacts.models import Contact, ContactList
from contacts.selectors import contacts_of

TAG = ["Shop connectors"]
# An object's id in a query filter: what `query_id` takes.
ID = {"type": "integer", "format": "int64", "minimum": 1, "maximum": INT64}
CREDENTIAL_NAMES = [field.name for field in dataclass_fields(ShopCredentials)]

# An http(s) URL with an ASCII host name or address (punycode for international names), an
# optional port and path: what a shop client can call. The same rule as the schema's pattern.
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = "(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
SHOP_URL_PATTERN = rf"^https?://{_LABEL}(?:\.{_LABEL})*(?::{_PORT})?(?:/[!-~]*)?$"
STORE_VIEW_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"


class WholeTextValidator(RegexValidator):
    """The pattern matches the whole text, as JSON Schema's `$` means: Python's `$` also
    matches before a final newline, which the schema's pattern does not allow."""

    def __call__(self, value):
        if not self.regex.fullmatch(str(value)):
            raise DjangoValidationError(self.message, code=self.code, params={"value": value})


class PatternedText(StrictCharField):
    """Text held to one pattern, which is also the schema's, as given (no trimming: " x" is
    not the pattern's; the pattern refuses blank, so the not-blank rule of StrictCharField
    would only add a second, redundant pattern)."""

    def __init__(self, pattern: str, message: str, **kwargs):
        super().__init__(trim_whitespace=False, **kwargs)
        self.validators = [
            validator for validator in self.validators if not isinstance(validator, RegexValidator)
        ] + [WholeTextValidator(pattern, message=message)]


class CredentialsSerializer(serializers.Serializer):
    """The shop's API credentials (Magento: an integration's four values for OAuth 1.0a, or its
    access token alone as a bearer token)."""

    def get_fields(self):
        return {
            name: StrictCharField(max_length=500, required=False, allow_blank=True)
            for name in CREDENTIAL_NAMES
        }


def _check_credentials(auth_method: str, given: dict) -> None:
    """OAuth 1.0a signs with all four values of the integration; a bearer needs the token."""
    if auth_method == ShopConnection.AuthMethod.OAUTH1:
        missing = [name for name in CREDENTIAL_NAMES if not given.get(name)]
        message = "OAuth 1.0a needs the four values of the integration."
    else:
        missing = [] if given.get("access_token") else ["access_token"]
        message = "A bearer connection needs the access token."
    if missing:
        raise serializers.ValidationError({"credentials": {name: [message] for name in missing}})


class ShopConnectionSerializer(StrictModelSerializer):
    """A shop connection and its settings; credentials go in, never come out."""

    shop_url = PatternedText(
        SHOP_URL_PATTERN,
        "Give an http(s) URL of the shop.",
        max_length=500,
        help_text="The shop's base URL, e.g. https://boutique.example (no /rest).",
    )
    credentials = CredentialsSerializer(
        write_only=True,
        required=False,
        help_text="Write-only: stored encrypted, never returned. Required on creation; on a "
        "change, replaces the stored values.",
    )
    credentials_given = serializers.SerializerMethodField(
        help_text="Which credential values are stored (never the values)."
    )
    store_views = serializers.ListField(
        child=PatternedText(STORE_VIEW_PATTERN, "A store view code.", max_length=32),
        max_length=50,
        required=False,
        help_text="Store view codes to read; empty: all store views.",
    )
    newsletter_list = AccountObjects(ContactList, allow_null=True, required=False)
    running_run = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = ShopConnection
        fields = [
            "id", "name", "platform", "shop_url", "auth_method", "credentials",
            "credentials_given", "store_views", "data_scope", "write_back",
            "soft_optin_marketable", "newsletter_instant_add", "newsletter_list",
            "sync_interval_hours", "cart_delay_hours", "status", "first_import_at",
            "next_run_at", "running_run", "created_at",
        ]  # fmt: skip
        read_only_fields = ["status", "next_run_at", "created_at"]
        extra_kwargs = {
            "first_import_at": {
                "help_text": "When the first import starts (creation only); empty: now."
            },
            "sync_interval_hours": {"help_text": "Hours between syncs, 12 to 720 (default 24)."},
            "cart_delay_hours": {
                "help_text": "Hours after which an untouched cart is abandoned, 1 to 168."
            },
        }
        # The (account, name) uniqueness is the service's 409, not a 400 from the serializer.
        validators = []

    def get_credentials_given(self, connection) -> list[str]:
        try:
            stored = decrypt_credentials(connection.credentials_encrypted)
        except CredentialsUnreadable:
            return []
        return [name for name in CREDENTIAL_NAMES if getattr(stored, name)]

    def validate(self, data):
        creating = self.instance is None
        auth_method = data.get(
            "auth_method",
            self.instance.auth_method if self.instance else ShopConnection.AuthMethod.OAUTH1,
        )
        if creating and "credentials" not in data:
            raise serializers.ValidationError({"credentials": ["Required on creation."]})
        if "credentials" in data:
            _check_credentials(auth_method, data["credentials"])
        elif "auth_method" in data and auth_method == ShopConnection.AuthMethod.OAUTH1:
            stored = decrypt_credentials(self.instance.credentials_encrypted)
            if not stored.is_oauth:
                raise serializers.ValidationError(
                    {"credentials": ["Give the four values of the integration for OAuth 1.0a."]}
                )
        if not creating:
            data.pop("first_import_at", None)
            if data.get("platform", self.instance.platform) != self.instance.platform:
                # Watermarks, mirror rows and the [MB]/[PS] fields belong to one platform.
                raise serializers.ValidationError(
                    {"platform": ["A connection keeps its platform; connect another shop."]}
                )
        return data


class StoreViewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class ConnectionCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="The shop answered and every resource is readable.")
    code = serializers.CharField(help_text="Empty when ok; else e.g. unreachable, unauthorized.")
    message = serializers.CharField(help_text="What is wrong, for the shop owner; empty when ok.")
    store_views = StoreViewSerializer(many=True)
    missing_resources = serializers.ListField(
        child=serializers.CharField(),
        help_text="ACL resources the credentials may not read (e.g. Magento_Sales::sales).",
    )


class NewsletterHookSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="newsletter_instant_add")
    url = serializers.CharField(help_text="Where the shop module posts new subscribers.")
    secret = serializers.CharField(help_text="The HMAC-SHA256 key that signs the posts.")


class SyncRunSerializer(serializers.ModelSerializer):
    progress_percent = serializers.IntegerField(read_only=True)
    rejections = serializers.DictField(
        read_only=True, help_text="Rejected rows by reason, with a few examples."
    )
    expected = serializers.DictField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text="Records the shop announced per entity, for the progress bar.",
    )

    class Meta:
        model = SyncRun
        fields = [
            "id", "connection", "kind", "trigger", "status", "progress_percent", "created_at",
            "started_at", "finished_at", "customers_read", "orders_read", "carts_read",
            "subscribers_read", "contacts_created", "contacts_updated", "contacts_unchanged",
            "contacts_rejected", "rejections", "error_code", "error_message", "expected",
        ]  # fmt: skip
        read_only_fields = fields


class CartItemSerializer(serializers.Serializer):
    name = serializers.CharField()
    sku = serializers.CharField()
    qty = serializers.FloatField()
    price = serializers.CharField(help_text="Unit price, a decimal number as text.")


class AbandonedCartSerializer(serializers.ModelSerializer):
    items = CartItemSerializer(many=True, read_only=True)
    contact = serializers.SerializerMethodField(help_text="The contact with this address.")
    url = serializers.SerializerMethodField(help_text="The shop's cart page.")

    class Meta:
        model = ShopCart
        fields = ["id", "connection", "email", "contact", "items", "total", "currency"]
        fields += ["url", "updated_at"]
        read_only_fields = fields

    def get_contact(self, cart) -> int | None:
        return self.context.get("contact_ids", {}).get(cart.email)

    def get_url(self, cart) -> str:
        return selectors.cart_url(cart.connection)


FORBIDDEN_FOR_TEST_KEYS = OpenApiResponse(
    ErrorSerializer,
    description="A test API key: nothing leaves the platform, the shop is not called.",
)


def _refuse_test_keys(request) -> None:
    if request.auth.is_test:
        raise exceptions.PermissionDenied(
            "A test API key does not call shops; use a live key.", code="test_key"
        )


@extend_schema_view(
    list=extend_schema(summary="List shop connections", tags=TAG),
    retrieve=extend_schema(summary="Get a shop connection", tags=TAG),
    destroy=extend_schema(
        summary="Delete a shop connection",
        description="Deletes its run log and its copy of the shop's orders and carts; the "
        "contacts, their shop fields and the ready-made segments stay. 409 while a run is queued "
        "or running (stop it first).",
        tags=TAG,
    ),
)
class ShopConnectionViewSet(AccountObjectsViewSet):
    queryset = ShopConnection.objects.all()
    serializer_class = ShopConnectionSerializer
    pagination_class = None

    def _out(self, connection):
        return ShopConnectionSerializer(connection, context={"request": self.request}).data

    @extend_schema(
        summary="Connect a shop",
        description="The first import starts at `first_import_at` (or at once), then every "
        "`sync_interval_hours`. Credentials are checked by `POST …/test/`, not here.",
        tags=TAG,
    )
    def create(self, request):
        serializer = ShopConnectionSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        credentials = ShopCredentials(**data.pop("credentials"))
        connection = services.connection_create(
            account=request.account, credentials=credentials, **data
        )
        return Response(self._out(connection), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a shop connection's settings or credentials",
        description="A new `sync_interval_hours` moves the next scheduled run at once (counted "
        "from the end of the last sync).",
        tags=TAG,
    )
    def partial_update(self, request, pk=None):
        connection = self.get_object()
        serializer = ShopConnectionSerializer(
            connection, data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        given = data.pop("credentials", None)
        connection = services.connection_update(
            connection=connection,
            credentials=ShopCredentials(**given) if given is not None else None,
            **data,
        )
        return Response(self._out(connection))

    def perform_destroy(self, instance):
        services.connection_delete(connection=instance)

    @extend_schema(
        summary="Test the connection",
        description="Calls the shop and says precisely what is wrong (host unreachable, TLS, "
        "401 with the missing ACL resource, unknown store view): the answer is always a 200 "
        "whose `ok` says whether the shop can be synced.",
        request=None,
        responses={200: ConnectionCheckSerializer, 403: FORBIDDEN_FOR_TEST_KEYS},
        tags=TAG,
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        connection = self.get_object()
        _refuse_test_keys(request)
        answer = {"ok": False, "code": "", "message": "", "store_views": []}
        answer["missing_resources"] = []
        try:
            check = services.connection_test(connection=connection)
        except ShopError as error:
            answer.update(code=error.code, message=error.message)
        except CredentialsUnreadable:
            answer.update(
                code="credentials_unreadable",
                message="The stored credentials cannot be read (the key changed); give them again.",
            )
        else:
            answer.update(
                ok=check.ok,
                code="" if check.ok else "missing_resources",
                message=""
                if check.ok
                else "The credentials may not read: " + ", ".join(check.missing_resources),
                store_views=[vars(view) for view in check.store_views],
                missing_resources=check.missing_resources,
            )
        return Response(ConnectionCheckSerializer(answer).data)

    @extend_schema(
        summary="Sync now",
        description="Queues a run: the full import first, then the changes since the last run. "
        "409 when a run of the connection is already queued or running.",
        request=None,
        responses={202: SyncRunSerializer, 403: FORBIDDEN_FOR_TEST_KEYS},
        tags=TAG,
    )
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        connection = self.get_object()
        _refuse_test_keys(request)
        run = services.sync_start(connection=connection, trigger=SyncRun.Trigger.MANUAL)
        return Response(SyncRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Pause the connection (no scheduled sync until resumed)",
        request=None,
        responses=ShopConnectionSerializer,
        tags=TAG,
    )
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return Response(self._out(services.connection_pause(connection=self.get_object())))

    @extend_schema(
        summary="Resume a paused connection",
        request=None,
        responses=ShopConnectionSerializer,
        tags=TAG,
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return Response(self._out(services.connection_resume(connection=self.get_object())))

    @extend_schema(
        summary="The newsletter instant-add hook: its URL and signing secret",
        description="For the shop module (Magento: Stores › Configuration › Sendethic). The "
        "module signs each post with HMAC-SHA256 over `timestamp.body` with this secret.",
        responses=NewsletterHookSerializer,
        tags=TAG,
    )
    @action(detail=True, methods=["get"], url_path="newsletter-hook")
    def newsletter_hook(self, request, pk=None):
        connection = self.get_object()
        hook = {
            "enabled": connection.newsletter_instant_add,
            "url": request.build_absolute_uri(
                reverse("connectors:newsletter_add", args=[connection.pk])
            ),
            "secret": decrypt_secret(connection.webhook_secret_encrypted),
        }
        return Response(NewsletterHookSerializer(hook).data)


@extend_schema_view(
    list=extend_schema(
        summary="The sync run log",
        description="Newest first: each run's counts, rejections by reason, error and progress.",
        parameters=[
            OpenApiParameter("connection", ID, description="Only this connection's runs."),
            OpenApiParameter("status", str, enum=SyncRun.Status.values),
        ],
        tags=TAG,
    ),
    retrieve=extend_schema(summary="Get a sync run", tags=TAG),
)
class SyncRunViewSet(
    AccountScopedViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = SyncRun.objects.all()
    serializer_class = SyncRunSerializer

    def get_queryset(self):
        runs = super().get_queryset()
        if self.action == "list":
            connection = query_id(self.request, "connection")
            if connection is not None:
                runs = runs.filter(connection_id=connection)
            wanted = query_choice(self.request, "status", SyncRun.Status.values)
            if wanted:
                runs = runs.filter(status=wanted)
        return runs

    @extend_schema(
        summary="Stop a queued or running sync run",
        description="It ends after its current page; what it wrote stays. 409 once it ended.",
        request=None,
        responses=SyncRunSerializer,
        tags=TAG,
    )
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        return Response(SyncRunSerializer(services.sync_stop(run=self.get_object())).data)


@extend_schema_view(
    list=extend_schema(
        summary="Abandoned carts",
        description="Carts abandoned now (active, with items, untouched for longer than the "
        "connection's delay, no order since), with their content, for a connection or a contact.",
        parameters=[
            OpenApiParameter("connection", ID, description="Only this connection's carts."),
            OpenApiParameter("contact", ID, description="Only this contact's carts."),
        ],
        tags=TAG,
    ),
)
class AbandonedCartViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = ShopCart.objects.none()  # get_queryset starts from the account's connections
    serializer_class = AbandonedCartSerializer

    def get_queryset(self):
        account = self.request.account
        connection = email = None
        connection_id = query_id(self.request, "connection")
        if connection_id is not None:
            connection = get_for_account_or_404(ShopConnection, account, pk=connection_id)
        contact_id = query_id(self.request, "contact")
        if contact_id is not None:
            email = get_for_account_or_404(Contact, account, pk=contact_id).email
        return selectors.abandoned_carts_of(account, connection=connection, email=email)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        emails = {cart.email for cart in page}
        contact_ids = dict(
            contacts_of(request.account).filter(email__in=emails).values_list("email", "pk")
        )
        serializer = AbandonedCartSerializer(page, many=True, context={"contact_ids": contact_ids})
        return self.get_paginated_response(serializer.data)
