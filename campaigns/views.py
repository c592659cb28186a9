"""Public pages reached from the emails: unsubscribe (RFC 8058), view in browser, sender check."""

from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns import merge_tags, pipeline, rendering, services
from campaigns.models import Message


def _message(token: str) -> Message:
    try:
        message_id = rendering.message_id_from_token(token)
    except (signing.BadSignature, ValueError) as error:
        raise Http404 from error
    message = (
        Message.objects.select_related("campaign__account", "contact").filter(pk=message_id).first()
    )
    if message is None:
        raise Http404
    return message


@csrf_exempt  # RFC 8058: mail clients POST with no cookie and no CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    message = _message(token)
    if request.method == "POST":
        pipeline.unsubscribe_by_message(
            message=message,
            ip_address=request.META.get("REMOTE_ADDR"),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        return render(request, "campaigns/unsubscribed.html", {"message": message})
    return render(request, "campaigns/unsubscribe.html", {"message": message, "token": token})


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
