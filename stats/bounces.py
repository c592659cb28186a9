"""Bounces and complaints that come back by email, for messages sent over plain SMTP (DESIGN §6).

Each message leaves with a VERP return path made by the email channel (campaigns/verp.py), so a
bounce names its message even when the remote server quotes nothing of it; failing that, the
original's Message-ID in the returned headers does. `manage.py process_bounces` reads the
mailbox settings.BOUNCE_ADDRESS delivers to and hands each message here.

The standard library's email package is the parser: it already splits a message/delivery-status
part (RFC 3464) into one header block per message and per recipient, and parses message/* parts
(the RFC 5965 feedback report, the returned original). This module only maps those fields to
what happened, with a fallback for servers that still send free-text failure notices.
"""

import email
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message as MimeMessage
from email.utils import parseaddr, parsedate_to_datetime
from enum import StrEnum

from campaigns.models import Message
from campaigns.tokens import InvalidToken
from campaigns.verp import read_verp_token, verp_pattern
from stats.models import EmailEvent
from stats.services.events import record_bounce, record_complaint

logger = logging.getLogger(__name__)


class ReportKind(StrEnum):
    HARD = "hard"
    SOFT = "soft"
    DELAYED = "delayed"  # the remote server is still trying: nothing to record yet
    COMPLAINT = "complaint"
    NONE = "none"  # not a failure report (auto-reply, success notice, other feedback)


@dataclass(frozen=True)
class BounceReport:
    kind: ReportKind
    recipient: str = ""
    status: str = ""  # RFC 3463 enhanced status code, e.g. "5.1.1"
    diagnostic: str = ""
    verp_token: str = ""
    original_message_id: str = ""
    occurred_at: datetime | None = None


class Outcome(StrEnum):
    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"
    DUPLICATE = "duplicate"  # the same report was recorded before
    UNMATCHED = "unmatched"
    IGNORED = "ignored"


# Statuses of permanent failures that say nothing against the address itself (RFC 3463: mailbox
# full, message too big): counted as soft, so only a streak of them suppresses.
NOT_ABOUT_THE_ADDRESS = {"5.2.2", "5.3.4"}
# Feedback types (RFC 5965) that are a recipient's complaint; "not-spam", DMARC "auth-failure"
# and "other" are not.
COMPLAINT_FEEDBACK_TYPES = {"abuse", "fraud", "virus"}

