"""The email channel: what the send engine needs to reach contacts by email, and its two
delivery backends (SMTP with bytes built directly, DKIM-signed, VERP return path; any other
Django email backend, e.g. ESPs through django-anymail, with Django email objects)."""

import contextlib
import smtplib
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

from accounts.mail import tag_with_account
from campaigns import merge_tags, rendering
from campaigns.dkim import sign, signing_key_for
from campaigns.engine.channel import (
    BackendUnavailable,
    Channel,
    ConnectionLost,
    Outcome,
    PermanentFailure,
    RetryLater,
    Sent,
)
from campaigns.models import DkimKey, EmailCampaign, Message
from campaigns.pacing import account_rate
from campaigns.selectors import campaign_checklist
from campaigns.verp import verp_address
from contacts.models import Channel as ContactChannel


@dataclass(frozen=True)
class PreparedEmail:
    campaign: rendering.PreparedCampaign
    preheader: str
    account: object
    envelope_from: str
    dkim_key: DkimKey | None


@dataclass(frozen=True)
class OutgoingEmail:
    """One message and its merge values; each backend renders it in its own form."""

    prepared: PreparedEmail
    message: Message
    values: dict[str, str]


class EmailChannel(Channel):
    name = "email"
    campaign_model = EmailCampaign
    message_model = Message
    contact_address_field = "email"
    message_address_field = "email"
    consent_field = "email_status"
    suppression_channel = ContactChannel.EMAIL
    campaign_related = ("account", "sender")
    contact_columns = merge_tags.CONTACT_COLUMNS

    def prepare(self, campaign: EmailCampaign) -> PreparedEmail:
        sender = campaign.sender
        return PreparedEmail(
            campaign=rendering.prepare(campaign),
            preheader=campaign.preheader,
            account=campaign.account,
            envelope_from=sender.email if sender else settings.DEFAULT_FROM_EMAIL,
            dkim_key=signing_key_for(campaign.account_id, sender.email) if sender else None,
        )

    def render(self, prepared: PreparedEmail, message: Message) -> OutgoingEmail:
        values = merge_tags.contact_values(message.contact, prepared.account)
        return OutgoingEmail(prepared, message, values)

    def backend(self, prepared: PreparedEmail):
        connection = get_connection()
        # Plain SMTP gets bytes built directly (and DKIM-signed); other backends (ESPs through
        # django-anymail) get Django email objects.
        if isinstance(connection, SmtpBackend):
            return SmtpDelivery(connection)
        return DjangoEmailDelivery(connection)

    def rate(self, account) -> int:
        return account_rate(account)

    def refusal_to_start(self, campaign) -> str:
        checklist = campaign_checklist(campaign)
        return " ".join(item.problem for item in checklist.blocking_failures)


def _refusal(code: int, reason) -> RetryLater | PermanentFailure:
    text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
    detail = f"{code} {text}"
    if 400 <= code < 500:
        return RetryLater(detail)
    # 5xx: the address is dead (hard bounce); anything else is this message's failure only.
    return PermanentFailure(detail, suppress=500 <= code < 600)


class DjangoEmailDelivery:
    """Any Django email backend, one EmailMessage per message."""

    def __init__(self, connection):
        self.connection = connection

    def open(self) -> None:
        try:
            self.connection.open()
        except (smtplib.SMTPException, OSError) as error:
            raise BackendUnavailable(str(error)) from error

    def close(self) -> None:
        # A connection that already broke may fail to say goodbye; that must not hide the
        # batch's own outcome (the engine may be raising DeliveryInterrupted through here).
        with contextlib.suppress(smtplib.SMTPException, OSError):
            self.connection.close()

    def send(self, outgoing: OutgoingEmail):
        prepared = outgoing.prepared
        email = rendering.build_email(
            prepared.campaign, outgoing.message, outgoing.values, preheader=prepared.preheader
        )
        email.dkim_key = prepared.dkim_key  # signed by campaigns.backends when it speaks SMTP
        tag_with_account(email, prepared.account.pk)  # the local outbox shows it to its account

        def transmit() -> str:
            self.connection.send_messages([email])
            # The ESP's own id when it gives one (its webhooks report that id).
            status = getattr(email, "anymail_status", None)
            return (status and status.message_id) or email.extra_headers["Message-ID"]

        return _attempt(transmit)


class SmtpDelivery(DjangoEmailDelivery):
    """Django's SMTP backend's connection, fed bytes built directly (DESIGN §10: building each
    message with the email package was the pipeline's main cost)."""

    def send(self, outgoing: OutgoingEmail):
        prepared, message = outgoing.prepared, outgoing.message
        rendered = rendering.render_message(
            prepared.campaign, message, outgoing.values, preheader=prepared.preheader
        )
        payload = rendering.mime_bytes(prepared.campaign, message, rendered)
        if prepared.dkim_key is not None:
            payload = sign(payload, prepared.dkim_key)
        # VERP: a bounce that quotes nothing of the message still names it.
        return_path = verp_address(message.pk) or prepared.envelope_from

        def transmit() -> str:
            self.connection.connection.sendmail(return_path, [message.email], payload)
            return rendered.headers["Message-ID"]

        return _attempt(transmit)


def _attempt(transmit: Callable[[], str]) -> Outcome:
    """The server's answer to one message, as the engine's outcome."""
    try:
        provider_id = transmit()
    except smtplib.SMTPRecipientsRefused as error:
        return _refusal(*next(iter(error.recipients.values())))
    except smtplib.SMTPResponseException as error:
        return _refusal(error.smtp_code, error.smtp_error)
    except (smtplib.SMTPException, OSError) as error:
        return ConnectionLost(str(error))
    return Sent(provider_id)


EMAIL = EmailChannel()
