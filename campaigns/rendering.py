"""Turning a campaign into messages: CSS inlined once per campaign, then per recipient only the
merge tags and links change."""

import binascii
import re
import secrets
from dataclasses import dataclass
from email.utils import formatdate, make_msgid
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import sanitize_address
from django.utils.html import strip_tags
from premailer import Premailer

from campaigns import links, merge_tags
from campaigns.models import EmailCampaign, Message

UNSUBSCRIBE_SALT = "campaigns.unsubscribe"


@dataclass(frozen=True)
class PreparedCampaign:
    subject: str
    html: str
    text: str
    from_email: str
    reply_to: list[str]
    domain: str
    campaign_id: int | None = None
    links: tuple[str, ...] = ()  # targets of the tracked links, by index


def inline_css(html: str) -> str:
    """premailer, offline, with merge tags kept intact (it would URL-encode them in hrefs)."""
    if not html.strip():
        return ""  # nothing to inline (premailer refuses an empty document)
    protected = merge_tags.Protected(html)
    inlined = Premailer(
        protected.text,
        allow_network=False,
        keep_style_tags=True,  # media queries (hide on mobile/desktop) cannot be inlined
        remove_classes=False,
        disable_validation=True,
        cssutils_logging_level="CRITICAL",
    ).transform()
    return protected.restore(inlined)


def text_from_html(html: str) -> str:
    """A readable text part: links kept as "label (url)", tags removed, blank lines squeezed."""
    with_links = re.sub(
        r"<a\s[^>]*href=\"([^\"]+)\"[^>]*>(.*?)</a>",
        lambda m: f"{strip_tags(m.group(2)).strip()} ({m.group(1)})",
        html,
        flags=re.IGNORECASE | re.DOTALL,
    )
    without_head = re.sub(r"<(style|head|title)[^>]*>.*?</\1>", "", with_links, flags=re.S | re.I)
    with_breaks = re.sub(r"<(br|/p|/div|/tr|/h[1-6]|/li)[^>]*>", "\n", without_head, flags=re.I)
    # The repeat / condition markers of merge_tags are comments strip_tags would drop: the
    # text part repeats the cart's rows as the HTML does.
    marks: list[str] = []

    def keep(match: re.Match) -> str:
        marks.append(match.group(0))
        return f"SENDETHICMARK{len(marks) - 1}X"

    text = strip_tags(merge_tags.BLOCK_MARK.sub(keep, with_breaks))
    text = re.sub(r"SENDETHICMARK(\d+)X", lambda m: marks[int(m.group(1))], text)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


PREPARED_CACHE_SIZE = 8
_prepared: dict[tuple, PreparedCampaign] = {}


def prepare(campaign: EmailCampaign) -> PreparedCampaign:
    """The campaign ready for per-recipient rendering. Kept per process while the campaign is
    unchanged, so CSS is inlined once per campaign and worker, not once per batch."""
    key = (campaign.pk, campaign.updated_at, campaign.started_at, campaign.sender_id)
    if campaign.pk is None or campaign.started_at is None:
        return _prepare(campaign)  # a draft being previewed changes from one call to the next
    if key not in _prepared:
        if len(_prepared) >= PREPARED_CACHE_SIZE:
            _prepared.pop(next(iter(_prepared)))
        _prepared[key] = _prepare(campaign)
    return _prepared[key]


def _prepare(campaign: EmailCampaign) -> PreparedCampaign:
    sender = campaign.sender
    from_email = f"{sender.name} <{sender.email}>" if sender else settings.DEFAULT_FROM_EMAIL
    domain = (sender.email if sender else "localhost").rsplit("@", 1)[-1]
    tracked = links.track(
        inline_css(campaign.html),
        utm=campaign.utm_parameters or {},
        clicks=campaign.track_clicks,
        opens=campaign.track_opens,
    )
    if campaign.started_at is not None:  # content is frozen: its links get their numbers
        links.store_links(campaign.pk, tracked.urls)
    return PreparedCampaign(
        subject=campaign.subject,
        html=tracked.html,
        text=campaign.text or text_from_html(tracked.html),
        from_email=from_email,
        reply_to=[campaign.reply_to] if campaign.reply_to else [],
        domain=domain,
        campaign_id=campaign.pk,
        links=tracked.urls,
    )


def unsubscribe_token(message: Message) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(message.pk))


def message_id_from_token(token: str) -> int:
    return int(signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token))


def message_from_token(token: str) -> Message | None:
    """The message an unsubscribe or "view in browser" link names, with what those pages read;
    None if the token was tampered with or the message is gone."""
    try:
        message_id = message_id_from_token(token)
    except (signing.BadSignature, ValueError):
        return None
    return (
        Message.objects.select_related("campaign__account", "contact").filter(pk=message_id).first()
    )


