"""Segments on SMS activity: received an SMS campaign (or any), replied STOP, within the last
N days."""

from datetime import UTC, date, datetime

import pytest

from contacts.normalization import InvalidValue
from contacts.segments.compiler import segment_queryset
from sms.models import SmsMessage, SmsReply
from sms.segments import clean_sms_activity
from tests.factories import AccountFactory, ContactFactory
from tests.sms.factories import SmsCampaignFactory

pytestmark = pytest.mark.django_db
TODAY = date(2025, 6, 20)


def rule(op, campaign=None, days=None):
    return {
        "all": [{"field": "sms_activity", "op": op, "value": {"campaign": campaign, "days": days}}]
    }


def test_received_by_campaign_and_within_days(account):
    soldes = SmsCampaignFactory(account=account)
    other = SmsCampaignFactory(account=account, sender=soldes.sender)
    recent, old, failed, never = (ContactFactory(account=account) for _ in range(4))
    SmsMessage.objects.create(
        campaign=soldes,
        contact=recent,
        mobile="+33600000001",
        status="sent",
        sent_at=datetime(2025, 6, 18, 10, tzinfo=UTC),
    )
    SmsMessage.objects.create(
        campaign=other,
        contact=old,
        mobile="+33600000002",
        status="sent",
        sent_at=datetime(2025, 4, 1, 10, tzinfo=UTC),
    )
    SmsMessage.objects.create(campaign=soldes, contact=failed, mobile="+33600000003",
                              status="failed")  # fmt: skip

    def matching(rules):
        return set(segment_queryset(account, rules, today=TODAY))

    assert matching(rule("received")) == {recent, old}
    assert matching(rule("received", campaign=soldes.pk)) == {recent}
    assert matching(rule("received", days=30)) == {recent}
    assert matching(rule("not_received", days=30)) == {old, failed, never}


def test_another_accounts_campaign_is_refused(account):
    foreign = SmsCampaignFactory(account=AccountFactory())
    with pytest.raises(InvalidValue):
        clean_sms_activity(account, "received", {"campaign": foreign.pk, "days": None})
    with pytest.raises(InvalidValue):
        clean_sms_activity(account, "received", {"days": 0})
    with pytest.raises(InvalidValue):
        clean_sms_activity(account, "received", {"since": 3})


def test_the_api_takes_an_sms_activity_value_and_404s_another_accounts_campaign(
    account, api_client
):
    # The value's schema is published like email activity's: without it, the API refused any
    # value ("this operator takes no value").
    soldes = SmsCampaignFactory(account=account)
    foreign = SmsCampaignFactory(account=AccountFactory())

    counted = api_client.post(
        "/api/v1/segments/preview/", {"rules": rule("received", soldes.pk, 30)}, format="json"
    )
    refused = api_client.post(
        "/api/v1/segments/preview/", {"rules": rule("received", foreign.pk)}, format="json"
    )

    assert counted.status_code == 200, counted.json()
    assert refused.status_code == 404
    assert "rules.all[0]" in refused.json()["fields"]


def stop(account, mobile, at, campaign=None, text="STOP", provider_id=None):
    return SmsReply.objects.create(
        account=account, campaign=campaign, provider="twilio",
        provider_id=provider_id or f"SM{mobile}{at:%j}", mobile=mobile, to="36180", text=text,
        is_stop=text.upper().startswith(("STOP", "ARRET")), received_at=at,
    )  # fmt: skip


def test_replied_stop_within_days_by_campaign_matched_on_the_number(account, api_client):
    soldes = SmsCampaignFactory(account=account)
    recent, old, chatty, never = (
        ContactFactory(account=account, mobile=f"+3361234560{n}") for n in range(4)
    )
    no_mobile = ContactFactory(account=account, mobile="")
    stop(account, str(recent.mobile), datetime(2025, 6, 19, 21, tzinfo=UTC), campaign=soldes)
    stop(account, str(old.mobile), datetime(2025, 3, 1, 10, tzinfo=UTC))
    stop(account, str(chatty.mobile), datetime(2025, 6, 19, 10, tzinfo=UTC), text="Merci !")
    # another account's STOP from this contact's number is not this account's
    stop(AccountFactory(), str(never.mobile), datetime(2025, 6, 19, 10, tzinfo=UTC))

    def matching(rules):
        return set(segment_queryset(account, rules, today=TODAY))

    assert matching(rule("replied_stop")) == {recent, old}
    assert matching(rule("replied_stop", days=30)) == {recent}
    assert matching(rule("replied_stop", campaign=soldes.pk)) == {recent}
    assert matching(rule("not_replied_stop", days=30)) == {old, chatty, never, no_mobile}
    # a contact created after its number replied has it too
    later = ContactFactory(account=account, mobile="+33699999999")
    stop(account, "+33699999999", datetime(2025, 6, 1, tzinfo=UTC), provider_id="SMlater")
    assert later in matching(rule("replied_stop", days=30))
    # the API takes it, and its schema lists the operator
    counted = api_client.post(
        "/api/v1/segments/preview/", {"rules": rule("replied_stop", None, 7)}, format="json"
    )
    assert counted.status_code == 200, counted.json()
    assert "replied_stop" in str(api_client.get("/api/schema/").content)
