"""API of the CSV/XLSX imports: upload, confirm the mapping and start, error report."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.api_conventions import INT64, query_choice
from accounts.api_fields import StrictCharField, StrictChoiceField, StrictIntegerField
from accounts.api_parsers import BoundedJSONParser
from accounts.tenancy import AccountScopedViewMixin, get_for_account_or_404
from contacts.exports import CSV, EXCEL_FR
from contacts.imports import services as import_services
from contacts.models import ConsentStatus, ContactImport, ContactList, DuplicatePolicy


def rejects_response(contact_import: ContactImport, file_format: str) -> FileResponse | None:
    """The rejected rows as a download (the page and the API)."""
    found = import_services.import_rejects_file(contact_import, file_format)
    if found is None:
        return None
    handle, filename = found
    return FileResponse(
        handle, as_attachment=True, filename=filename, content_type="text/csv; charset=utf-8"
    )


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
        extra_kwargs = {
            "error_count": {
                "help_text": "Rejected rows (a row with several bad values counts once); "
                "created + updated + skipped + error_count = processed_rows."
            }
        }

    def get_error_report_url(self, contact_import) -> str | None:
        if not contact_import.error_report:
            return None
        return f"/api/v1/imports/{contact_import.pk}/errors/"


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A CSV (any of ; , tab; UTF-8 or Windows-1252) or XLSX")


class ImportStartSerializer(serializers.Serializer):
    mapping = serializers.ListField(
        child=StrictCharField(allow_null=True, allow_blank=True),
        help_text="One field key per column (null to ignore the column)",
    )
    duplicate_policy = StrictChoiceField(
        choices=DuplicatePolicy.choices, default=DuplicatePolicy.UPDATE
    )
    list_id = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=INT64)
    email_status = StrictChoiceField(choices=ConsentStatus.choices, default=ConsentStatus.NONE)
    sms_status = StrictChoiceField(choices=ConsentStatus.choices, default=ConsentStatus.NONE)
    consent_wording = StrictCharField(required=False, allow_blank=True, default="")


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
    parser_classes = [BoundedJSONParser, parsers.MultiPartParser, parsers.FormParser]

    @extend_schema(
        summary="Upload a CSV or XLSX file",
        description="Detects format, encoding, delimiter and header row and proposes a mapping.",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ContactImportSerializer},
        examples=[
            OpenApiExample(
                "A small CSV",
                value={"file": "email;first_name;city\nmarie.dupont@exemple.fr;Marie;Lyon\n"},
                media_type="multipart/form-data",
                request_only=True,
            )
        ],
        tags=["Imports"],
    )
    def create(self, request):
        serializer = ImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact_import = import_services.import_create(
            account=request.account, uploaded_file=serializer.validated_data["file"]
        )
        return Response(
            ContactImportSerializer(contact_import).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Confirm the mapping and options, and start the import",
        request=ImportStartSerializer,
        responses={202: ContactImportSerializer},
        tags=["Imports"],
    )
    @action(detail=True, methods=["post"], parser_classes=[BoundedJSONParser])
    def start(self, request, pk=None):
        contact_import = self.get_object()
        serializer = ImportStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        target_list = None
        if data.get("list_id"):
            target_list = get_for_account_or_404(ContactList, request.account, pk=data["list_id"])
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
        return Response(
            ContactImportSerializer(contact_import).data, status=status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        summary="Download the rejected rows",
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=[CSV, EXCEL_FR],
                default=CSV,
                description="`csv`: the technical CSV (UTF-8, `,`, header `row,column,error` "
                "then the file's own columns, one line per refused value: a row with two bad "
                "values has two lines). `excel_fr`: for French Excel (UTF-8 with BOM, `;`, one "
                "line per rejected row with all its errors, headers in the account's language).",
            )
        ],
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
        tags=["Imports"],
    )
    @action(detail=True, methods=["get"])
    def errors(self, request, pk=None):
        contact_import = self.get_object()
        file_format = query_choice(request, "format", [CSV, EXCEL_FR], default=CSV)
        response = rejects_response(contact_import, file_format)
        if response is None:
            raise NotFound("This import has no rejected rows.")
        return response
