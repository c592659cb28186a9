"""Site-wide views that belong to no app."""

from django.http import HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularAPIView

# Links in sent emails (tracking, unsubscribe, mirror pages) are personal: crawlers stay out.
ROBOTS_TXT = "User-agent: *\nDisallow: /t/\nDisallow: /email/\nDisallow: /api/\n"


@require_GET
@cache_control(max_age=86400, public=True)
def robots_txt(request):
    return HttpResponse(ROBOTS_TXT, content_type="text/plain; charset=utf-8")


class SchemaView(SpectacularAPIView):
    """The OpenAPI document, as YAML or JSON. `?format=json` / `?format=yaml` choose, as the
    documentation promises; the API turns that parameter off elsewhere (it belongs to exports)."""

    def get_format_suffix(self, **kwargs):
        return self.request.query_params.get("format") or super().get_format_suffix(**kwargs)
