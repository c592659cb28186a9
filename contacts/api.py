"""REST API of the contact base: fields, contacts, consent, lists, imports and exports."""

from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from accounts.api_conventions import Conflict
from accounts.tenancy import (
    AccountObjectsViewSet,
    AccountScopedViewMixin,
    get_for_account_or_404,
)
from contacts import selectors
from contacts.exports import DEFAULT_COLUMNS, csv_stream, export_rows, xlsx_file
from contacts.models import (
    BUILTIN_FIELDS,
    Channel,
    ConsentRecord,
    ConsentStatus,
    Contact,
    ContactField,
    ContactImport,
    ContactList,
    DuplicatePolicy,
    FieldType,
    ListMembership,
    Salutation,
    Segment,
)
from contacts.segments import selectors as segment_selectors
from contacts.segments.language import SegmentRuleError
from contacts.services import consent as consent_services
from contacts.services import fields as field_services
from contacts.services import imports as import_services
from contacts.services import lists as list_services
from contacts.services import segments as segment_services
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


# --- Fields -------------------------------------------------------------------------------------


class ContactFieldSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactField
        fields = ["id", "key", "label", "type", "origin", "choices", "created_at"]
        read_only_fields = ["id", "origin", "created_at"]


class ContactFieldUpdateSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=100, required=False)
    type = serializers.ChoiceField(choices=FieldType.choices, required=False)
    choices = serializers.ListField(child=serializers.CharField(max_length=200), required=False)


@extend_schema_view(
    list=extend_schema(summary="List custom fields", tags=["Fields"]),
    retrieve=extend_schema(summary="Get a custom field", tags=["Fields"]),
    destroy=extend_schema(
        summary="Delete a custom field", description="Its values are deleted.", tags=["Fields"]
    ),
)
class ContactFieldViewSet(AccountObjectsViewSet):
    queryset = ContactField.objects.all()
    serializer_class = ContactFieldSerializer
    pagination_class = None

    @extend_schema(
        summary="Create a custom field",
        tags=["Fields"],
        examples=[
            OpenApiExample(
                "Choice field",
                value={
                    "key": "favourite_shop",
                    "label": "Magasin préféré",
                    "type": "choice",
                    "choices": ["Paris", "Lyon"],
                },
            )
        ],
    )
    def create(self, request):
        serializer = ContactFieldSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            field = field_services.field_create(
                account=request.account, **serializer.validated_data
            )
        except field_services.FieldError as error:
            raise ValidationError(error.errors) from error
        return Response(ContactFieldSerializer(field).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rename a field or change its type",
        description="A type change is refused (400) if stored values do not fit the new type; "
        "the response lists them.",
        request=ContactFieldUpdateSerializer,
        responses=ContactFieldSerializer,
        tags=["Fields"],
    )
    def partial_update(self, request, pk=None):
        field = self.get_object()
        serializer = ContactFieldUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            field = field_services.field_update(field=field, **serializer.validated_data)
        except field_services.FieldError as error:
            raise ValidationError(error.errors) from error
        except field_services.FieldTypeChangeRefused as error:
            messages = [
                f"contact {contact_id}: {value!r}: {reason}"
                for contact_id, value, reason in error.misfits
            ]
            raise ValidationError(
                {"type": [f"{error.total} stored values do not fit the new type.", *messages]}
            ) from error
        return Response(ContactFieldSerializer(field).data)

    def perform_destroy(self, instance):
        field_services.field_delete(field=instance)


# --- Contacts -----------------------------------------------------------------------------------


