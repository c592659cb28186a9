"""Public pages reached from the emails (view in browser, sender check) and the marketer's pages.

The unsubscribe page is served by stats (stats/unsubscribe_views.py), which records the opt-out;
it keeps its URL and name (`campaigns:unsubscribe`, see sendethic/urls.py)."""

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.errors import ServiceError
from accounts.forms import add_service_error
from accounts.tenancy import get_for_account_or_404
from accounts.views import account_required
from campaigns import merge_tags, pipeline, rendering, services
from campaigns.dkim import dkim_key_create
from campaigns.forms import CampaignForm, DkimForm, ScheduleForm, SenderForm, SendTestForm
from campaigns.gallery import (
    OBJECTIVES,
    UNIVERSES,
    gallery,
    gallery_template,
    render_mjml,
    template_source,
)
from campaigns.models import (
    DkimKey,
    EmailCampaign,
    EmailTemplate,
    Message,
    OutboxMessage,
    SenderAddress,
)
from campaigns.outbox import outbox_headers
from campaigns.selectors import campaign_checklist
from contacts.models import Contact, ContactList, Segment


def _message(token: str) -> Message:
    message = rendering.message_from_token(token)
    if message is None:
        raise Http404
    return message


def mirror(request, token):
    """The message as its recipient received it, for "view in browser"."""
    message = _message(token)
    if message.contact is None:
        raise Http404
    prepared = rendering.prepare(message.campaign)
    values = merge_tags.contact_values(message.contact, message.campaign.account)
    email = rendering.build_email(prepared, message, values, preheader=message.campaign.preheader)
    response = HttpResponse(email.alternatives[0][0])
    response["X-Robots-Tag"] = "noindex"
    return response


def sender_verify(request, token):
    sender = services.sender_verify(token=token)
    return render(
        request, "campaigns/sender_verified.html", {"sender": sender}, status=200 if sender else 400
    )


@account_required
def campaign_list_page(request):
    campaigns = EmailCampaign.objects.filter(account=request.account).annotate(
        recipients=Count("messages"),
        delivered=Count("messages", filter=Q(messages__status__in=["sent", "sandboxed"])),
    )
    return render(request, "campaigns/campaign_list.html", {"campaigns": campaigns})


@account_required
def gallery_page(request):
    if request.method == "POST":
        own = request.POST.get("account_template", "")
        slug = request.POST.get("template", "")
        if own:
            saved = get_for_account_or_404(EmailTemplate, request.account, pk=own)
            name, html = saved.name, saved.html
        else:
            try:
                html = render_mjml(template_source(slug)) if slug else ""
                name = gallery_template(slug).name if slug else _("New campaign")
            except KeyError as error:
                raise Http404 from error
        campaign = services.campaign_create(
            account=request.account,
            data={
                "name": name,
                "subject": "",
                "html": html,
                "sender": SenderAddress.objects.filter(
                    account=request.account, verified_at__isnull=False
                ).first(),
            },
        )
        return redirect("campaigns:edit", pk=campaign.pk)
    context = {
        "templates": gallery(),
        "universes": UNIVERSES,
        "objectives": OBJECTIVES,
        "account_templates": EmailTemplate.objects.filter(account=request.account),
    }
    return render(request, "campaigns/gallery.html", context)


@account_required
@require_POST
def template_delete_page(request, pk):
    template = get_for_account_or_404(EmailTemplate, request.account, pk=pk)
    template.delete()
    messages.success(request, _("Template deleted."))
    return redirect("campaigns:gallery")


