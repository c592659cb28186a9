"""The campaign report as spreadsheet rows (the CSV download of the report page and API)."""

import zoneinfo
from collections.abc import Iterator

from django.utils.translation import gettext as _

from campaigns.models import EmailCampaign
from contacts.exports import escape_formula
from stats.formatting import percent_text
from stats.selectors.campaigns import (
    campaign_activity,
    campaign_clients,
    campaign_links,
    campaign_report,
)


def _percent(value: float) -> str:
    return percent_text(value, 2)


def report_csv_rows(campaign: EmailCampaign) -> Iterator[list[str]]:
    """The report as spreadsheet rows: figures, links, activity over time, devices and clients,
    separated by blank rows. Headers follow the active language; every cell that a spreadsheet
    would run as a formula is escaped."""
    report = campaign_report(campaign)
    tz = zoneinfo.ZoneInfo(campaign.account.timezone)

    def when(moment):
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""

    rows: list[list] = [
        [_("Campaign"), campaign.name],
        [_("Subject"), campaign.subject],
        [_("Status"), campaign.get_status_display()],
        [_("Started"), when(campaign.started_at)],
        [_("Finished"), when(campaign.finished_at)],
        [_("Time zone"), campaign.account.timezone],
        [],
        [_("Figure"), _("Value")],
        [_("Recipients"), report.recipients],
        [_("Still to send"), report.pending],
        [_("Sent"), report.sent],
        [_("Delivered"), report.delivered],
        [_("Hard bounces"), report.hard_bounces],
        [_("Refused during sending"), report.rejected],
        [_("Bounced after acceptance"), report.bounced_after_acceptance],
        [_("Soft bounces"), report.soft_bounces],
        [_("Failed"), report.failed],
        [_("Cancelled before sending"), report.cancelled],
        [_("Recorded (sandbox)"), report.sandboxed],
        [_("Unique opens"), report.opens_unique],
        [_("Total opens"), report.opens_total],
        [_("Machine opens"), report.machine_opens],
        [_("Unique clicks"), report.clicks_unique],
        [_("Total clicks"), report.clicks_total],
        [_("Machine clicks"), report.machine_clicks],
        [_("Unsubscribes"), report.unsubscribes],
        [_("Complaints"), report.complaints],
        [_("Open rate (%)"), _percent(report.rates.open)],
        [_("Click rate (%)"), _percent(report.rates.click)],
        [_("Click-to-open rate (%)"), _percent(report.rates.click_to_open)],
        [_("Bounce rate (%)"), _percent(report.rates.bounce)],
        [_("Unsubscribe rate (%)"), _percent(report.rates.unsubscribe)],
        [_("Complaint rate (%)"), _percent(report.rates.complaint)],
        [],
        [_("Link"), _("Total clicks"), _("Unique clicks"), _("Machine clicks")],
    ]
    rows += [
        [link.url, link.clicks_total, link.clicks_unique, link.machine_clicks]
        for link in campaign_links(campaign)
    ]
    activity = campaign_activity(campaign)
    rows += [[], [_("Day") if activity.bucket == "day" else _("Hour"), _("Opens"), _("Clicks")]]
    rows += [
        [point.start.strftime("%Y-%m-%d" if activity.bucket == "day" else "%Y-%m-%d %H:%M"),
         point.opens, point.clicks]
        for point in activity.points
    ]  # fmt: skip
    clients = campaign_clients(campaign)
    rows += [[], [_("Device"), _("Opens"), _("Share (%)")]]
    rows += [[share.label, share.opens, _percent(share.share)] for share in clients.devices]
    rows += [[], [_("Mail client"), _("Opens"), _("Share (%)")]]
    rows += [[share.label, share.opens, _percent(share.share)] for share in clients.clients]
    for row in rows:
        yield [escape_formula(cell) for cell in row]
