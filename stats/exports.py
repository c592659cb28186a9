"""The campaign report as a CSV download (the same file from the page and the API)."""

from django.http import StreamingHttpResponse

from campaigns.models import EmailCampaign
from contacts.exports import csv_stream
from stats.selectors import report_csv_rows


def report_csv_response(campaign: EmailCampaign) -> StreamingHttpResponse:
    # The rows are built now, in the request's language; only the writing streams.
    rows = list(report_csv_rows(campaign))
    response = StreamingHttpResponse(csv_stream(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-report.csv"'
    return response
