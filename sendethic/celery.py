import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sendethic.settings")

app = Celery("sendethic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
