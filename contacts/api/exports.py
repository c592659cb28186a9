"""API of the contact exports (CSV or XLSX), and the helpers the export page shares."""

from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError

from accounts.tenancy import get_for_account_or_404
from contacts import selectors
from contacts.exports import DEFAULT_COLUMNS, csv_stream, export_rows, xlsx_file
from contacts.models import ContactList, ListMembership, Segment
from contacts.segments import selectors as segment_selectors


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
            contacts = contacts.filter(
                pk__in=segment_selectors.segment_contacts(segment).values("pk")
            )
        return export_response(contacts, columns, file_format, "contacts")
