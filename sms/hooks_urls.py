"""Provider webhooks, mounted under /sms/hooks/ (sendethic/urls.py)."""

from django.urls import path

from sms import webhooks

app_name = "sms_hooks"

urlpatterns = [
    path("twilio/status/", webhooks.twilio_status, name="twilio_status"),
    path("twilio/inbound/", webhooks.twilio_inbound, name="twilio_inbound"),
]
