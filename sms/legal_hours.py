"""A marketing SMS campaign that meets the end of the legal window pauses, says until when,
and resumes by itself when the window opens again (sms.tasks runs the resumption)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from campaigns.engine.lifecycle import campaign_pause, campaign_resume
from sms.models import SmsCampaign


def pause_for_legal_hours(*, campaign_id: int, until: datetime) -> bool:
    """Pause a running campaign until `until` (the next allowed minute). A campaign the user
    paused or cancelled meanwhile is left as it is."""
    campaign = SmsCampaign.objects.select_related("account").filter(pk=campaign_id).first()
    if campaign is None:
        return False
    # Said in the account's language and time zone: the worker has no request to take them from.
    local = timezone.localtime(until, ZoneInfo(campaign.account.timezone))
    with translation.override(campaign.account.language):
        reason = _("Outside the legal sending hours: resumes on %(when)s.") % {
            "when": formats.date_format(local, "DATETIME_FORMAT")
        }
    with transaction.atomic():
        paused = campaign_pause(campaign=campaign, reason=reason)
        if paused:
            SmsCampaign.objects.filter(pk=campaign_id).update(resumes_at=until)
    return paused


def resume_due(now: datetime | None = None) -> int:
    """Resume the campaigns whose legal pause is over. Returns how many."""
    now = now or timezone.now()
    resumed = 0
    due = SmsCampaign.objects.filter(status=SmsCampaign.Status.PAUSED, resumes_at__lte=now)
    for campaign in due:
        with transaction.atomic():
            SmsCampaign.objects.filter(pk=campaign.pk).update(resumes_at=None)
            resumed += campaign_resume(campaign=campaign)
    return resumed