ENHANCED_STATUS = re.compile(r"(?<![\d.])[245]\.\d{1,3}\.\d{1,3}(?![\d.])")
# In prose only failure classes count: "2.3.4" there is more likely a software version.
FAILURE_STATUS = re.compile(r"(?<![\d.])[45]\.\d{1,3}\.\d{1,3}(?![\d.])")
BASIC_REPLY_CODE = re.compile(r"(?<![\d.])([45])[0-5]\d(?=[\s-])")
OUR_MESSAGE_ID = re.compile(r"\.m(\d{1,18})@")  # campaigns.rendering: make_msgid(f"m{pk}")
RETURNED_MESSAGE_ID = re.compile(r"^Message-ID:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)

# Where the address a bounce was sent to can be read back: the bounce's own envelope headers,
# then what it quotes of the original (its Return-Path, the report's Original-Mail-From).
RECIPIENT_HEADERS = ("To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To")
QUOTED_SENDER_FIELDS = ("Return-Path", "Original-Mail-From", "X-Postfix-Sender")

FAILURE_SENDERS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
FAILURE_SUBJECT = re.compile(
    r"undeliver|undelivered|returned mail|delivery (status notification|failure|has failed)"
    r"|failure notice|mail delivery (failed|failure|system)|non[- ]?delivery"
    r"|could not be delivered|delivery problem",
    re.IGNORECASE,
)
AUTO_REPLY_SUBJECT = re.compile(
    r"out of (the )?office|auto(matic)?[- ]?reply|absence|abwesenheit|vacation", re.IGNORECASE
)


def parse_report(raw: bytes | MimeMessage) -> BounceReport:
    """What one message received at the bounce address reports."""
    mail = email.message_from_bytes(raw) if isinstance(raw, bytes | bytearray) else raw
    content_type = mail.get_content_type()
    report_type = (mail.get_param("report-type") or "").lower()
    found = None
    if content_type == "multipart/report" and report_type == "feedback-report":
        found = _feedback_report(mail)
    elif content_type == "multipart/report" and report_type == "delivery-status":
        found = _delivery_status(mail)
    if found is None:
        found = _free_text_failure(mail)
    kind, recipient, status, diagnostic = found
    original = _returned_headers(mail)
    return BounceReport(
        kind=kind,
        recipient=recipient,
        status=status,
        diagnostic=diagnostic[:500],
        verp_token=_find_verp_token(mail, original),
        original_message_id=_original_message_id(mail, original),
        occurred_at=_date(mail.get("Date")),
    )


def _delivery_status(mail: MimeMessage):
    """RFC 3464: the worst per-recipient outcome (failed, then delayed)."""
    blocks = []
    for part in mail.walk():
        if part.get_content_type() == "message/delivery-status" and part.is_multipart():
            blocks.extend(part.get_payload())
    recipients = [block for block in blocks if block.get("Action") or block.get("Status")]
    if not recipients:
        return None  # malformed: let the free-text reading try
    rank = {"failed": 0, "delayed": 1}
    block = min(recipients, key=lambda b: rank.get(_field(b, "Action").lower(), 2))
    action = _field(block, "Action").lower()
    recipient = _typed_address(
        _field(block, "Final-Recipient") or _field(block, "Original-Recipient")
    )
    diagnostic = _typed_value(_field(block, "Diagnostic-Code"))
    status = _status(_field(block, "Status")) or _status(diagnostic)
    if action == "delayed":
        kind = ReportKind.DELAYED
    elif action == "failed":
        # "failed" is final (RFC 3464 §2.3.3): without a status it is read as permanent.
        kind = _failure_kind(status, default=ReportKind.HARD)
    else:  # delivered, relayed, expanded
        kind = ReportKind.NONE
    return kind, recipient, status, diagnostic or _field(block, "Status")


def _feedback_report(mail: MimeMessage):
    """RFC 5965 (ARF), as sent by mailbox providers' feedback loops."""
    fields = None
    for part in mail.walk():
        if part.get_content_type() == "message/feedback-report" and part.is_multipart():
            fields = part.get_payload()[0]
            break
    if fields is None:
        return None
    feedback_type = _field(fields, "Feedback-Type").lower()
    if feedback_type not in COMPLAINT_FEEDBACK_TYPES:
        return ReportKind.NONE, "", "", feedback_type
    reporter = _field(fields, "User-Agent") or _field(fields, "Reported-Domain")
    detail = f"{feedback_type} report ({reporter})" if reporter else f"{feedback_type} report"
    recipient = _typed_address(_field(fields, "Original-Rcpt-To"))
    return ReportKind.COMPLAINT, recipient, "", detail


def _free_text_failure(mail: MimeMessage):
    """A failure notice in prose (qmail, old Exchange, some hosted filters): the first status
    code in the text decides; a notice with none counts as soft."""
    subject = _decoded(str(mail.get("Subject", "")))
    sender = parseaddr(str(mail.get("From", "")))[1].lower().partition("@")[0]
    # Not the Auto-Submitted header: genuine bounces carry "auto-replied" too (RFC 3834).
    if sender not in FAILURE_SENDERS and (
        AUTO_REPLY_SUBJECT.search(subject) or not FAILURE_SUBJECT.search(subject)
    ):
        return ReportKind.NONE, "", "", ""
    text = _text_of(mail)
    match = FAILURE_STATUS.search(text) or BASIC_REPLY_CODE.search(text)
    if match is None:
        return ReportKind.SOFT, "", "", subject
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.end())
    diagnostic = " ".join(text[line_start : line_end if line_end != -1 else None].split())
    if match.re is BASIC_REPLY_CODE:  # no enhanced status: the reply code's class decides
        return _failure_kind(f"{match.group(1)}.0.0"), "", "", diagnostic
    return _failure_kind(match.group(0)), "", match.group(0), diagnostic


def _failure_kind(status: str, default: ReportKind = ReportKind.SOFT) -> ReportKind:
    if not status:
        return default
    if status.startswith("4") or status in NOT_ABOUT_THE_ADDRESS:
        return ReportKind.SOFT
    if status.startswith("5"):
        return ReportKind.HARD
    return default


def _returned_headers(mail: MimeMessage) -> MimeMessage | None:
    """The original message's headers, as the report quotes them."""
    for part in mail.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822" and part.is_multipart():
            return part.get_payload()[0]
        if content_type == "text/rfc822-headers":
            payload = part.get_payload(decode=True) or b""
            return email.message_from_bytes(payload)
    return None


