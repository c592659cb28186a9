import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sendethic.settings")

app = Celery("sendethic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def route_sends_by_channel(name, args, kwargs, options, task=None, **kw):
    """The engine's one send task serves every channel: each channel's sends go to the queue
    named after it (`email`, `sms`), so a big SMS campaign never delays an email one and a
    worker pool can be given to each. Other tasks fall through to CELERY_TASK_ROUTES' patterns."""
    if name != "campaigns.tasks.send_campaign_task":
        return None
    channel = kwargs.get("channel") or (args[1] if len(args or ()) > 1 else "email")
    return {"queue": channel}
