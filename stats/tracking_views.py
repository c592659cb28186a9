"""The tracking endpoints every sent email points to: as little work as possible per request.

A click checks its token, finds the link's target (cached: a campaign's links never change once
it started) and appends one `TrackingHit`; an open appends one and answers a 1×1 GIF. The ingest
worker does the rest (stats/services/ingest.py).
"""

import base64
import re
from functools import lru_cache

from django.db import connection
from django.http import Http404, HttpResponse, HttpResponseNotFound, HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from stats.models import CampaignLink, TrackingHit
from stats.tokens import InvalidToken, read_click_token, read_open_token

PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = "no-store, no-cache, must-revalidate, max-age=0, private"


@lru_cache(maxsize=8192)
def _link_target(campaign_id: int, index: int) -> str | None:
    return (
        CampaignLink.objects.filter(campaign_id=campaign_id, index=index)
        .values_list("url", flat=True)
        .first()
    )


# The table name comes from the model; every value is a parameter.
INSERT_HIT = (
    f"INSERT INTO {TrackingHit._meta.db_table} (kind, campaign_id, message_id, link_index, "  # noqa: S608
    "occurred_at, user_agent, ip_address, method) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)


def _record(request, kind: str, campaign_id: int, message_id: int, link_index=None) -> None:
    # One plain INSERT (no model instance, no RETURNING): this runs for every open and click.
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_HIT,
            [
                kind,
                campaign_id,
                message_id,
                link_index,
                timezone.now(),
                request.META.get("HTTP_USER_AGENT", "")[:500],
                request.META.get("REMOTE_ADDR") or None,
                request.method,
            ],
        )


@csrf_exempt
@require_http_methods(["GET", "HEAD"])
def click(request, token):
    """Redirect to the link's stored target only: a tampered or unknown token is a 404, never a
    redirect elsewhere (no open redirect)."""
    try:
        tracked, index = read_click_token(token)
    except InvalidToken:
        raise Http404 from None
    target = _link_target(tracked.campaign_id, index)
    if target is None:
        raise Http404
    _record(request, TrackingHit.Kind.CLICK, tracked.campaign_id, tracked.message_id, index)
    response = HttpResponseRedirect(target)
    response["Cache-Control"] = NO_STORE
    response["Referrer-Policy"] = "no-referrer"
    return response


@csrf_exempt
@require_http_methods(["GET", "HEAD"])
def open_pixel(request, token):
    try:
        tracked = read_open_token(token)
    except InvalidToken:
        raise Http404 from None
    _record(request, TrackingHit.Kind.OPEN, tracked.campaign_id, tracked.message_id)
    response = HttpResponse(PIXEL_GIF, content_type="image/gif")
    response["Cache-Control"] = NO_STORE
    response["Expires"] = "0"
    return response


ROUTES = (
    (re.compile(r"^/t/c/(?P<token>[^/]+)$"), click),
    (re.compile(r"^/t/o/(?P<token>[^/]+)\.gif$"), open_pixel),
)


class TrackingMiddleware:
    """Serves the tracking endpoints before sessions, authentication, accounts and locale
    middleware: none of them applies to a pixel or a redirect, and together they cost more than
    the view itself. The same views stay in the URLconf (reverse(), tests)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith("/t/"):
            for pattern, view in ROUTES:
                match = pattern.match(request.path_info)
                if match:
                    try:
                        return view(request, **match.groupdict())
                    except Http404:
                        return HttpResponseNotFound(b"Not found", content_type="text/plain")
        return self.get_response(request)
