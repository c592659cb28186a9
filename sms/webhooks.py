"""Twilio's webhooks: message status callbacks (delivery receipts) and inbound messages.

Both are refused with 403 unless their X-Twilio-Signature is right: base64 HMAC-SHA1, keyed
with the Twilio account's auth token, of the URL Twilio called (as configured: our public base
URL and the path, query string included) followed by every POST parameter, sorted by name,
each name then its value. Twilio retries a callback that fails, so both are idempotent.
"""

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sms import inbound, receipts

# Twilio's delivery error codes (ErrorCode of a status callback) and what they mean.
TWILIO_DELIVERY_ERRORS = {
    "30001": "Queue overflow",
    "30002": "Account suspended",
    "30003": "Unreachable destination handset",
    "30004": "Message blocked",
    "30005": "Unknown destination handset",
    "30006": "Landline or unreachable carrier",
    "30007": "Message filtered by the carrier",
    "30008": "Unknown error",
    "30034": "Message from an unregistered number",
}
# The number itself cannot receive SMS: suppressed like a hard bounce.
TWILIO_DEAD_NUMBER = {"30005", "30006"}
TWILIO_FAILED = {"undelivered", "failed"}
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def twilio_signature(auth_token: str, url: str, params) -> str:
    """`params`: a QueryDict (or a dict of lists) of the POST parameters."""
    signed = url
    for name in sorted(set(params)):
        for value in sorted(set(params.getlist(name))):
            signed += name + value
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _signed_by_twilio(request) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    auth_token = settings.TWILIO_AUTH_TOKEN
    if not signature or not auth_token:
        return False
    url = settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
    expected = twilio_signature(auth_token, url, request.POST)
    return hmac.compare_digest(expected.encode(), signature.encode())


@csrf_exempt
@require_POST
def twilio_status(request):
    if not _signed_by_twilio(request):
        return HttpResponseForbidden("Bad signature")
    sid = request.POST.get("MessageSid", "")
    status = request.POST.get("MessageStatus") or request.POST.get("SmsStatus", "")
    # Only final statuses are written (queued, sending, sent, accepted… are on the way).
    if sid and (status == "delivered" or status in TWILIO_FAILED):
        code = request.POST.get("ErrorCode", "")
        receipts.receipt_apply(
            receipts.Receipt(
                provider_id=sid,
                delivery="delivered" if status == "delivered" else "failed",
                at=datetime.now(UTC),
                code=f"{status} {code}".strip(),
                reason=request.POST.get("ErrorMessage") or TWILIO_DELIVERY_ERRORS.get(code, status),
                dead_number=code in TWILIO_DEAD_NUMBER,
            )
        )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_inbound(request):
    if not _signed_by_twilio(request):
        return HttpResponseForbidden("Bad signature")
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid", "")
    mobile = request.POST.get("From", "")
    if sid and mobile:
        inbound.reply_received(
            provider="twilio",
            provider_id=sid,
            mobile=mobile,
            to=request.POST.get("To", ""),
            text=request.POST.get("Body", ""),
            received_at=datetime.now(UTC),
        )
    # An empty TwiML answer: no automatic reply (Twilio's own opt-out answers STOP).
    return HttpResponse(TWIML_EMPTY, content_type="text/xml")
