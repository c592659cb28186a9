from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from apikeys.models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Per-key request budget, shared by all web processes through the cache (Redis in production)."""

    scope = "api_key"

    def get_rate(self):
        return settings.API_KEY_RATE

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey):
            return f"throttle:api_key:{request.auth.pk}"
        return None
