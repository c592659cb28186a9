"""The SMS pages (French first): campaigns, the editor with its live counter, the report, the
local outbox. Thin: every write goes through sms.services, every count through sms.estimate."""

import json

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.errors import ServiceError
from accounts.forms import add_service_error
from accounts.tenancy import get_for_account_or_404
from accounts.views import account_required
from campaigns import merge_tags
from campaigns.engine.audience import audience
from contacts.models import Contact
from sms import selectors, services
from sms.account_settings import sending_window
from sms.channel import SMS
from sms.estimate import estimate, with_sample_short_links
from sms.forms import SmsCampaignForm, SmsScheduleForm, SmsSenderForm, SmsTestForm
from sms.models import OutboxSms, SmsCampaign, SmsMessage, SmsSender
from sms.quiet_hours import MAINLAND, next_allowed

OUTBOX_BACKEND = "sms.backends.outbox.SmsBackend"


@account_required
def campaign_list_page(request):
    sender_form = SmsSenderForm(request.POST or None)
    if request.method == "POST" and sender_form.is_valid():
        try:
            services.sender_create(account=request.account, **sender_form.cleaned_data)
        except ServiceError as error:
            add_service_error(sender_form, error)
        except Exception as error:  # the model's validation of the sender id
            sender_form.add_error("value", "; ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, _("Sender added."))
            return redirect("sms:list")
    context = {
        "campaigns": SmsCampaign.objects.filter(account=request.account)[:100],
        "senders": SmsSender.objects.filter(account=request.account),
        "sender_form": sender_form,
    }
    return render(request, "sms/campaign_list.html", context)


@account_required
def campaign_edit_page(request, pk=None):
    campaign = get_for_account_or_404(SmsCampaign, request.account, pk=pk) if pk else None
    if campaign and not campaign.is_editable and request.method == "GET":
        return _report(request, campaign)
    form = SmsCampaignForm(request.POST or None, instance=campaign, account=request.account)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if campaign:
                campaign = services.campaign_update(campaign=campaign, data=data)
            else:
                campaign = services.campaign_create(account=request.account, data=data)
        except ServiceError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Campaign saved."))
            return redirect("sms:edit", pk=campaign.pk)
    contacts = audience(SMS, campaign)[:50] if campaign else []
    context = {
        "campaign": campaign,
        "form": form,
        "contacts": contacts,
        "test_form": SmsTestForm(),
        "schedule_form": SmsScheduleForm(),
        "window_opens": _window_opens(request.account, timezone.now()),
        "mention": services.opt_out_mention(request.account),
    }
    return render(request, "sms/campaign_edit.html", context)


def _window_opens(account, at):
    """When a marketing SMS started at `at` would actually be delivered (mainland France)."""
    return next_allowed(at, MAINLAND, sending_window(account))


def _report(request, campaign):
    report = selectors.campaign_report(campaign)
    total = report["recipients"] or 1
    done = total - report["by_status"]["queued"] - report["by_status"]["sending"]
    activity = selectors.campaign_activity(campaign)
    # Labels formatted here, in the account's zone and the page's language: the chart has a
    # plain category axis (no date library to ship), as the email report's.
    label_format = "D j N" if activity.bucket == "day" else "j N H:i"
    labels = [formats.date_format(point.start, label_format) for point in activity.points]
    names = ("sent", "delivered", "failed", "stops", "clicks")
    chart = {"labels": labels}
    chart.update({name: [getattr(point, name) for point in activity.points] for name in names})
    context = {
        "campaign": campaign,
        "report": report,
        "activity": activity,
        "chart": chart,
        "chart_rows": list(zip(labels, activity.points, strict=True)),
        "progress": round(100 * done / total),
        "recent": SmsMessage.objects.filter(campaign=campaign).order_by("-pk")[:20],
    }
    return render(request, "sms/campaign_report.html", context)


@account_required
@require_POST
def campaign_estimate(request):
    """The editor's live counter: the same estimate as the API, for the text being typed."""
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        payload = {}
    text = str(payload.get("text") or "")[:2000]
    marketing = payload.get("kind", SmsCampaign.Kind.MARKETING) == SmsCampaign.Kind.MARKETING
    campaign = None
    if str(payload.get("campaign") or "").isdigit():
        campaign = SmsCampaign.objects.filter(
            account=request.account, pk=payload["campaign"]
        ).first()
    estimated = estimate(
        account=request.account,
        text=text,
        marketing=marketing,
        contacts=audience(SMS, campaign) if campaign else None,
        short_links=payload.get("short_links") is True,
    )
    preview = estimated.text
    if str(payload.get("contact") or "").isdigit():
        contact = Contact.objects.filter(account=request.account, pk=payload["contact"]).first()
        if contact:
            full = text if not marketing else services.with_mention(request.account, text)
            if payload.get("short_links") is True:
                full = with_sample_short_links(full, estimated.recipients)
            preview = merge_tags.render(
                full, merge_tags.contact_values(contact, request.account), escape=False
            )
    return JsonResponse(
        {
            "encoding": str(estimated.counted.encoding),
            "characters": estimated.counted.characters,
            "segments": estimated.counted.segments,
            "remaining": estimated.counted.remaining,
            "ucs2_characters": list(estimated.counted.ucs2_characters),
            "replacements": estimated.replacements,
            "segments_saved": estimated.segments_saved,
            "recipients": estimated.recipients,
            "total_segments": estimated.total_segments,
            "cost": f"{estimated.cost:.2f}",
            "currency": estimated.currency,
            "preview": preview,
        }
    )


@account_required
@require_POST
def campaign_action(request, pk, action):
    campaign = get_for_account_or_404(SmsCampaign, request.account, pk=pk)
    try:
        if action == "send-test":
            form = SmsTestForm(request.POST)
            if form.is_valid():
                services.campaign_send_test(campaign=campaign, mobile=form.cleaned_data["mobile"])
                messages.success(request, _("Test SMS sent."))
        elif action == "schedule":
            form = SmsScheduleForm(request.POST)
            at = form.cleaned_data.get("at") if form.is_valid() else None
            services.campaign_schedule(campaign=campaign, at=at)
            messages.success(request, _("Campaign scheduled.") if at else _("Campaign started."))
        elif action in {"pause", "resume", "cancel"}:
            change = getattr(services, f"campaign_{action}")
            if not change(campaign=campaign):
                messages.error(request, _("This campaign cannot do that now."))
    except ServiceError as error:
        detail = error.detail if isinstance(error.detail, dict) else {"": error.detail}
        for problem in detail.values():
            messages.error(request, str(problem))
    return redirect("sms:edit", pk=campaign.pk)


@account_required
def outbox_page(request):
    """The embedded default keeps SMS instead of sending them: each account reads its own."""
    enabled = settings.SMS_BACKEND == OUTBOX_BACKEND
    kept = OutboxSms.objects.filter(account=request.account)[:100] if enabled else []
    return render(request, "sms/outbox.html", {"enabled": enabled, "kept": kept})
