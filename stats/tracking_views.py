"""The tracking endpoints as Django views: what reverse() names, what the test client and any
server without the WSGI layer of stats/tracking.py reach. Same functions, same answers."""

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from stats.models import TrackingHit
from stats.tracking import NO_STORE, PIXEL_GIF, record_hit, resolve_click, resolve_open


def _client(request) -> dict:
    return {
        "user_agent": request.META.get("HTTP_USER_AGENT", ""),
        "ip_address": request.META.get("REMOTE_ADDR"),
        "method": request.method,
    }


@csrf_exempt
@require_http_methods(["GET", "HEAD"])
def click(request, token):
    """Redirect to the link's stored target only: a tampered or unknown token is a 404, never a
    redirect elsewhere (no open redirect)."""
    resolved = resolve_click(token)
    if resolved is None:
        raise Http404
    tracked, index, target = resolved
    record_hit(TrackingHit.Kind.CLICK, tracked, link_index=index, **_client(request))
    response = HttpResponseRedirect(target)
    response["Cache-Control"] = NO_STORE
    response["Referrer-Policy"] = "no-referrer"
    return response


@csrf_exempt
@require_http_methods(["GET", "HEAD"])
def open_pixel(request, token):
    tracked = resolve_open(token)
    if tracked is None:
        raise Http404
    record_hit(TrackingHit.Kind.OPEN, tracked, link_index=None, **_client(request))
    response = HttpResponse(PIXEL_GIF, content_type="image/gif")
    response["Cache-Control"] = NO_STORE
    response["Expires"] = "0"
    return response