@dataclass(frozen=True)
class RenderedMessage:
    """One recipient's message, ready for any backend."""

    subject: str
    text: str
    html: str
    headers: dict[str, str]


def render_message(
    prepared: PreparedCampaign, message: Message, values: dict[str, str], *, preheader: str
) -> RenderedMessage:
    token = unsubscribe_token(message)
    base = settings.PUBLIC_BASE_URL
    unsubscribe_url = base + token.join(links.url_around_token("campaigns:unsubscribe"))
    extra = {
        "preheader": preheader,
        "unsubscribe_url": unsubscribe_url,
        "view_in_browser_url": base + token.join(links.url_around_token("campaigns:mirror")),
    }
    # MergeValues keeps its lazy contexts (cart.*) through the copy; a plain dict is copied.
    extended = getattr(values, "extended", None)
    values = extended(extra) if extended else {**values, **extra}

    def personalised(text: str, *, escape: bool) -> str:
        return links.personalise(
            merge_tags.render(text, values, escape=escape),
            campaign_id=prepared.campaign_id,
            message_id=message.pk,
            urls=prepared.links,
            escape=escape,
            values=values,
        )

    return RenderedMessage(
        subject=merge_tags.render(prepared.subject, values, escape=False),
        text=personalised(prepared.text, escape=False),
        html=personalised(prepared.html, escape=True),
        headers={
            "Message-ID": make_msgid(idstring=f"m{message.pk}", domain=prepared.domain),
            # RFC 8058 one-click unsubscribe, asked by Gmail and Yahoo of bulk senders.
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Precedence": "bulk",
        },
    )


def build_email(
    prepared: PreparedCampaign, message: Message, values: dict[str, str], *, preheader: str
) -> EmailMultiAlternatives:
    """The message as a Django email, for any backend (ESPs through django-anymail)."""
    rendered = render_message(prepared, message, values, preheader=preheader)
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=prepared.from_email,
        to=[message.email],
        reply_to=prepared.reply_to,
        headers=rendered.headers,
    )
    email.attach_alternative(rendered.html, "text/html")
    if message.pk:
        # ESP webhooks (django-anymail) bring this back with each bounce or complaint.
        email.metadata = {"sendethic_message_id": str(message.pk)}
    return email


def _quoted_printable(text: str) -> bytes:
    # binascii's C encoder: the email package's pure-Python one costs ~1 ms per 40 KB part.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").encode()
    return binascii.b2a_qp(lines, istext=True).replace(b"\n", b"\r\n")


ENCODED_WORD_BYTES = 45  # base64 of 45 bytes + "=?utf-8?b?" + "?=" fits a 75-character word


def _header(value: str) -> str:
    """An unstructured header value (the subject): as is when ASCII, else RFC 2047 base64
    encoded words cut between characters, folded. The email package's Header did the same at
    a tenth of the pipeline's time."""
    if value.isascii():
        return value
    words, chunk = [], b""
    for character in value:
        encoded = character.encode()
        if len(chunk) + len(encoded) > ENCODED_WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "\r\n ".join(
        f"=?utf-8?b?{binascii.b2a_base64(w, newline=False).decode()}?=" for w in words
    )


@lru_cache(maxsize=1024)
def _address(value: str) -> str:
    # Sender and reply-to are the same for every message of a campaign: encoded once.
    return sanitize_address(value, "utf-8")


def mime_bytes(prepared: PreparedCampaign, message: Message, rendered: RenderedMessage) -> bytes:
    """RFC 5322 bytes of a multipart/alternative message, built directly for SMTP delivery.

    Same headers and parts as build_email(); written by hand because building each message with
    the email package was the pipeline's main cost (DESIGN §10).
    """
    boundary = f"=_sendethic_{message.pk}_{secrets.token_hex(8)}"
    headers = {
        "From": _address(prepared.from_email),
        # A recipient is a bare address, checked on import: only an internationalised one
        # needs encoding.
        "To": message.email if message.email.isascii() else _address(message.email),
        "Subject": _header(rendered.subject),
        "Date": formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
        **rendered.headers,
        "MIME-Version": "1.0",
        "Content-Type": f'multipart/alternative; boundary="{boundary}"',
    }
    if prepared.reply_to:
        headers["Reply-To"] = ", ".join(_address(a) for a in prepared.reply_to)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode()
    parts = []
    for subtype, content in (("plain", rendered.text), ("html", rendered.html)):
        parts.append(
            f'--{boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n".encode()
            + _quoted_printable(content)
            + b"\r\n"
        )
    return head + b"\r\n" + b"".join(parts) + f"--{boundary}--\r\n".encode()
