"""The SMS backends of the settings, each driven by the engine's protocol."""

import io
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.engine import sending
from campaigns.engine.channel import Sent
from campaigns.engine.lifecycle import campaign_start
from sms import quiet_hours
from sms.backends import OutgoingSms, get_backend
from sms.backends.console import SmsBackend as ConsoleBackend
from sms.channel import SMS, PreparedSms
from sms.models import OutboxSms, SmsMessage
from tests.factories import ContactFactory, ContactListFactory, ListMembershipFactory
from tests.sms.factories import SmsCampaignFactory

SMS_TO_ALICE = OutgoingSms(
    account_id=1,
    message_id=None,
    sender="Boutique",
    mobile="+33612345678",
    text="Bonjour Alice\nSTOP au 36180",
    encoding="GSM-7",
    segments=1,
)


def test_the_console_backend_prints_each_sms():
    stream = io.StringIO()
    backend = ConsoleBackend(stream)

    backend.open()
    outcome = backend.send(SMS_TO_ALICE)
    backend.close()

    assert isinstance(outcome, Sent)
    printed = stream.getvalue()
    assert "SMS from Boutique to +33612345678 (GSM-7, 1 segment(s))" in printed
    assert "Bonjour Alice\nSTOP au 36180" in printed


def test_the_backend_is_chosen_by_the_settings(settings):
    settings.SMS_BACKEND = "sms.backends.console.SmsBackend"
    assert isinstance(get_backend(), ConsoleBackend)


@pytest.mark.django_db
def test_the_outbox_backend_keeps_every_sms_with_its_account(account, settings, clock):
    # given
    settings.SMS_BACKEND = "sms.backends.outbox.SmsBackend"
    clock(datetime(2025, 6, 11, 9, 0, tzinfo=UTC))
    newsletter = ContactListFactory(account=account)
    contact = ContactFactory(
        account=account, mobile="+33612345678", first_name="Alice", sms_status="subscribed"
    )
    ListMembershipFactory(contact_list=newsletter, contact=contact)
    campaign = SmsCampaignFactory(
        account=account, lists=[newsletter], text="Bonjour {{ first_name }}"
    )
    campaign_start(campaign=campaign)

    # when
    sending.send_batch(SMS, campaign.pk)

    # then
    kept = OutboxSms.objects.get()
    message = SmsMessage.objects.get(campaign=campaign)
    assert (kept.account, kept.message, kept.mobile, kept.sender) == (
        account,
        message,
        "+33612345678",
        "Boutique",
    )
    assert kept.text == "Bonjour Alice\nSTOP au 36180"
    assert (kept.encoding, kept.segments) == ("GSM-7", 1)
    assert message.message_id == f"outbox-{kept.pk}"


MOBILES = [
    "+33612345678",
    "+262692123456",
    "+262639012345",
    "+590690001234",
    "+596696201234",
    "+594694201234",
]


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
    ),
    st.sampled_from(MOBILES),
    st.booleans(),
)
def test_the_channel_lets_a_marketing_sms_go_only_inside_its_window(now, mobile, marketing):
    prepared = PreparedSms(account=None, sender="", text="", marketing=marketing)

    until = SMS.not_before(prepared, SmsMessage(mobile=mobile), now)

    if not marketing:
        assert until is None
        return
    region = quiet_hours.region_of(mobile)
    if until is None:
        assert quiet_hours.next_allowed(now, region) == now
    else:
        assert until > now
        assert quiet_hours.next_allowed(until, region) == until