class ContactSerializer(serializers.ModelSerializer):
    mobile = serializers.CharField(read_only=True, help_text="E.164, or empty")
    salutation = serializers.ChoiceField(
        choices=Salutation.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Contact
        fields = ["id", *BUILTIN_FIELDS, "fields", "email_status", "sms_status"]
        fields += ["created_at", "updated_at"]
        read_only_fields = fields


class ContactInputSerializer(serializers.Serializer):
    """Built-in fields plus `fields` (custom field key → value). Values are normalised
    (emails lower-cased, mobiles to E.164, French or ISO dates, decimal commas); a bad value is
    a 400 naming the field. An empty value or null clears the field."""

    email = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    mobile = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    salutation = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    first_name = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    last_name = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    birth_date = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    zip_code = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    city = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    country = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    company = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    fields = serializers.DictField(required=False)
    email_status = serializers.ChoiceField(choices=ConsentStatus.choices, required=False)
    sms_status = serializers.ChoiceField(choices=ConsentStatus.choices, required=False)


CONTACT_EXAMPLE = OpenApiExample(
    "French contact",
    value={
        "email": "Marie.Dupont@Exemple.fr",
        "mobile": "06 12 34 56 78",
        "salutation": "Mme",
        "first_name": "Marie",
        "last_name": "Dupont",
        "birth_date": "14/07/1985",
        "fields": {"loyalty_points": "1 250"},
        "email_status": "subscribed",
    },
    request_only=True,
)


@extend_schema_field(ContactInputSerializer(many=True))
class ContactRowsField(serializers.ListField):
    """Rows are checked by the contact services, which report each bad row with its reasons;
    validating 1,000 nested serializers first would double the cost of a bulk call."""

    child = serializers.DictField()


class BulkUpsertSerializer(serializers.Serializer):
    contacts = ContactRowsField(max_length=MAX_BULK_ROWS, allow_empty=False)
    policy = serializers.ChoiceField(
        choices=DuplicatePolicy.choices, default=DuplicatePolicy.UPDATE
    )
    list_id = serializers.IntegerField(required=False, allow_null=True)


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


class ConsentChangeSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    status = serializers.ChoiceField(choices=ConsentStatus.choices)
    wording = serializers.CharField(required=False, allow_blank=True, default="")
    form = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    version = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    ip_address = serializers.IPAddressField(
        required=False, allow_null=True, help_text="The person's IP, when known (e.g. a form)."
    )


class ConsentRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConsentRecord
        fields = ["id", "channel", "status", "source", "ip_address", "user_agent", "wording"]
        fields += ["form", "version", "actor", "created_at"]
        read_only_fields = fields


def _contact_errors(error: ContactDataError) -> ValidationError:
    return ValidationError({field: [reason] for field, reason in error.errors.items()})


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
        params = self.request.query_params
        for name in ("email_status", "sms_status"):
            if params.get(name) and params[name] not in ConsentStatus.values:
                raise ValidationError({name: [f"Use one of: {', '.join(ConsentStatus.values)}."]})
        list_id = params.get("list")
        return selectors.contacts_search(
            self.request.account,
            query=params.get("q", ""),
            email_status=params.get("email_status", ""),
            sms_status=params.get("sms_status", ""),
            list_id=int(list_id) if list_id and list_id.isdigit() else None,
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
        try:
            contact, created = contact_upsert(
                account=request.account,
                data=data,
                proof=api_proof(request),
                policy=DuplicatePolicy.SKIP,
            )
        except ContactDataError as error:
            raise _contact_errors(error) from error
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
        try:
            contact, created = contact_upsert(
                account=request.account, data=self._input(request), proof=api_proof(request)
            )
        except ContactDataError as error:
            raise _contact_errors(error) from error
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
        try:
            contact = contact_update(
                contact=contact, data=self._input(request), proof=api_proof(request)
            )
        except ContactDataError as error:
            raise _contact_errors(error) from error
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
        try:
            contact = consent_services.consent_change(
                contact=contact, channel=data["channel"], status=data["status"], proof=proof
            )
        except ValueError as error:
            raise ValidationError({"channel": [str(error)]}) from error
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


# --- Lists --------------------------------------------------------------------------------------


class ContactListSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ContactList
        fields = ["id", "name", "description", "member_count", "created_at"]
        read_only_fields = ["id", "member_count", "created_at"]


class MembershipSerializer(serializers.ModelSerializer):
    contact = ContactSerializer(read_only=True)

    class Meta:
        model = ListMembership
        fields = ["contact", "status", "created_at", "updated_at"]
        read_only_fields = fields


class MemberIdsSerializer(serializers.Serializer):
    contact_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=10_000, allow_empty=False
    )


@extend_schema_view(
    list=extend_schema(summary="List lists with member counts", tags=["Lists"]),
    retrieve=extend_schema(summary="Get a list", tags=["Lists"]),
    destroy=extend_schema(summary="Delete a list (not its contacts)", tags=["Lists"]),
)
class ContactListViewSet(AccountObjectsViewSet):
    queryset = ContactList.objects.all()
    serializer_class = ContactListSerializer

    def get_queryset(self):
        return selectors.lists_with_counts(self.request.account)

    @extend_schema(summary="Create a list", tags=["Lists"])
    def create(self, request):
        serializer = ContactListSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            contact_list = list_services.list_create(
                account=request.account, **serializer.validated_data
            )
        except list_services.ListError as error:
            raise ValidationError(error.errors) from error
        contact_list.member_count = 0
        return Response(ContactListSerializer(contact_list).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Rename or describe a list", tags=["Lists"])
    def partial_update(self, request, pk=None):
        contact_list = self.get_object()
        serializer = ContactListSerializer(contact_list, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            list_services.list_update(contact_list=contact_list, **serializer.validated_data)
        except list_services.ListError as error:
            raise ValidationError(error.errors) from error
        return Response(ContactListSerializer(self.get_object()).data)

    @extend_schema(
        methods=["get"],
        summary="Members of a list",
        responses=MembershipSerializer(many=True),
        tags=["Lists"],
    )
    @extend_schema(
        methods=["post"],
        summary="Add contacts to a list",
        request=MemberIdsSerializer,
        responses=inline_serializer("MembersAdded", {"added": serializers.IntegerField()}),
        tags=["Lists"],
    )
    @action(detail=True, methods=["get", "post"])
    def members(self, request, pk=None):
        contact_list = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.list_members(contact_list))
            return self.get_paginated_response(MembershipSerializer(page, many=True).data)
        serializer = MemberIdsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        added = list_services.list_add_contacts(
            contact_list=contact_list, contact_ids=serializer.validated_data["contact_ids"]
        )
        return Response({"added": added})

    @extend_schema(
        summary="Remove contacts from a list",
        request=MemberIdsSerializer,
        responses=inline_serializer("MembersRemoved", {"removed": serializers.IntegerField()}),
        tags=["Lists"],
    )
    @action(detail=True, methods=["post"], url_path="members/remove")
    def remove_members(self, request, pk=None):
        contact_list = self.get_object()
        serializer = MemberIdsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        removed = list_services.list_remove_contacts(
            contact_list=contact_list, contact_ids=serializer.validated_data["contact_ids"]
        )
        return Response({"removed": removed})


# --- Imports ------------------------------------------------------------------------------------


class ContactImportSerializer(serializers.ModelSerializer):
    progress_percent = serializers.IntegerField(read_only=True)
    target_list = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    error_report_url = serializers.SerializerMethodField()

    class Meta:
        model = ContactImport
        fields = [
            "id", "original_name", "format", "encoding", "delimiter", "has_header", "header",
            "sample_rows", "mapping", "duplicate_policy", "target_list", "email_status",
            "sms_status", "consent_wording", "status", "total_rows", "processed_rows",
            "progress_percent", "created_count", "updated_count", "skipped_count",
            "error_count", "error_report_url", "failure_reason", "created_at", "started_at",
            "finished_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_error_report_url(self, contact_import) -> str | None:
        if not contact_import.error_report:
            return None
        return f"/api/v1/imports/{contact_import.pk}/errors/"


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A CSV (any of ; , tab; UTF-8 or Windows-1252) or XLSX")


class ImportStartSerializer(serializers.Serializer):
    mapping = serializers.ListField(
        child=serializers.CharField(allow_null=True, allow_blank=True),
        help_text="One field key per column (null to ignore the column)",
    )
    duplicate_policy = serializers.ChoiceField(
        choices=DuplicatePolicy.choices, default=DuplicatePolicy.UPDATE
    )
    list_id = serializers.IntegerField(required=False, allow_null=True)
    email_status = serializers.ChoiceField(
        choices=ConsentStatus.choices, default=ConsentStatus.NONE
    )
    sms_status = serializers.ChoiceField(choices=ConsentStatus.choices, default=ConsentStatus.NONE)
    consent_wording = serializers.CharField(required=False, allow_blank=True, default="")


@extend_schema_view(
    list=extend_schema(summary="List imports", tags=["Imports"]),
    retrieve=extend_schema(summary="Get an import and its progress", tags=["Imports"]),
)
class ContactImportViewSet(
    AccountScopedViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = ContactImport.objects.all()
    serializer_class = ContactImportSerializer
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]

    @extend_schema(
        summary="Upload a CSV or XLSX file",
        description="Detects format, encoding, delimiter and header row and proposes a mapping.",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ContactImportSerializer},
        tags=["Imports"],
    )
    def create(self, request):
        serializer = ImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            contact_import = import_services.import_create(
                account=request.account, uploaded_file=serializer.validated_data["file"]
            )
        except import_services.ImportError_ as error:
            raise ValidationError(error.errors) from error
        return Response(
            ContactImportSerializer(contact_import).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Confirm the mapping and options, and start the import",
        request=ImportStartSerializer,
        responses={202: ContactImportSerializer},
        tags=["Imports"],
    )
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        contact_import = self.get_object()
        serializer = ImportStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        target_list = None
        if data.get("list_id"):
            target_list = get_for_account_or_404(ContactList, request.account, pk=data["list_id"])
        try:
            import_services.import_configure(
                contact_import=contact_import,
                mapping=[key or None for key in data["mapping"]],
                duplicate_policy=data["duplicate_policy"],
                target_list=target_list,
                email_status=data["email_status"],
                sms_status=data["sms_status"],
                consent_wording=data["consent_wording"],
            )
            contact_import = import_services.import_start(contact_import=contact_import)
        except import_services.ImportError_ as error:
            raise ValidationError(error.errors) from error
        return Response(
            ContactImportSerializer(contact_import).data, status=status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        summary="Download the rejected rows (CSV: row, column, reason, original cells)",
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
        tags=["Imports"],
    )
    @action(detail=True, methods=["get"])
    def errors(self, request, pk=None):
        contact_import = self.get_object()
        handle = import_services.import_error_report(contact_import)
        if handle is None:
            raise NotFound("This import has no rejected rows.")
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"import-{contact_import.pk}-errors.csv",
            content_type="text/csv",
        )


# --- Exports ------------------------------------------------------------------------------------


def export_response(contacts, columns: list[str], file_format: str, filename: str):
    rows = export_rows(contacts, columns)
    if file_format == "xlsx":
        return FileResponse(
            xlsx_file(rows),
            as_attachment=True,
            filename=f"{filename}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = StreamingHttpResponse(csv_stream(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def export_columns(account, requested: str) -> list[str]:
    custom = list(selectors.contact_fields_of(account).values_list("key", flat=True))
    available = [*DEFAULT_COLUMNS, *(f"fields.{key}" for key in custom)]
    if not requested:
        return available
    columns = [name.strip() for name in requested.split(",") if name.strip()]
    unknown = [name for name in columns if name not in available]
    if unknown:
        raise ValidationError({"fields": [f"Unknown fields: {', '.join(unknown)}"]})
    return columns


@extend_schema(
    summary="Export contacts (CSV or XLSX), all or one list",
    parameters=[
        OpenApiParameter("format", str, enum=["csv", "xlsx"], default="csv"),
        OpenApiParameter("list", int, description="Only the members of this list"),
        OpenApiParameter("segment", int, description="Only the contacts of this segment"),
        OpenApiParameter(
            "fields",
            str,
            description="Comma-separated columns, e.g. email,first_name,fields.points",
        ),
    ],
    responses={
        (200, "text/csv"): OpenApiTypes.BINARY,
        (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): (
            OpenApiTypes.BINARY
        ),
    },
    tags=["Exports"],
)
class ContactExportViewSet(viewsets.ViewSet):
    def list(self, request):
        file_format = request.query_params.get("format", "csv")
        if file_format not in {"csv", "xlsx"}:
            raise ValidationError({"format": ["Use csv or xlsx."]})
        columns = export_columns(request.account, request.query_params.get("fields", ""))
        contacts = selectors.contacts_of(request.account)
        list_param = request.query_params.get("list")
        if list_param:
            if not list_param.isdigit():
                raise ValidationError({"list": ["Give a list id."]})
            contact_list = get_for_account_or_404(ContactList, request.account, pk=int(list_param))
            contacts = contacts.filter(
                memberships__contact_list=contact_list,
                memberships__status=ListMembership.Status.SUBSCRIBED,
            )
        segment_param = request.query_params.get("segment")
        if segment_param:
            if not segment_param.isdigit():
                raise ValidationError({"segment": ["Give a segment id."]})
            segment = get_for_account_or_404(Segment, request.account, pk=int(segment_param))
            try:
                contacts = contacts.filter(
                    pk__in=segment_selectors.segment_contacts(segment).values("pk")
                )
            except SegmentRuleError as error:
                raise _rule_errors(error) from error
        return export_response(contacts, columns, file_format, "contacts")


# --- Segments -----------------------------------------------------------------------------------

RULES_SCHEMA = {
    "type": "object",
    "description": (
        'A group: `{"all": [...]}` (every child holds) or `{"any": [...]}` (at least one). '
        'Children are groups (nested up to 5 deep) or conditions `{"field", "op", "value"}`. '
        "Fields: built-in columns (email, mobile, salutation, first_name, last_name, birth_date, "
        "zip_code, city, country, company, created_at), `fields.<key>` for custom fields, "
        "`email_status`, `sms_status` (op in / not_in, value: list of statuses), `list` (op "
        "in_list / not_in_list, value: list id), `suppressed` (op is_true / is_false), "
        "`email_activity` (op received, not_received, opened, not_opened, clicked, not_clicked, "
        'received_not_opened; value `{"campaign": id or null, "days": 1-3660 or null}`: null '
        "is any campaign, any time; opens and clicks by machines never count). "
        "Operators by type — text, email, url, phone: eq, neq, contains, not_contains, "
        "starts_with, ends_with, in, is_empty, is_not_empty (case-insensitive); number, decimal: "
        "eq, neq, gt, gte, lt, lte, between ([low, high]), is_empty, is_not_empty; date, "
        "datetime: on, before, after, between, within_last_days, more_than_days_ago, "
        "within_next_days, anniversary_within_days (value: days, in the account's time zone), "
        "is_empty, is_not_empty; boolean: is_true, is_false, is_empty, is_not_empty; choice, "
        "multichoice: any_of, all_of, none_of (value: list of choices), is_empty, is_not_empty."
    ),
    "properties": {
        "all": {"type": "array", "items": {"type": "object"}},
        "any": {"type": "array", "items": {"type": "object"}},
    },
    "example": {
        "all": [
            {"field": "fields.last_order", "op": "more_than_days_ago", "value": 90},
            {"field": "fields.points", "op": "gt", "value": 100},
            {"any": [{"field": "city", "op": "in", "value": ["Paris", "Lyon"]}]},
        ]
    },
}


@extend_schema_field(RULES_SCHEMA)
class RulesField(serializers.JSONField):
    pass


class SegmentSerializer(serializers.ModelSerializer):
    rules = RulesField()

    class Meta:
        model = Segment
        fields = ["id", "name", "description", "rules", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class RulesSerializer(serializers.Serializer):
    rules = RulesField()


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


def _rule_errors(error: SegmentRuleError) -> ValidationError:
    return ValidationError(
        {
            (path if path == "name" else f"rules.{path}" if path != "rules" else "rules"): [msg]
            for path, msg in error.errors.items()
        }
    )


@extend_schema_view(
    list=extend_schema(summary="List segments", tags=["Segments"]),
    retrieve=extend_schema(summary="Get a segment", tags=["Segments"]),
    destroy=extend_schema(summary="Delete a segment (not its contacts)", tags=["Segments"]),
)
class SegmentViewSet(AccountObjectsViewSet):
    queryset = Segment.objects.all()
    serializer_class = SegmentSerializer

    @extend_schema(summary="Create a segment", tags=["Segments"])
    def create(self, request):
        serializer = SegmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            segment = segment_services.segment_create(
                account=request.account, **serializer.validated_data
            )
        except SegmentRuleError as error:
            raise _rule_errors(error) from error
        return Response(SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a segment", tags=["Segments"])
    def partial_update(self, request, pk=None):
        segment = self.get_object()
        serializer = SegmentSerializer(segment, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            segment = segment_services.segment_update(segment=segment, **serializer.validated_data)
        except SegmentRuleError as error:
            raise _rule_errors(error) from error
        return Response(SegmentSerializer(segment).data)

    @extend_schema(
        summary="Count the segment's contacts now",
        responses=CountSerializer,
        tags=["Segments"],
    )
    @action(detail=True, methods=["get"])
    def count(self, request, pk=None):
        try:
            return Response({"count": segment_selectors.segment_count(self.get_object())})
        except SegmentRuleError as error:
            raise _rule_errors(error) from error

    @extend_schema(
        summary="The segment's contacts now",
        responses=ContactSerializer(many=True),
        tags=["Segments"],
    )
    @action(detail=True, methods=["get"])
    def contacts(self, request, pk=None):
        try:
            contacts = segment_selectors.segment_contacts(self.get_object())
        except SegmentRuleError as error:
            raise _rule_errors(error) from error
        page = self.paginate_queryset(contacts)
        return self.get_paginated_response(ContactSerializer(page, many=True).data)

    @extend_schema(
        summary="Count the contacts of unsaved rules (live preview)",
        request=RulesSerializer,
        responses=CountSerializer,
        tags=["Segments"],
    )
    @action(detail=False, methods=["post"])
    def preview(self, request):
        serializer = RulesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            count = segment_selectors.rules_count(
                request.account, serializer.validated_data["rules"]
            )
        except SegmentRuleError as error:
            raise _rule_errors(error) from error
        return Response({"count": count})
