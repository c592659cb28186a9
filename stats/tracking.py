"""The tracking endpoints every sent email points to (DESIGN §6): as little work as possible.

A click checks its token, finds the link's target (cached: a campaign's links never change once
it started) and appends one `TrackingHit`; an open appends one and answers a 1×1 GIF. The ingest
worker does the rest (stats/services/ingest.py).

Served twice over the same functions: by `TrackingApplication`, a WSGI layer in front of Django
(sendethic/wsgi.py) that answers `/t/…` without building a Django request, running middleware or
sending signals — that machinery cost more than the work itself under load —, and by ordinary
Django views (stats/tracking_views.py) for reverse(), the test client and any other server.
"""

import base64
import logging
import re
from functools import lru_cache

from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from campaigns import links, merge_tags
from campaigns.models import CampaignLink, Message
from campaigns.tokens import InvalidToken, TrackedMessage, read_click_token, read_open_token
from contacts.models import Contact
from stats.models import TrackingHit

logger = logging.getLogger(__name__)

PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = "no-store, no-cache, must-revalidate, max-age=0, private"
CLICK_PATH = re.compile(r"^/t/c/(?P<token>[^/]+)$")
OPEN_PATH = re.compile(r"^/t/o/(?P<token>[^/]+)\.gif$")
# The table name comes from the model; every value is a parameter.
INSERT_HIT = (
    f"INSERT INTO {TrackingHit._meta.db_table} (kind, campaign_id, message_id, link_index, "  # noqa: S608
    "occurred_at, user_agent, ip_address, method) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)


@lru_cache(maxsize=8192)
def link_target(campaign_id: int, index: int) -> str | None:
    # Safe to keep per process: links are numbered when sending starts and never change, and
    # campaign ids are never reused (sequences; AUTOINCREMENT on SQLite).
    return (
        CampaignLink.objects.filter(campaign_id=campaign_id, index=index)
        .values_list("url", flat=True)
        .first()
    )


def resolve_click(token: str) -> tuple[TrackedMessage, int, str] | None:
    """The message, link index and stored target of a click token; None if tampered or
    unknown (the caller answers 404: never a redirect to anything not stored). A personalised
    link's target is filled in with its recipient's values, on the stored host only."""
    try:
        tracked, index = read_click_token(token)
    except InvalidToken:
        return None
    target = link_target(tracked.campaign_id, index)
    if target is not None and links.is_templated(target):
        target = personalised_target(tracked, target)
    return None if target is None else (tracked, index, target)


def personalised_target(tracked: TrackedMessage, template: str) -> str | None:
    """One query (the message with its contact and account), only for personalised links."""
    message = (
        Message.objects.select_related("contact", "campaign__account")
        .filter(pk=tracked.message_id, campaign_id=tracked.campaign_id)
        .first()
    )
    if message is None:
        return None
    account = message.campaign.account
    # An erased contact's link still leads to the page, with its personal values left empty.
    contact = message.contact or Contact(account=account, fields={})
    return links.fill_in(template, merge_tags.contact_values(contact, account))


def resolve_open(token: str) -> TrackedMessage | None:
    try:
        return read_open_token(token)
    except InvalidToken:
        return None


def record_hit(
    kind: str,
    tracked: TrackedMessage,
    *,
    link_index: int | None,
    user_agent: str,
    ip_address: str | None,
    method: str,
) -> None:
    """One plain INSERT (no model instance, no RETURNING), committed at once (autocommit)."""
    params = [
        kind, tracked.campaign_id, tracked.message_id, link_index, timezone.now(),
        user_agent[:500], ip_address or None, method[:8],
    ]  # fmt: skip
    for attempt in (1, 2):
        try:
            with connection.cursor() as cursor:
                cursor.execute(INSERT_HIT, params)
            return
        except (InterfaceError, OperationalError):
            # A persistent connection the server closed (restart, idle timeout): reconnect once.
            connection.close()
            if attempt == 2:
                raise


class TrackingApplication:
    """WSGI application answering the tracking paths itself and passing the rest to Django."""

    def __init__(self, django_application):
        self.django_application = django_application

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if not path.startswith("/t/") or method not in ("GET", "HEAD"):
            return self.django_application(environ, start_response)
        user_agent = environ.get("HTTP_USER_AGENT", "")
        ip_address = environ.get("REMOTE_ADDR")
        click = CLICK_PATH.match(path)
        if click:
            resolved = resolve_click(click.group("token"))
            if resolved is None:
                return self._not_found(start_response)
            tracked, index, target = resolved
            record_hit(
                TrackingHit.Kind.CLICK, tracked, link_index=index, user_agent=user_agent,
                ip_address=ip_address, method=method,
            )  # fmt: skip
            start_response(
                "302 Found",
                [("Location", target), ("Cache-Control", NO_STORE),
                 ("Referrer-Policy", "no-referrer"), ("Content-Length", "0")],
            )  # fmt: skip
            return [b""]
        pixel = OPEN_PATH.match(path)
        if pixel:
            tracked = resolve_open(pixel.group("token"))
            if tracked is None:
                return self._not_found(start_response)
            record_hit(
                TrackingHit.Kind.OPEN, tracked, link_index=None, user_agent=user_agent,
                ip_address=ip_address, method=method,
            )  # fmt: skip
            start_response(
                "200 OK",
                [("Content-Type", "image/gif"), ("Content-Length", str(len(PIXEL_GIF))),
                 ("Cache-Control", NO_STORE), ("Expires", "0"),
                 ("X-Content-Type-Options", "nosniff")],
            )  # fmt: skip
            return [b"" if method == "HEAD" else PIXEL_GIF]
        return self.django_application(environ, start_response)

    @staticmethod
    def _not_found(start_response):
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
        return [b"Not found"]
