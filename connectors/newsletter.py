"""Newsletter instant add: the shop's module posts a subscription, signed, as it happens.

Request: POST, JSON body `{"email", "firstname"?, "lastname"?, "store_code"?, "ip"?,
"subscribed_at"?}`, headers `X-Sendethic-Timestamp` (Unix seconds) and `X-Sendethic-Signature`
(hex HMAC-SHA256 of "<timestamp>.<raw body>" with the connection's secret). A request older
than the replay window, or a signature seen before inside it, is refused. Without the module,
the next sync brings the subscriber in anyway (as a customer's newsletter flag).
"""

import hashlib
import hmac
import json
import time

from django.core.cache import cache
from django.utils.translation import gettext as _

from accounts.errors import ConflictError, ServiceError
from connectors.credentials import decrypt_secret
from connectors.models import ShopConnection
from contacts.models import ConsentRecord, ConsentStatus
from contacts.services.consent import ConsentProof
from contacts.services.contacts import contacts_bulk_upsert

REPLAY_WINDOW_SECONDS = 300
MAX_BODY_BYTES = 16 * 1024


class SignatureRefused(ServiceError):
    code = "signature_refused"


class ReplayRefused(ConflictError):
    code = "replayed"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def newsletter_subscription_add(
    *, connection: ShopConnection, body: bytes, timestamp: str, signature: str, now=None
):
    now = now or time.time()
    if len(body) > MAX_BODY_BYTES:
        raise SignatureRefused(_("Body too large."))
    try:
        moment = int(timestamp)
    except (TypeError, ValueError) as error:
        raise SignatureRefused(_("Missing or bad timestamp.")) from error
    if abs(now - moment) > REPLAY_WINDOW_SECONDS:
        raise SignatureRefused(_("Timestamp outside the replay window."))
    expected = sign(decrypt_secret(connection.webhook_secret_encrypted), timestamp, body)
    if not hmac.compare_digest(expected, signature or ""):
        raise SignatureRefused(_("Bad signature."))
    if not cache.add(f"connectors:nl:{connection.pk}:{signature}", 1, REPLAY_WINDOW_SECONDS * 2):
        raise ReplayRefused(_("This request was already received."))
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise ServiceError({"body": _("Not JSON.")}) from error
    if not isinstance(payload, dict) or not isinstance(payload.get("email"), str):
        raise ServiceError({"email": _("required")})
    row = {"email": payload["email"], "email_status": ConsentStatus.SUBSCRIBED}
    for source, target in (("firstname", "first_name"), ("lastname", "last_name")):
        if isinstance(payload.get(source), str) and payload[source].strip():
            row[target] = payload[source][:100]
    ip = payload.get("ip") if isinstance(payload.get("ip"), str) else None
    proof = ConsentProof(
        source=ConsentRecord.Source.CONNECTOR,
        ip_address=ip or None,
        form=f"{connection.get_platform_display()} newsletter form, "
        f"store {str(payload.get('store_code') or '')[:32]} (instant add)",
        wording=str(payload.get("wording") or "")[:1000],
        actor=f"connection {connection.pk}",
    )
    outcome = contacts_bulk_upsert(
        account=connection.account,
        rows=[row],
        proof=proof,
        target_list=connection.newsletter_list,
        blank_clears=False,
    )[0]
    if outcome.status == "error":
        raise ServiceError(outcome.errors)
    return outcome.contact
