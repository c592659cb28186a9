import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sendethic.settings")

django_application = get_wsgi_application()

# Opens and clicks are answered before Django's request handling (stats/tracking.py).
from stats.tracking import TrackingApplication  # noqa: E402 - needs Django set up first

application = TrackingApplication(django_application)
