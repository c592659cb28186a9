import zoneinfo

from django.conf import settings
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

from accounts.selectors import membership_for

SESSION_ACCOUNT_KEY = "account_id"
SUPPORTED_LANGUAGES = {code for code, _name in settings.LANGUAGES}


def _chosen_language(request, account) -> str:
    """French first: the visitor's explicit switch, else the account's language, else French.

    API clients get English unless they ask for French, since developers read the errors.
    """
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if cookie in SUPPORTED_LANGUAGES:
        return cookie
    if request.path.startswith("/api/"):
        accepted = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
        return "fr" if accepted.lower().startswith("fr") else "en"
    if account is not None:
        return account.language
    return settings.LANGUAGE_CODE


class CurrentAccountMiddleware:
    """Sets `request.membership` and `request.account` from the session's chosen account."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        membership = None
        if request.user.is_authenticated:
            membership = membership_for(request.user, request.session.get(SESSION_ACCOUNT_KEY))
        request.membership = membership
        request.account = membership.account if membership else None

        language = _chosen_language(request, request.account)
        request.LANGUAGE_CODE = language
        if request.account is not None:
            timezone.activate(zoneinfo.ZoneInfo(request.account.timezone))
        try:
            # override, not activate: the thread's language is restored after the response, so
            # nothing else running in this thread later inherits this visitor's language.
            with translation.override(language):
                response = self.get_response(request)
        finally:
            timezone.deactivate()
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie", "Accept-Language"))
        return response
