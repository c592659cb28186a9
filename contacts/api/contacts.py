"""API of the contacts: CRUD, upsert by key, bulk upsert, consent, GDPR access and erasure."""

from contextlib import contextmanager

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from accounts.api_conventions import INT64, Conflict, query_choice, query_id, query_text
from accounts.api_fields import StrictCharField, StrictChoiceField, StrictIntegerField
from accounts.tenancy import AccountObjectsViewSet, get_for_account_or_404
from contacts import selectors
from contacts.api.serializers import ContactSerializer
from contacts.models import (
    Channel,
    ConsentRecord,
    ConsentStatus,
    Contact,
    ContactField,
    ContactList,
    DuplicatePolicy,
)
from contacts.services import consent as consent_services
from contacts.services.consent import ConsentProof
from contacts.services.contacts import (
    MAX_BULK_ROWS,
    ContactDataError,
    contact_delete,
    contact_update,
    contact_upsert,
    contacts_bulk_upsert,
)


def api_proof(request, **extra) -> ConsentProof:
    return ConsentProof(
        source=extra.pop("source", ConsentRecord.Source.API),
        ip_address=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        actor=str(request.user),
        **extra,
    )


class ContactInputSerializer(serializers.Serializer):
    """Built-in fields plus `fields` (custom field key → value). Values are normalised
    (emails lower-cased, mobiles to E.164, French or ISO dates, decimal commas); a bad value is
    a 400 naming the field. An empty value or null clears the field."""

    email = StrictCharField(required=False, allow_blank=True, allow_null=True)
    mobile = StrictCharField(required=False, allow_blank=True, allow_null=True)
    salutation = StrictCharField(required=False, allow_blank=True, allow_null=True)
    first_name = StrictCharField(required=False, allow_blank=True, allow_null=True)
    last_name = StrictCharField(required=False, allow_blank=True, allow_null=True)
    birth_date = StrictCharField(required=False, allow_blank=True, allow_null=True)
    zip_code = StrictCharField(required=False, allow_blank=True, allow_null=True)
    city = StrictCharField(required=False, allow_blank=True, allow_null=True)
    country = StrictCharField(required=False, allow_blank=True, allow_null=True)
    company = StrictCharField(required=False, allow_blank=True, allow_null=True)
    fields = serializers.DictField(
        required=False,
        help_text="Custom field key → value. Every key must be a custom field of the account "
        "(GET /api/v1/fields/): an unknown key is a 404 naming it, as an unknown id would be.",
    )
    email_status = StrictChoiceField(choices=ConsentStatus.choices, required=False)
    sms_status = StrictChoiceField(choices=ConsentStatus.choices, required=False)


CONTACT_EXAMPLE = OpenApiExample(
    "French contact",
    value={
        "email": "Marie.Dupont@Exemple.fr",
        "mobile": "06 12 34 56 78",
        "salutation": "Mme",
        "first_name": "Marie",
        "last_name": "Dupont",
        "birth_date": "14/07/1985",
        "city": "Lyon",
        "email_status": "subscribed",
    },
    request_only=True,
)


@extend_schema_field(ContactInputSerializer(many=True))
class ContactRowsField(serializers.ListField):
    """Rows are checked by the contact services, which report each bad row with its reasons;
    validating 1,000 nested serializers first would double the cost of a bulk call. Only the JSON
    type of each given value is checked here (a number where the schema says text, an unknown
    status): such a row is a client bug, refused with the whole call (400) like a single create,
    not reported as a row error."""

    child = serializers.DictField()
    _row_fields = ContactInputSerializer().fields

    def to_internal_value(self, data):
        rows = super().to_internal_value(data)
        errors = {}
        for index, row in enumerate(rows):
            for name, value in row.items():
                field = self._row_fields.get(name)
                if field is None:
                    continue
                try:
                    field.run_validation(value)
                except ValidationError as error:
                    errors.setdefault(str(index), {})[name] = error.detail
        if errors:
            raise ValidationError(errors)
        return rows


class BulkUpsertSerializer(serializers.Serializer):
    contacts = ContactRowsField(min_length=1, max_length=MAX_BULK_ROWS, allow_empty=False)
    policy = StrictChoiceField(choices=DuplicatePolicy.choices, default=DuplicatePolicy.UPDATE)
    list_id = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=INT64)


class BulkRowResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "updated", "skipped", "error"])
    id = serializers.IntegerField(allow_null=True)
    errors = serializers.DictField(child=serializers.CharField())


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    skipped = serializers.IntegerField()
    errors = serializers.IntegerField()
    results = BulkRowResultSerializer(many=True)


@extend_schema_field(
    {
        "anyOf": [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"}],
        "nullable": True,
    }
)
class IPAddressField(serializers.IPAddressField):
    """An IPv4 or IPv6 address as text; the schema says which formats (it said any text)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ConsentChangeSerializer(serializers.Serializer):
    channel = StrictChoiceField(choices=Channel.choices)
    status = StrictChoiceField(choices=ConsentStatus.choices)
    wording = StrictCharField(required=False, allow_blank=True, default="")
    form = StrictCharField(required=False, allow_blank=True, default="", max_length=200)
    version = StrictCharField(required=False, allow_blank=True, default="", max_length=50)
    ip_address = IPAddressField(
        required=False, allow_null=True, help_text="The person's IP, when known (e.g. a form)."
    )


class ConsentRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConsentRecord
        fields = ["id", "channel", "status", "source", "ip_address", "user_agent", "wording"]
        fields += ["form", "version", "actor", "created_at"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="List and search contacts",
        parameters=[
            OpenApiParameter("q", str, description="Search email, names, mobile, company"),
            OpenApiParameter("email_status", str, enum=ConsentStatus.values),
            OpenApiParameter("sms_status", str, enum=ConsentStatus.values),
            OpenApiParameter("list", int, description="Only members of this list"),
        ],
        tags=["Contacts"],
    ),
    retrieve=extend_schema(summary="Get a contact", tags=["Contacts"]),
    destroy=extend_schema(summary="Delete a contact", tags=["Contacts"]),
)
class ContactViewSet(AccountObjectsViewSet):
    queryset = Contact.objects.all()
    serializer_class = ContactSerializer

    def get_queryset(self):
        if self.action != "list":
            return super().get_queryset()
        request = self.request
        return selectors.contacts_search(
            request.account,
            query=query_text(request, "q"),
            email_status=query_choice(request, "email_status", ConsentStatus.values, default=""),
            sms_status=query_choice(request, "sms_status", ConsentStatus.values, default=""),
            list_id=query_id(request, "list"),
        )

    @extend_schema(
        summary="Create a contact",
        description="409 if a contact with the same key (email, or mobile) exists: use upsert.",
        request=ContactInputSerializer,
        responses={201: ContactSerializer, 409: OpenApiResponse(description="Already exists")},
        examples=[CONTACT_EXAMPLE],
        tags=["Contacts"],
    )
    def create(self, request):
        data = self._input(request)
        with unknown_fields_are_404(request.account, data):
            contact, created = contact_upsert(
                account=request.account,
                data=data,
                proof=api_proof(request),
                policy=DuplicatePolicy.SKIP,
            )
        if not created:
            raise Conflict(f"Contact {contact.pk} already has this key.", code="contact_exists")
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Create or update a contact by its key",
        request=ContactInputSerializer,
        responses={200: ContactSerializer, 201: ContactSerializer},
        examples=[CONTACT_EXAMPLE],
        tags=["Contacts"],
    )
    @action(detail=False, methods=["post"])
    def upsert(self, request):
        data = self._input(request)
        with unknown_fields_are_404(request.account, data):
            contact, created = contact_upsert(
                account=request.account, data=data, proof=api_proof(request)
            )
        return Response(
            ContactSerializer(contact).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Update a contact",
        request=ContactInputSerializer,
        responses=ContactSerializer,
        tags=["Contacts"],
    )
    def partial_update(self, request, pk=None):
        contact = self.get_object()
        data = self._input(request)
        with unknown_fields_are_404(request.account, data):
            contact = contact_update(contact=contact, data=data, proof=api_proof(request))
        return Response(ContactSerializer(contact).data)

    @extend_schema(
        summary="Create or update up to 1,000 contacts",
        description="One result per row, in order: created, updated, skipped or error (with "
        "the reason per field). Good rows are written even when others are refused.",
        request=BulkUpsertSerializer,
        responses=BulkResultSerializer,
        tags=["Contacts"],
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        serializer = BulkUpsertSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target_list = None
        if serializer.validated_data.get("list_id"):
            target_list = get_for_account_or_404(
                ContactList, request.account, pk=serializer.validated_data["list_id"]
            )
        rows = [dict(row) for row in serializer.validated_data["contacts"]]
        outcomes = contacts_bulk_upsert(
            account=request.account,
            rows=rows,
            policy=serializer.validated_data["policy"],
            proof=api_proof(request),
            target_list=target_list,
        )
        results = [
            {"index": i, "status": o.status, "id": o.contact_id, "errors": o.errors}
            for i, o in enumerate(outcomes)
        ]
        summary = dict.fromkeys(("created", "updated", "skipped", "errors"), 0)
        for outcome in outcomes:
            summary["errors" if outcome.status == "error" else outcome.status] += 1
        return Response({**summary, "results": results})

    @extend_schema(
        methods=["get"],
        summary="Consent history of a contact",
        responses=ConsentRecordSerializer(many=True),
        tags=["Consent"],
    )
    @extend_schema(
        methods=["post"],
        summary="Change a contact's consent",
        description="Appends a record to the consent ledger. An address that unsubscribed, "
        "bounced or complained stays unsubscribed: only the person's double opt-in lifts it.",
        request=ConsentChangeSerializer,
        responses=ContactSerializer,
        tags=["Consent"],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def consent(self, request, pk=None):
        contact = self.get_object()
        if request.method == "GET":
            records = selectors.consent_history(contact)
            return Response(ConsentRecordSerializer(records, many=True).data)
        serializer = ConsentChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        proof = api_proof(
            request, wording=data["wording"], form=data["form"], version=data["version"]
        )
        if data.get("ip_address"):
            proof = ConsentProof(**{**proof.__dict__, "ip_address": data["ip_address"]})
        contact = consent_services.consent_change(
            contact=contact, channel=data["channel"], status=data["status"], proof=proof
        )
        return Response(ContactSerializer(contact).data)

    @extend_schema(
        summary="Send a double opt-in confirmation email",
        request=None,
        responses=ContactSerializer,
        tags=["Consent"],
    )
    @action(detail=True, methods=["post"], url_path="double-optin")
    def double_optin(self, request, pk=None):
        contact = self.get_object()
        if not contact.email:
            raise ValidationError({"email": ["This contact has no email address."]})
        contact = consent_services.double_optin_request(contact=contact, proof=api_proof(request))
        return Response(ContactSerializer(contact).data)

    @extend_schema(
        summary="Everything held about a contact (GDPR access)",
        responses=OpenApiTypes.OBJECT,
        tags=["GDPR"],
    )
    @action(detail=True, methods=["get"], url_path="gdpr-export")
    def gdpr_export(self, request, pk=None):
        return Response(selectors.contact_personal_data(self.get_object()))

    @extend_schema(
        summary="Erase a contact (GDPR right to erasure)",
        description="Deletes the personal data; keeps a hash of the address so that it is never "
        "re-subscribed by a later import.",
        request=None,
        responses={204: None},
        tags=["GDPR"],
    )
    @action(detail=True, methods=["post"])
    def erase(self, request, pk=None):
        consent_services.contact_erase(contact=self.get_object(), actor=str(request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_destroy(self, instance):
        contact_delete(contact=instance)

    @staticmethod
    def _input(request) -> dict:
        serializer = ContactInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return {key: request.data[key] for key in serializer.validated_data}


@contextmanager
def unknown_fields_are_404(account, data: dict):
    """A contact refused only because `fields` names custom fields the account does not have
    is a 404, as an export naming such a field: the request is well formed, the fields are not
    there (for this account). With any other reason it stays the 400 naming every field."""
    try:
        yield
    except ContactDataError as error:
        custom_keys = set(data.get("fields") or {})
        known = ContactField.objects.filter(account=account, key__in=custom_keys)
        unknown = sorted(custom_keys - set(known.values_list("key", flat=True)))
        if unknown and set(error.fields) == {f"fields.{key}" for key in unknown}:
            raise NotFound(f"No custom field {', '.join(unknown)} in this account.") from error
        raise
