"""API of the contact exports (CSV or XLSX), and the helpers the export page shares."""

import re

from django.http import FileResponse, StreamingHttpResponse
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import NotFound, ValidationError

from accounts.api_conventions import query_choice, query_id, query_text
from accounts.tenancy import get_for_account_or_404
from contacts import selectors
from contacts.exports import (
    CSV,
    DEFAULT_COLUMNS,
    EXCEL_FR,
    EXPORT_FORMATS,
    XLSX,
    csv_stream,
    excel_fr_stream,
    export_rows,
    export_rows_excel_fr,
    xlsx_file,
)
from contacts.models import ContactList, ListMembership, Segment
from contacts.segments import selectors as segment_selectors


def export_response(account, contacts, columns: list[str], file_format: str, filename: str):
    if file_format == EXCEL_FR:
        response = StreamingHttpResponse(
            excel_fr_stream(export_rows_excel_fr(account, contacts, columns)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response
    rows = export_rows(contacts, columns)
    if file_format == XLSX:
        return FileResponse(
            xlsx_file(rows),
            as_attachment=True,
            filename=f"{filename}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = StreamingHttpResponse(csv_stream(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


_COLUMN = rf" *(?:{'|'.join(DEFAULT_COLUMNS)}|fields\.[a-z][a-z0-9_]{{0,62}}) *"
# What `?fields=` takes, said in the schema: built-in columns and `fields.<key>`, comma-separated.
COLUMNS_PATTERN = rf"^(?:{_COLUMN}(?:,{_COLUMN})*)?$"


def export_columns(account, requested: str) -> list[str]:
    """The columns named in `requested` (all of them if empty). A name outside the documented
    pattern is a 400; `fields.<key>` of a custom field the account does not have is a 404, like
    the id of a list it does not have."""
    custom = list(selectors.contact_fields_of(account).values_list("key", flat=True))
    available = [*DEFAULT_COLUMNS, *(f"fields.{key}" for key in custom)]
    if not requested:
        return available
    if not re.fullmatch(COLUMNS_PATTERN, requested):
        raise ValidationError(
            {
                "fields": [
                    "Give comma-separated columns: "
                    f"{', '.join(DEFAULT_COLUMNS)} or fields.<key> of a custom field."
                ]
            }
        )
    columns = [name.strip() for name in requested.split(",")]
    unknown = [name for name in columns if name not in available]
    if unknown:
        raise NotFound(f"No custom field {', '.join(unknown)} in this account.")
    return columns


@extend_schema(
    summary="Export contacts (technical CSV, Excel (France) CSV or XLSX), all or one list",
    parameters=[
        OpenApiParameter(
            "format",
            str,
            enum=list(EXPORT_FORMATS),
            default=CSV,
            description="`csv`: the technical CSV, for machines (UTF-8 with BOM, `;`, field keys "
            "as headers, ISO 8601 dates, status codes). `excel_fr`: what French Excel opens as "
            "it is (UTF-8 with BOM, `;`, CRLF, the fields' labels as headers, dates dd/mm/yyyy, "
            "decimal commas, consent and salutation in words, in the account's language). "
            "`xlsx`: an Excel workbook with the technical values.",
        ),
        OpenApiParameter("list", int, description="Only the members of this list"),
        OpenApiParameter("segment", int, description="Only the contacts of this segment"),
        OpenApiParameter(
            "fields",
            str,
            pattern=COLUMNS_PATTERN,
            description="Comma-separated columns, e.g. `email,first_name,fields.points` (all "
            "if absent): built-in columns, or `fields.<key>` of a custom field of the account "
            "(404 if it has none with this key).",
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
        file_format = query_choice(request, "format", list(EXPORT_FORMATS), default=CSV)
        columns = export_columns(request.account, query_text(request, "fields"))
        contacts = selectors.contacts_of(request.account)
        list_id = query_id(request, "list")
        if list_id is not None:
            contact_list = get_for_account_or_404(ContactList, request.account, pk=list_id)
            contacts = contacts.filter(
                memberships__contact_list=contact_list,
                memberships__status=ListMembership.Status.SUBSCRIBED,
            )
        segment_id = query_id(request, "segment")
        if segment_id is not None:
            segment = get_for_account_or_404(Segment, request.account, pk=segment_id)
            contacts = contacts.filter(
                pk__in=segment_selectors.segment_contacts(segment).values("pk")
            )
        # A key has no visitor's language: an Excel (France) file speaks the account's.
        with translation.override(request.account.language):
            return export_response(request.account, contacts, columns, file_format, "contacts")
