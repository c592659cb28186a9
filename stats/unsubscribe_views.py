"""The recipient's unsubscribe page and RFC 8058 one-click POST, reached from every sent email.

Served here, beside the tracking endpoints, because recording the opt-out is stats' work
(`record_unsubscribe`); the channel only builds the link by reversing `campaigns:unsubscribe`
(the project's URLconf puts this view under that name and its old path)."""

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns.models import Message
from campaigns.rendering import message_from_token
from contacts.models import ContactList, ListMembership
from stats.services.events import record_unsubscribe


def _subscribed_lists(message: Message) -> list[ContactList]:
    """The account's lists this recipient is still subscribed to (for a partial opt-out)."""
    if message.contact is None:
        return []
    return list(
        ContactList.objects.filter(
            account_id=message.campaign.account_id,
            listmembership__contact=message.contact,
            listmembership__status=ListMembership.Status.SUBSCRIBED,
        ).order_by("name")
    )


@csrf_exempt  # RFC 8058: mail clients POST with no cookie and no CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """GET: a confirmation and preference page (some lists, or all email). POST: done at once —
    the one-click POST of RFC 8058 (`List-Unsubscribe=One-Click`) always means all email."""
    message = message_from_token(token)
    if message is None:
        raise Http404
    lists = _subscribed_lists(message)
    if request.method == "GET":
        return render(request, "campaigns/unsubscribe.html", {"message": message, "lists": lists})
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    chosen = []
    if not one_click and request.POST.get("scope") == "lists":
        wanted = set(request.POST.getlist("lists"))
        chosen = [item for item in lists if str(item.pk) in wanted]
        if not chosen:
            return render(
                request,
                "campaigns/unsubscribe.html",
                {"message": message, "lists": lists, "error": _("Choose at least one list.")},
                status=400,
            )
    record_unsubscribe(
        message=message,
        source="one-click" if one_click else "unsubscribe page",
        ip_address=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        lists=chosen,
    )
    return render(request, "campaigns/unsubscribed.html", {"message": message, "lists": chosen})
