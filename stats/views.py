"""Statistics pages: a campaign's report, the account dashboard, a contact's activity."""

from django.shortcuts import render
from django.utils import formats
from django.utils.cache import patch_vary_headers

from accounts.tenancy import get_for_account_or_404
from accounts.views import account_required
from campaigns.models import EmailCampaign
from contacts.models import Contact
from stats import selectors
from stats.exports import report_csv_response

TIMELINE_LIMIT = 100


def _chart_data(activity: selectors.ActivitySeries) -> dict:
    # Labels are formatted here, in the account's time zone and the page's language: the chart
    # has a plain category axis (no date library to ship).
    label_format = "D j N" if activity.bucket == "day" else "j N H:i"
    return {
        "labels": [formats.date_format(point.start, label_format) for point in activity.points],
        "opens": [point.opens for point in activity.points],
        "clicks": [point.clicks for point in activity.points],
    }


@account_required
def campaign_report_page(request, pk):
    campaign = get_for_account_or_404(
        EmailCampaign.objects.select_related("account"), request.account, pk=pk
    )
    activity = selectors.campaign_activity(campaign)
    chart = _chart_data(activity)
    return render(
        request,
        "stats/campaign_report.html",
        {
            "campaign": campaign,
            "report": selectors.campaign_report(campaign),
            "activity": activity,
            "chart": chart,
            "chart_rows": list(zip(chart["labels"], chart["opens"], chart["clicks"], strict=True)),
            "clients": selectors.campaign_clients(campaign),
            "links": selectors.campaign_links(campaign),
        },
    )


@account_required
def campaign_report_export_page(request, pk):
    campaign = get_for_account_or_404(
        EmailCampaign.objects.select_related("account"), request.account, pk=pk
    )
    return report_csv_response(campaign)


@account_required
def dashboard_page(request):
    dashboard = selectors.account_dashboard(request.account)
    return render(request, "stats/dashboard.html", {"dashboard": dashboard})


@account_required
def dashboard_summary_page(request):
    """The last 30 days in a few figures, loaded into the home page."""
    dashboard = selectors.account_dashboard(request.account, recent=0)
    return render(request, "stats/_dashboard_summary.html", {"dashboard": dashboard})


@account_required
def contact_activity_page(request, pk):
    """A contact's timeline: a fragment for the contact page (htmx), or a page of its own."""
    contact = get_for_account_or_404(Contact, request.account, pk=pk)
    context = {
        "contact": contact,
        "activity": selectors.contact_activity(contact, limit=TIMELINE_LIMIT),
    }
    fragment = bool(request.headers.get("HX-Request"))
    template = "stats/_contact_timeline.html" if fragment else "stats/contact_activity.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
