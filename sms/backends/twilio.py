"""Twilio's Programmable Messaging REST API, in its documented wire format (no SDK needed):
one `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` per SMS, form-encoded `To`, `From`,
`Body`, HTTP Basic auth with the account SID and auth token, a JSON answer (201 with the
message's `sid`; errors as `{"code", "message", "status"}`).

One keep-alive connection per batch (http.client), as the engine opens one backend per batch.

Every message asks for Twilio's status callbacks (`StatusCallback`: our /sms/hooks/twilio/status/
under PUBLIC_BASE_URL), which write its delivery receipt (sms.webhooks); TWILIO_STATUS_CALLBACKS =
False leaves that to the callback configured on a Twilio Messaging Service instead.

Settings: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_API_URL (the simulator's in tests),
TWILIO_STATUS_CALLBACKS (default True).
"""

import base64
import http.client
import json
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.urls import reverse

from campaigns.engine.channel import (
    BackendUnavailable,
    ConnectionLost,
    Outcome,
    PermanentFailure,
    RetryLater,
    Sent,
)

TIMEOUT = 30
# Twilio error codes that say the number itself cannot receive SMS: suppress it.
DEAD_NUMBER_CODES = {
    21211,  # invalid 'To' phone number
    21214,  # 'To' phone number cannot be reached
    21610,  # the recipient replied STOP to this sender
    21614,  # 'To' is not a valid mobile number
}
# Refusals of the whole account (credentials, suspension): no message can go, the batch waits.
ACCOUNT_CODES = {20003, 20005, 20404}


class SmsBackend:
    # The key of an account's provider-specific opt-out mention (SmsSettings.opt_out_by_provider).
    provider = "twilio"

    def __init__(self, account_sid=None, auth_token=None, api_url=None):
        self.account_sid = account_sid or settings.TWILIO_ACCOUNT_SID
        auth_token = auth_token or settings.TWILIO_AUTH_TOKEN
        self.api_url = api_url or settings.TWILIO_API_URL
        credentials = f"{self.account_sid}:{auth_token}".encode()
        self.headers = {
            "Authorization": "Basic " + base64.b64encode(credentials).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        self.path = f"{urlsplit(self.api_url).path.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        self.connection = None
        self._tails: dict[str, str] = {}
        self.status_callback = None
        if settings.TWILIO_STATUS_CALLBACKS:
            self.status_callback = settings.PUBLIC_BASE_URL.rstrip("/") + reverse(
                "sms_hooks:twilio_status"
            )

    def open(self) -> None:
        url = urlsplit(self.api_url)
        connection_class = (
            http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        )
        self.connection = connection_class(url.hostname, url.port, timeout=TIMEOUT)
        try:
            self.connection.connect()
        except OSError as error:
            raise BackendUnavailable(str(error)) from error

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()

    def _form_tail(self, sender: str) -> str:
        """The form's fields that are the same for a whole batch (sender, callback), encoded
        once per sender rather than once per message."""
        tail = self._tails.get(sender)
        if tail is None:
            fixed = {"From": sender} if sender else {}
            if self.status_callback:
                fixed["StatusCallback"] = self.status_callback
            tail = self._tails[sender] = "&" + urlencode(fixed) if fixed else ""
        return tail

    def send(self, sms) -> Outcome:
        return self.hand(sms) or self.outcome()

    def hand(self, sms) -> ConnectionLost | None:
        """Post one message; its answer is read by outcome() (campaigns.engine.channel)."""
        form = urlencode({"To": sms.mobile, "Body": sms.text}) + self._form_tail(sms.sender)
        try:
            self.connection.request("POST", self.path, form, self.headers)
        except (OSError, http.client.HTTPException) as error:  # timeouts are OSErrors
            return ConnectionLost(f"{type(error).__name__}: {error}")
        return None

    def outcome(self) -> Outcome:
        """Twilio's answer to the message handed last."""
        try:
            response = self.connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            return ConnectionLost(f"{type(error).__name__}: {error}")
        return answer(response.status, body)


def answer(status: int, body: bytes) -> Outcome:
    """Twilio's answer to one message as the engine's outcome."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        data = {}
    if 200 <= status < 300 and data.get("sid"):
        return Sent(data["sid"])
    code = data.get("code")
    detail = f"{status} {code or ''} {data.get('message') or body[:200]!r}".strip()
    if status == 429 or code == 20429:
        return RetryLater(detail)
    if status >= 500 or status in (401, 403) or code in ACCOUNT_CODES:
        # An outage or a refused account: the batch goes back to the queue and waits.
        return ConnectionLost(detail)
    return PermanentFailure(detail, suppress=code in DEAD_NUMBER_CODES)
