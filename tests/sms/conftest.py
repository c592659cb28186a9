import pytest

from campaigns.engine import lifecycle
from sms.backends import locmem


@pytest.fixture(autouse=True)
def enqueued():
    """The sends the engine enqueues, recorded instead of published."""
    sends = []
    previous = lifecycle._dispatch
    lifecycle.set_dispatcher(lambda channel, campaign_id: sends.append((channel, campaign_id)))
    yield sends
    lifecycle.set_dispatcher(previous)


@pytest.fixture
def sms_outbox(settings):
    """The locmem backend's outbox, empty, and that backend in the settings."""
    settings.SMS_BACKEND = "sms.backends.locmem.SmsBackend"
    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()


@pytest.fixture
def clock(monkeypatch):
    """Sets the time every `timezone.now()` returns (the engine's, the models')."""
    from django.utils import timezone

    def set_to(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return set_to
