"""Turning a campaign into messages: CSS inlined once per campaign, then per recipient only the
merge tags and links change."""

import re
from dataclasses import dataclass
from email.utils import make_msgid

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils.html import strip_tags
from premailer import Premailer

from campaigns import merge_tags
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
    text = strip_tags(with_breaks)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def prepare(campaign: EmailCampaign) -> PreparedCampaign:
    sender = campaign.sender
    from_email = f"{sender.name} <{sender.email}>" if sender else settings.DEFAULT_FROM_EMAIL
    domain = (sender.email if sender else "localhost").rsplit("@", 1)[-1]
    html = inline_css(campaign.html)
    return PreparedCampaign(
        subject=campaign.subject,
        html=html,
        text=campaign.text or text_from_html(html),
        from_email=from_email,
        reply_to=[campaign.reply_to] if campaign.reply_to else [],
        domain=domain,
    )


def unsubscribe_token(message: Message) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(message.pk))


def message_id_from_token(token: str) -> int:
    return int(signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token))


def build_email(
    prepared: PreparedCampaign, message: Message, values: dict[str, str], *, preheader: str
) -> EmailMultiAlternatives:
    unsubscribe_url = settings.PUBLIC_BASE_URL + reverse(
        "campaigns:unsubscribe", args=[unsubscribe_token(message)]
    )
    values = {
        **values,
        "preheader": preheader,
        "unsubscribe_url": unsubscribe_url,
        "view_in_browser_url": settings.PUBLIC_BASE_URL
        + reverse("campaigns:mirror", args=[unsubscribe_token(message)]),
    }
    email = EmailMultiAlternatives(
        subject=merge_tags.render(prepared.subject, values, escape=False),
        body=merge_tags.render(prepared.text, values, escape=False),
        from_email=prepared.from_email,
        to=[message.email],
        reply_to=prepared.reply_to,
        headers={
            "Message-ID": make_msgid(idstring=f"m{message.pk}", domain=prepared.domain),
            # RFC 8058 one-click unsubscribe, asked by Gmail and Yahoo of bulk senders.
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Precedence": "bulk",
        },
    )
    email.attach_alternative(merge_tags.render(prepared.html, values, escape=True), "text/html")
    return email
