"""The tracking endpoints every sent email points to: as little work as possible per request.

A click checks its token, finds the link's target (cached: a campaign's links never change once
it started) and appends one `TrackingHit`; an open appends one and answers a 1×1 GIF. The ingest
worker does the rest (stats/services/ingest.py).
"""

import base64
from functools import lru_cache

from django.http import Http404, HttpResponse, HttpResponseRedirect
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


def _record(request, kind: str, campaign_id: int, message_id: int, link_index=None) -> None:
    TrackingHit.objects.create(
        kind=kind,
        campaign_id=campaign_id,
        message_id=message_id,
        link_index=link_index,
        occurred_at=timezone.now(),
        user_agent=request.headers.get("User-Agent", "")[:500],
        ip_address=request.META.get("REMOTE_ADDR") or None,
        method=request.method,
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