def _find_verp_token(mail: MimeMessage, original: MimeMessage | None) -> str:
    pattern = verp_pattern()
    if pattern is None:
        return ""
    values = [value for name in RECIPIENT_HEADERS for value in mail.get_all(name, [])]
    quoting = [original] if original is not None else []
    for part in mail.walk():
        if part.get_content_type() in {"message/delivery-status", "message/feedback-report"}:
            quoting.extend(part.get_payload() if part.is_multipart() else [])
    for quoted in quoting:
        values.extend(value for name in QUOTED_SENDER_FIELDS for value in quoted.get_all(name, []))
    for value in values:
        match = pattern.search(str(value))
        if match:
            return match.group(1).lower()
    return ""


def _original_message_id(mail: MimeMessage, original: MimeMessage | None) -> str:
    if original is not None and original.get("Message-ID"):
        return _normal_message_id(str(original["Message-ID"]))
    # Free-text notices often paste the original below the explanation.
    match = RETURNED_MESSAGE_ID.search(_text_of(mail))
    return match.group(1) if match else ""


def _text_of(mail: MimeMessage) -> str:
    """The plain text the report itself wrote, not that of an attached original (our own
    campaign's text could hold anything that looks like a status code)."""
    return "\n".join(
        (part.get_payload(decode=True) or b"").decode(
            part.get_content_charset() or "utf-8", errors="replace"
        )
        for part in _own_text_parts(mail)
    )


def _own_text_parts(part: MimeMessage):
    content_type = part.get_content_type()
    if content_type.startswith("message/"):
        return
    if part.is_multipart():
        for child in part.get_payload():
            yield from _own_text_parts(child)
    elif content_type == "text/plain":
        yield part


def _field(block: MimeMessage, name: str) -> str:
    return " ".join(str(block.get(name, "")).split())


def _typed_value(value: str) -> str:
    """`smtp; 550 5.1.1 …` → `550 5.1.1 …` (RFC 3464 typed fields)."""
    kind, sep, rest = value.partition(";")
    return rest.strip() if sep and " " not in kind.strip() else value


def _typed_address(value: str) -> str:
    address = _typed_value(value).strip().strip("<>")
    return address.lower() if "@" in address else ""


def _status(value: str) -> str:
    match = ENHANCED_STATUS.search(value or "")
    return match.group(0) if match else ""


def _decoded(value: str) -> str:
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError):
        return value


def _date(value) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _normal_message_id(value: str) -> str:
    value = value.strip()
    bare = value.strip("<>").strip()
    return f"<{bare}>" if bare else ""


def message_by_message_id(message_id: str) -> Message | None:
    """The message a Message-ID (ours, or an ESP's, with or without angle brackets) names."""
    bracketed = _normal_message_id(message_id or "")
    if not bracketed:
        return None
    bare = bracketed[1:-1]
    # Our own ids carry the message's pk: one lookup by primary key, then the whole id must
    # match, so a guessed pk alone finds nothing.
    hint = OUR_MESSAGE_ID.search(bracketed)
    if hint:
        message = Message.objects.filter(pk=int(hint.group(1))).first()
        if message is not None and _normal_message_id(message.message_id) == bracketed:
            return message
    return Message.objects.filter(message_id__in=[bracketed, bare]).order_by("pk").first()


def report_message(report: BounceReport) -> Message | None:
    """The message a report is about: by its signed VERP token, else by the original's
    Message-ID. A token that does not verify is a forgery or damage, never a match."""
    if report.verp_token:
        try:
            pk = read_verp_token(report.verp_token)
        except InvalidToken:
            logger.info("bounce with an invalid VERP token %r", report.verp_token)
        else:
            message = Message.objects.filter(pk=pk).first()
            if message is not None:
                return message
    if report.original_message_id:
        return message_by_message_id(report.original_message_id)
    return None


def bounce_report_apply(*, report: BounceReport) -> Outcome:
    """Record what a parsed report says. Applying the same report again records nothing."""
    if report.kind in {ReportKind.DELAYED, ReportKind.NONE}:
        return Outcome.IGNORED
    message = report_message(report)
    if message is None:
        return Outcome.UNMATCHED
    if report.kind == ReportKind.COMPLAINT:
        event = record_complaint(
            message=message, source="arf", detail=report.diagnostic, occurred_at=report.occurred_at
        )
        return Outcome.COMPLAINT if event else Outcome.DUPLICATE
    event = record_bounce(
        message=message,
        permanent=report.kind == ReportKind.HARD,
        source="dsn",
        diagnostic=report.diagnostic,
        occurred_at=report.occurred_at,
    )
    if event is None:
        return Outcome.DUPLICATE
    return Outcome.HARD if event.kind == EmailEvent.Kind.HARD_BOUNCE else Outcome.SOFT