def _editor_context(request, campaign, form):
    # The checklist counts the audience: computed only while the campaign can still be sent.
    checklist = campaign_checklist(campaign) if campaign.is_editable else None
    scheduled_at = (
        campaign.scheduled_at if campaign.status == EmailCampaign.Status.SCHEDULED else None
    )
    stats = dict(
        campaign.messages.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    total = sum(stats.values())
    done = sum(stats.get(s, 0) for s in ("sent", "sandboxed", "bounced", "failed", "cancelled"))
    return {
        "campaign": campaign,
        "form": form,
        "schedule_form": ScheduleForm(initial={"at": scheduled_at}),
        "checklist": checklist,
        # Now in the account's time zone (activated per request), the picker's own: the send
        # script offers "send now" for a time before it.
        "now_local": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "test_form": SendTestForm(),
        "stats": stats,
        "total": total,
        "percent": done * 100 // total if total else 0,
        "contacts": Contact.objects.filter(account=request.account).exclude(email="")[:20],
    }


@account_required
def campaign_edit_page(request, pk):
    campaign = get_for_account_or_404(EmailCampaign, request.account, pk=pk)
    form = CampaignForm(
        request.POST or None,
        instance=campaign,
        account=request.account,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(campaign=campaign, data=dict(form.cleaned_data))
        except ServiceError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Campaign saved."))
            return redirect("campaigns:edit", pk=pk)
    if request.htmx and request.GET.get("progress"):
        return render(request, "campaigns/_progress.html", _editor_context(request, campaign, form))
    return render(request, "campaigns/campaign_edit.html", _editor_context(request, campaign, form))


@account_required
def campaign_audience_count(request, pk):
    """Live recipient count for the audience being edited (htmx)."""
    account = request.account

    def chosen(model, name):
        ids = [int(v) for v in request.GET.getlist(name) if v.isdigit()]
        return list(model.objects.filter(account=account, pk__in=ids))

    count = pipeline.audience_for(
        account,
        lists=chosen(ContactList, "lists"),
        segments=chosen(Segment, "segments"),
        excluded_lists=chosen(ContactList, "excluded_lists"),
        excluded_segments=chosen(Segment, "excluded_segments"),
    ).count()
    return HttpResponse(
        _("%(count)d recipients (consent and suppression applied)") % {"count": count}
    )


@account_required
def campaign_preview_page(request, pk):
    """The content as a chosen contact will see it (shown in an iframe at two widths)."""
    campaign = get_for_account_or_404(EmailCampaign, request.account, pk=pk)
    contact_id = request.GET.get("contact", "")
    contact = (
        get_for_account_or_404(Contact, request.account, pk=int(contact_id))
        if contact_id.isdigit()
        else Contact(account=request.account, fields={})
    )
    prepared = rendering.prepare(campaign)
    values = merge_tags.contact_values(contact, request.account)
    preview = Message(pk=0, campaign=campaign, email=contact.email or "preview@example.com")
    email = rendering.build_email(prepared, preview, values, preheader=campaign.preheader)
    response = HttpResponse(email.alternatives[0][0])
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


@account_required
@require_POST
def campaign_action_page(request, pk, action):
    campaign = get_for_account_or_404(EmailCampaign, request.account, pk=pk)
    try:
        if action == "schedule":
            _schedule(request, campaign)
        elif action == "unschedule":
            services.campaign_unschedule(campaign=campaign)
            messages.success(
                request, _("The campaign is no longer scheduled: it is a draft again.")
            )
        elif action == "send-test":
            form = SendTestForm(request.POST)
            if form.is_valid():
                sent = services.campaign_send_test(
                    campaign=campaign, recipients=form.cleaned_data["recipients"]
                )
                messages.success(request, _("%(n)d test emails sent.") % {"n": sent})
            else:
                messages.error(request, " ".join(form.errors["recipients"]))
        elif action == "save-template":
            name = request.POST.get("template_name", "").strip()[:200] or campaign.name
            services.campaign_save_as_template(campaign=campaign, name=name)
            messages.success(request, _("Saved in your templates as “%(name)s”.") % {"name": name})
        elif action in {"pause", "resume", "cancel"}:
            change = {
                "pause": pipeline.campaign_pause,
                "resume": pipeline.campaign_resume,
                "cancel": pipeline.campaign_cancel,
            }[action]
            if not change(campaign=campaign):
                messages.error(request, _("Not possible in the campaign's current state."))
        else:
            raise Http404
    except ServiceError as error:
        # The page redirects back to the editor: the reasons travel as messages, not on a form.
        for text in error.errors.values() or [error.message]:
            messages.error(request, text)
    return redirect("campaigns:edit", pk=pk)


def _schedule(request, campaign: EmailCampaign) -> None:
    """Send now or at the chosen time, once the marketer confirmed the audience count shown in
    the confirmation dialog (a count that changed since is refused by the service)."""
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return
    confirmed = request.POST.get("expected_recipients", "")
    campaign = services.campaign_schedule(
        campaign=campaign,
        at=form.cleaned_data.get("at"),
        # Without the dialog's figure (a form posted by hand), nothing counts as confirmed.
        expected_recipients=int(confirmed) if confirmed.isdigit() else -1,
    )
    if campaign.status == EmailCampaign.Status.SCHEDULED:
        at = timezone.localtime(campaign.scheduled_at)
        messages.success(
            request,
            _("Scheduled for %(date)s at %(time)s.")
            % {"date": date_format(at, "d/m/Y"), "time": date_format(at, "H:i")},
        )
    else:
        count = campaign.messages.count()
        messages.success(
            request,
            ngettext(
                "Sending started to %(count)d recipient.",
                "Sending started to %(count)d recipients.",
                count,
            )
            % {"count": count},
        )


@account_required
def senders_page(request):
    sender_form = SenderForm(request.POST if "email" in request.POST else None)
    dkim_form = DkimForm(request.POST if "domain" in request.POST else None)
    if sender_form.is_bound and sender_form.is_valid():
        try:
            services.sender_create(account=request.account, **sender_form.cleaned_data)
        except ServiceError as error:
            add_service_error(sender_form, error)
        else:
            messages.success(request, _("A confirmation email was sent to this address."))
            return redirect("campaigns:senders")
    if dkim_form.is_bound and dkim_form.is_valid():
        try:
            dkim_key_create(account=request.account, domain=dkim_form.cleaned_data["domain"])
        except ServiceError as error:
            add_service_error(dkim_form, error)
        else:
            messages.success(request, _("DKIM key created: publish its DNS record."))
            return redirect("campaigns:senders")
    context = {
        "senders": SenderAddress.objects.filter(account=request.account),
        "dkim_keys": DkimKey.objects.filter(account=request.account),
        "sender_form": sender_form,
        "dkim_form": dkim_form,
    }
    return render(request, "campaigns/senders.html", context)


OUTBOX_BACKEND = "campaigns.backends.OutboxBackend"


@account_required
def outbox_page(request, pk=None):
    """The embedded default keeps mail instead of delivering it: each account reads its own
    here (campaigns.backends.OutboxBackend stores the account with each message)."""
    if settings.EMAIL_BACKEND != OUTBOX_BACKEND:
        return render(request, "campaigns/outbox.html", {"enabled": False})
    opened = get_for_account_or_404(OutboxMessage, request.account, pk=pk) if pk else None
    kept = OutboxMessage.objects.filter(account=request.account).defer("raw", "html", "text")
    headers = outbox_headers(opened) if opened else []
    context = {"enabled": True, "kept": kept[:100], "opened": opened, "headers": headers}
    return render(request, "campaigns/outbox.html", context)
