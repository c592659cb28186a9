import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sendethic.settings")

django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402

from sendethic.proxies import behind_trusted_proxies  # noqa: E402
from stats.tracking import TrackingApplication  # noqa: E402 - needs Django set up first

# Opens and clicks are answered before Django's request handling (stats/tracking.py); the
# client's address is read through the trusted proxies before either (sendethic/proxies.py).
application = behind_trusted_proxies(
    TrackingApplication(django_application), settings.TRUSTED_PROXY_COUNT
)
