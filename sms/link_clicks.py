"""Following an SMS short link: the stored link of the token's message, one click recorded for
that message (and announced, as the email channel's clicks are), or nothing at all.

Messaging apps fetch a link to show its preview as soon as the SMS arrives (iMessage with
Facebook's and Twitter's crawler names, WhatsApp, Telegram…), and scanners follow links: those
clicks are kept, marked as a machine's, and left out of the report's click counts."""

from django.db import transaction
from django.utils import timezone

from accounts.domain_events import send_on_commit
from campaigns.signals import message_clicked
from sms import short_links
from sms.models import SmsClick, SmsLink, SmsMessage

# Lower-case parts of the user agents of link previews, crawlers and scripts.
MACHINE_MARKERS = (
    "facebookexternalhit", "facebot", "twitterbot", "whatsapp", "telegrambot", "slackbot",
    "discordbot", "skypeuripreview", "linkedinbot", "googlebot", "bingbot", "bot/", "bot;",
    "crawler", "spider", "preview", "curl/", "wget/", "python-", "go-http-client", "okhttp",
)  # fmt: skip


def is_machine(user_agent: str, method: str = "GET") -> bool:
    """A HEAD request (a person's browser sends GET) or an agent that names a machine."""
    agent = user_agent.casefold()
    return method == "HEAD" or not agent or any(marker in agent for marker in MACHINE_MARKERS)


@transaction.atomic
def short_link_follow(*, token: str, user_agent: str = "", method: str = "GET") -> str | None:
    """The address to redirect to, the click recorded; None for a tampered or unknown token
    (the caller answers 404: never a redirect to anything but a stored link)."""
    try:
        message_id, index = short_links.read_token(token)
    except short_links.InvalidToken:
        return None
    message = (
        SmsMessage.objects.filter(pk=message_id)
        .select_related("campaign")
        .only("pk", "contact_id", "campaign__id", "campaign__account_id")
        .first()
    )
    if message is None:
        return None
    url = (
        SmsLink.objects.filter(campaign_id=message.campaign_id, index=index)
        .values_list("url", flat=True)
        .first()
    )
    if url is None:
        return None
    now = timezone.now()
    machine = is_machine(user_agent, method)
    SmsClick.objects.create(
        message=message,
        campaign_id=message.campaign_id,
        link_index=index,
        clicked_at=now,
        user_agent=user_agent[:500],
        machine=machine,
    )
    send_on_commit(
        message_clicked,
        sender=SmsMessage,
        message_id=message.pk,
        campaign_id=message.campaign_id,
        account_id=message.campaign.account_id,
        contact_id=message.contact_id,
        channel="sms",
        at=now,
        url=url,
        machine=machine,
    )
    return url
