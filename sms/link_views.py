"""The public redirect of SMS short links (no login, no session, no CSRF)."""

from django.http import Http404, HttpResponseRedirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sms.link_clicks import short_link_follow


@csrf_exempt
@require_http_methods(["GET", "HEAD"])
def short_link(request, token):
    url = short_link_follow(
        token=token,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        method=request.method,
    )
    if url is None:
        raise Http404
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, max-age=0, private"
    response["Referrer-Policy"] = "no-referrer"
    return response
