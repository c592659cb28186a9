"""Reading a message kept in the local outbox the way a mail client shows it."""

import email
from email import policy
from email.errors import MessageError

from campaigns.models import OutboxMessage

# The headers that tell whether a campaign is well formed, in the order a reader checks them:
# who it is from and to, where replies go, how it is identified, how one unsubscribes (RFC 2369
# and RFC 8058 one-click, asked by Gmail and Yahoo of bulk senders), and how it is classed.
HEADERS_THAT_MATTER = (
    "From", "Sender", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID",
    "List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Precedence", "Auto-Submitted",
    "Feedback-ID", "Return-Path", "DKIM-Signature",
)  # fmt: skip


def outbox_headers(message: OutboxMessage) -> list[tuple[str, str]]:
    """(name, decoded value) of the headers that matter, in HEADERS_THAT_MATTER's order, each
    as many times as the message has it; [] for a message without MIME source (an SMS)."""
    if not message.raw:
        return []
    try:
        parsed = email.message_from_string(message.raw, policy=policy.default)
        return [
            (name, " ".join(str(value).split()))  # unfolded, as a mail client shows it
            for name in HEADERS_THAT_MATTER
            for value in (parsed.get_all(name) or [])
        ]
    except (MessageError, ValueError, TypeError):
        return []  # a malformed source is still shown raw below
