"""Reads of email statistics: campaign reports, a contact's activity, the account dashboard.

Every read starts from an object already scoped to the caller's account (a campaign or contact
fetched with accounts.tenancy) or from the account itself. Reports read the counters kept as
events arrive (CampaignStats, CampaignLink, CampaignActivity, CampaignClient), never the event
log; message counts by status come from one GROUP BY on the (campaign, status) index, cached.
The definitions of every figure are in `campaign_report`'s docstring.
"""

from stats.selectors.campaigns import (
    ActivityPoint,
    ActivitySeries,
    CampaignReport,
    ClientBreakdown,
    Rates,
    Share,
    campaign_activity,
    campaign_clients,
    campaign_links,
    campaign_report,
    campaign_reports,
    rate,
)
from stats.selectors.contacts import AddressStatus, ContactActivity, TimelineItem, contact_activity
from stats.selectors.dashboard import Dashboard, account_dashboard
from stats.selectors.report_csv import report_csv_rows
from stats.selectors.unopened import messages_not_opened

__all__ = [
    "messages_not_opened",
    "ActivityPoint",
    "ActivitySeries",
    "AddressStatus",
    "CampaignReport",
    "ClientBreakdown",
    "ContactActivity",
    "Dashboard",
    "Rates",
    "Share",
    "TimelineItem",
    "account_dashboard",
    "campaign_activity",
    "campaign_clients",
    "campaign_links",
    "campaign_report",
    "campaign_reports",
    "contact_activity",
    "rate",
    "report_csv_rows",
]
