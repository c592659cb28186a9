"""An SMS step goes through the SMS channel: consent at the send, the legal hours applied."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from automations import engine
from automations.models import DueStep
from automations.services import scenario_enrol
from sms.backends import locmem
from sms.models import SmsMessage, SmsSender
from tests.factories import ContactFactory

WEDNESDAY_11H_PARIS = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
SUNDAY_11H_PARIS = datetime(2026, 6, 14, 9, 0, tzinfo=UTC)
CONSENTED = {"all": [{"field": "sms_status", "op": "in", "value": ["subscribed"]}]}


@pytest.fixture
def sms_outbox(settings):
    settings.SMS_BACKEND = "sms.backends.locmem.SmsBackend"
    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()


@pytest.fixture
def sms_scenario(account, make_scenario):
    sender = SmsSender.objects.create(account=account, value="Boutique")
    return make_scenario(
        [{"id": "text", "kind": "sms",
          "config": {"text": "Bonjour {{ first_name }}, -20 % ce week-end", "sender_id": sender.pk}}],
        audience_rules=CONSENTED,
    )  # fmt: skip


@pytest.mark.django_db
def test_an_sms_step_sends_within_the_legal_hours(account, sms_scenario, sms_outbox, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: WEDNESDAY_11H_PARIS)
    zoe = ContactFactory(account=account, first_name="Zoé", mobile="+33612345678",
                         sms_status="subscribed")  # fmt: skip
    scenario_enrol(scenario=sms_scenario, contact_ids=[zoe.pk])
    engine.drain()
    assert len(sms_outbox) == 1
    assert sms_outbox[0].text.startswith("Bonjour Zoé, -20 % ce week-end")
    assert DueStep.objects.get().outcome == "sent"


@pytest.mark.django_db
def test_on_a_sunday_the_sms_waits_for_the_legal_hours(
    account, sms_scenario, sms_outbox, monkeypatch
):
    monkeypatch.setattr(timezone, "now", lambda: SUNDAY_11H_PARIS)
    zoe = ContactFactory(account=account, mobile="+33612345678", sms_status="subscribed")
    scenario_enrol(scenario=sms_scenario, contact_ids=[zoe.pk])
    engine.drain()
    assert sms_outbox == []
    message = SmsMessage.objects.get()
    assert message.status == "queued" and message.next_attempt_at > SUNDAY_11H_PARIS
    assert DueStep.objects.get().outcome == "queued"  # the step is done; the engine sends later
