"""Liveness/readiness endpoint for load balancers and docker healthchecks.

It sits first in the middleware chain so that it answers on any Host header and over plain
HTTP: a container probe hits 127.0.0.1 and must not be refused by ALLOWED_HOSTS or redirected
to HTTPS.
"""

import logging

from django.db import connection
from django.http import JsonResponse

from sendethic.celery import app as celery_app

HEALTH_PATH = "/health/"
# Liveness only (the process answers): no database or broker round trip, for orchestrators
# that restart a container on failure, and as the trivial baseline of the HTTP benchmarks.
LIVENESS_PATH = "/health/live/"
logger = logging.getLogger(__name__)


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("health: database check failed")
        return False


def check_broker() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
        return True
    except Exception:
        logger.exception("health: broker check failed")
        return False


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == LIVENESS_PATH:
            return JsonResponse({"status": "ok"})
        if request.path != HEALTH_PATH:
            return self.get_response(request)
        checks = {"database": check_database(), "broker": check_broker()}
        healthy = all(checks.values())
        body = {"status": "ok" if healthy else "error"}
        body.update({name: "ok" if ok else "error" for name, ok in checks.items()})
        return JsonResponse(body, status=200 if healthy else 503)
