"""ESP tracking webhooks through django-anymail, with payloads shaped as Mailgun's and Mandrill's
documentation shows them and signatures computed as each ESP computes them."""

import hashlib
import hmac
import json
import secrets
from base64 import b64encode
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import timezone

from campaigns.models import EmailCampaign, Message
from contacts.models import Contact, Suppression, address_hash
from stats.models import CampaignStats, EmailEvent
from tests.factories import ContactFactory, EmailCampaignFactory, MessageFactory

MAILGUN_SIGNING_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
MANDRILL_WEBHOOK_KEY = "mandrill-test-webhook-key-9Xk2"
MANDRILL_URL = "https://app.sendethic.example/anymail/mandrill/"
SENT_AT = 1736842324  # 2025-01-14 08:12:04 UTC


@pytest.fixture(autouse=True)
def anymail_settings(settings):
    settings.ANYMAIL = {
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_SIGNING_KEY,
        "MANDRILL_WEBHOOK_KEY": MANDRILL_WEBHOOK_KEY,
        # Mandrill signs the public URL; behind a proxy Django may not see the same one.
        "MANDRILL_WEBHOOK_URL": MANDRILL_URL,
    }


@pytest.fixture
def esp():
    """A client that, like an ESP, has neither a session nor a CSRF token."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def message(account) -> Message:
    contact = ContactFactory(account=account, email="zoe@example.com", email_status="subscribed")
    campaign = EmailCampaignFactory(
        account=account, name="Soldes", subject="Soldes", status=EmailCampaign.Status.FINISHED
    )
    message = MessageFactory(
        campaign=campaign,
        contact=contact,
        status=Message.Status.SENT,
        sent_at=timezone.now(),
    )
    message.message_id = f"<173684232412.4242.99{message.pk}.m{message.pk}@boutique.fr>"
    message.save(update_fields=["message_id"])
    return message


def nothing_recorded(message: Message) -> bool:
    message.refresh_from_db()
    return (
        not EmailEvent.objects.exists()
        and not Suppression.objects.exists()
        and message.status == Message.Status.SENT
        and not CampaignStats.objects.filter(campaign=message.campaign, hard_bounces__gt=0).exists()
    )


# --- Mailgun: JSON body, HMAC-SHA256 of timestamp + token ----------------------------------------


def mailgun_signed(event_data: dict, *, key: str = MAILGUN_SIGNING_KEY) -> dict:
    timestamp = str(int(timezone.now().timestamp()))
    token = secrets.token_hex(25)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": event_data,
    }


def mailgun_event(message: Message, event: str, *, metadata=True, **fields) -> dict:
    return {
        "event": event,
        "id": "G9Bn5sl1TC6nu79C8C0bwg",
        "timestamp": SENT_AT + 3.375624,
        "log-level": "error" if event == "failed" else "warn",
        "recipient": message.email,
        "recipient-domain": message.email.split("@")[1],
        "envelope": {
            "sender": "bounce+a1b2c3@mg.boutique.fr",
            "transport": "smtp",
            "targets": message.email,
        },
        "message": {
            "headers": {
                "to": message.email,
                # Mailgun quotes the Message-ID without its angle brackets
                "message-id": message.message_id.strip("<>"),
                "from": "La Boutique <news@boutique.fr>",
                "subject": "Les soldes commencent",
            },
            "attachments": [],
            "size": 2817,
        },
        "tags": [],
        "campaigns": [],
        "user-variables": {"sendethic_message_id": str(message.pk)} if metadata else {},
        **fields,
    }


PERMANENT_FAILURE = {
    "severity": "permanent",
    "reason": "bounce",
    "delivery-status": {
        "tls": True,
        "mx-host": "mx1.example.com",
        "attempt-no": 1,
        "description": "",
        "session-seconds": 0.41,
        "utf8": True,
        "code": 550,
        "message": "5.1.1 The email account that you tried to reach does not exist.",
        "certificate-verified": True,
    },
}

TEMPORARY_FAILURE = {
    "severity": "temporary",
    "reason": "generic",
    "delivery-status": {
        "mx-host": "mx1.example.com",
        "attempt-no": 1,
        "description": "Recipient address rejected: Greylisted",
        "session-seconds": 0.2,
        "retry-seconds": 600,
        "code": 450,
        "message": "4.2.0 Recipient address rejected: Greylisted",
    },
}


def post_mailgun(client, payload: dict):
    return client.post(
        "/anymail/mailgun/tracking/", data=json.dumps(payload), content_type="application/json"
    )


def test_mailgun_hard_bounce_suppresses_and_counts(esp, message, account):
    response = post_mailgun(
        esp, mailgun_signed(mailgun_event(message, "failed", **PERMANENT_FAILURE))
    )

    assert response.status_code == 200
    event = EmailEvent.objects.get(message=message)
    assert (event.kind, event.source) == (EmailEvent.Kind.HARD_BOUNCE, "webhook:mailgun")
    assert "5.1.1 The email account" in event.detail
    assert event.occurred_at == datetime.fromtimestamp(SENT_AT + 3.375624, tz=UTC)
    message.refresh_from_db()
    assert message.status == Message.Status.BOUNCED
    suppression = Suppression.objects.get(account=account)
    assert suppression.address_hash == address_hash("zoe@example.com")
    assert suppression.reason == Suppression.Reason.HARD_BOUNCE
    assert CampaignStats.objects.get(campaign=message.campaign).hard_bounces == 1


def test_mailgun_complaint_suppresses_and_unsubscribes(esp, message, account):
    response = post_mailgun(esp, mailgun_signed(mailgun_event(message, "complained")))

    assert response.status_code == 200
    event = EmailEvent.objects.get(message=message)
    assert (event.kind, event.source) == (EmailEvent.Kind.COMPLAINT, "webhook:mailgun")
    assert Suppression.objects.get(account=account).reason == Suppression.Reason.COMPLAINT
    assert Contact.objects.get(pk=message.contact_id).email_status == "unsubscribed"
    assert CampaignStats.objects.get(campaign=message.campaign).complaints == 1


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda payload: payload["signature"].update(signature="0" * 64), id="forged"),
        pytest.param(lambda payload: payload["signature"].update(token="replayed"), id="token"),
        pytest.param(lambda payload: payload.pop("signature"), id="missing"),
    ],
)
def test_mailgun_signature_failures_are_refused_and_record_nothing(esp, message, tamper):
    payload = mailgun_signed(mailgun_event(message, "failed", **PERMANENT_FAILURE))
    tamper(payload)

    response = post_mailgun(esp, payload)

    assert 400 <= response.status_code < 500
    assert nothing_recorded(message)


def test_mailgun_payload_signed_with_another_key_is_refused(esp, message):
    payload = mailgun_signed(mailgun_event(message, "complained"), key="key-of-someone-else")

    response = post_mailgun(esp, payload)

    assert 400 <= response.status_code < 500
    assert nothing_recorded(message)


def test_mailgun_events_are_matched_by_message_id_without_metadata(esp, message):
    payload = mailgun_signed(mailgun_event(message, "failed", metadata=False, **PERMANENT_FAILURE))

    assert post_mailgun(esp, payload).status_code == 200

    assert EmailEvent.objects.get(message=message).kind == EmailEvent.Kind.HARD_BOUNCE


def test_mailgun_temporary_failures_record_nothing_while_mailgun_retries(esp, message):
    payload = mailgun_signed(mailgun_event(message, "failed", **TEMPORARY_FAILURE))

    assert post_mailgun(esp, payload).status_code == 200

    assert nothing_recorded(message)


def test_events_of_unknown_messages_are_acknowledged_and_ignored(esp, message):
    event_data = mailgun_event(message, "failed", **PERMANENT_FAILURE)
    event_data["user-variables"] = {"sendethic_message_id": str(message.pk + 1000)}
    event_data["message"]["headers"]["message-id"] = "20250114081204.1.ABCDEF@mg.elsewhere.example"

    response = post_mailgun(esp, mailgun_signed(event_data))

    assert response.status_code == 200
    assert nothing_recorded(message)


def test_metadata_naming_a_message_to_someone_else_is_not_trusted(esp, message):
    # e.g. a staging installation sharing the ESP account, whose pks overlap ours
    event_data = mailgun_event(message, "complained", recipient="stranger@example.net")
    event_data["message"]["headers"]["message-id"] = "20250114081204.1.ABCDEF@mg.elsewhere.example"

    assert post_mailgun(esp, mailgun_signed(event_data)).status_code == 200

    assert nothing_recorded(message)


def test_a_replayed_event_is_recorded_once(esp, message):
    event_data = mailgun_event(message, "failed", **PERMANENT_FAILURE)

    for _attempt in range(2):  # ESPs retry when an answer is lost
        assert post_mailgun(esp, mailgun_signed(event_data)).status_code == 200

    assert EmailEvent.objects.filter(message=message).count() == 1
    assert CampaignStats.objects.get(campaign=message.campaign).hard_bounces == 1


def test_mailgun_unsubscribe_is_recorded(esp, message):
    payload = mailgun_signed(mailgun_event(message, "unsubscribed"))

    assert post_mailgun(esp, payload).status_code == 200

    event = EmailEvent.objects.get(message=message)
    assert (event.kind, event.source) == (EmailEvent.Kind.UNSUBSCRIBE, "webhook:mailgun")
    assert Contact.objects.get(pk=message.contact_id).email_status == "unsubscribed"


# --- Mandrill: form field mandrill_events, HMAC-SHA1 of URL + sorted fields ----------------------


def mandrill_signed(events: list[dict], *, key: str = MANDRILL_WEBHOOK_KEY) -> dict:
    body = json.dumps(events)
    signed = f"{MANDRILL_URL}mandrill_events{body}"
    signature = b64encode(hmac.new(key.encode(), signed.encode(), hashlib.sha1).digest()).decode()
    return {"data": {"mandrill_events": body}, "HTTP_X_MANDRILL_SIGNATURE": signature}


def mandrill_event(message: Message, event: str, **msg_fields) -> dict:
    mandrill_id = "8f7e6d5c4b3a29180716253443526170"
    return {
        "event": event,
        "msg": {
            "ts": SENT_AT,
            "subject": "Les soldes commencent",
            "email": message.email,
            "sender": "news@boutique.fr",
            "tags": [],
            "metadata": {"sendethic_message_id": str(message.pk)},
            "_id": mandrill_id,
            "_version": "exampleaaaaaaaaaaaaaaa",
            **msg_fields,
        },
        "_id": mandrill_id,
        "ts": SENT_AT + 60,
    }


HARD_BOUNCE = {
    "state": "bounced",
    "bounce_description": "bad_mailbox",
    "bgtools_code": 10,
    "diag": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
}
SOFT_BOUNCE = {
    "state": "soft-bounced",
    "bounce_description": "mailbox_full",
    "bgtools_code": 22,
    "diag": "smtp;452 4.2.2 The email account that you tried to reach is over quota.",
}


def post_mandrill(client, signed: dict):
    return client.post("/anymail/mandrill/", **signed)


def test_mandrill_batch_of_bounce_and_complaint(esp, message, account):
    other = MessageFactory(
        campaign=message.campaign,
        contact=None,
        email="paul@example.com",
        status=Message.Status.SENT,
    )
    events = [
        mandrill_event(message, "hard_bounce", **HARD_BOUNCE),
        mandrill_event(other, "spam", state="sent"),
    ]

    response = post_mandrill(esp, mandrill_signed(events))

    assert response.status_code == 200
    bounce = EmailEvent.objects.get(message=message)
    assert (bounce.kind, bounce.source) == (EmailEvent.Kind.HARD_BOUNCE, "webhook:mandrill")
    assert "550 5.1.1" in bounce.detail
    assert bounce.occurred_at == datetime.fromtimestamp(SENT_AT + 60, tz=UTC)
    assert EmailEvent.objects.get(message=other).kind == EmailEvent.Kind.COMPLAINT
    assert dict(
        Suppression.objects.filter(account=account).values_list("address_hash", "reason")
    ) == {
        address_hash("zoe@example.com"): Suppression.Reason.HARD_BOUNCE,
        address_hash("paul@example.com"): Suppression.Reason.COMPLAINT,
    }


def test_mandrill_soft_bounce_is_counted_not_suppressed(esp, message, settings):
    settings.SOFT_BOUNCE_LIMIT = 3

    response = post_mandrill(
        esp, mandrill_signed([mandrill_event(message, "soft_bounce", **SOFT_BOUNCE)])
    )

    assert response.status_code == 200
    assert EmailEvent.objects.get(message=message).kind == EmailEvent.Kind.SOFT_BOUNCE
    assert not Suppression.objects.exists()
    message.refresh_from_db()
    assert message.status == Message.Status.SENT


def test_mandrill_signature_failures_are_refused_and_record_nothing(esp, message):
    events = [mandrill_event(message, "hard_bounce", **HARD_BOUNCE)]
    wrong_key = mandrill_signed(events, key="not-the-webhook-key")
    unsigned = {"data": mandrill_signed(events)["data"]}
    tampered = mandrill_signed(events)
    tampered["data"] = {"mandrill_events": json.dumps([mandrill_event(message, "spam")])}

    for request in (wrong_key, unsigned, tampered):
        response = post_mandrill(esp, request)

        assert 400 <= response.status_code < 500
        assert nothing_recorded(message)


def test_mandrill_url_check_needs_no_signature(esp):
    # Mandrill checks a new webhook URL with an unsigned HEAD request
    assert esp.head("/anymail/mandrill/").status_code == 200
