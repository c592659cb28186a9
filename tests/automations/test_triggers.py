"""What makes contacts enter: domain events, date triggers, segments; and what makes them leave."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from automations import engine
from automations.models import Enrolment
from automations.triggers import run_date_triggers, run_segment_triggers
from connectors.models import ShopOrder
from connectors.signals import cart_abandoned, order_placed
from contacts.models import Contact, ContactList
from contacts.services.consent import ConsentProof
from contacts.services.contacts import contact_upsert
from contacts.services.lists import list_add_contacts
from tests.automations.conftest import email_step, wait_step
from tests.factories import AccountFactory, ContactFactory, ContactListFactory

STEP = [{"id": "x", "kind": "update_field", "config": {"field": "company", "value": "in"}}]


def send_now(signal, sender, **payload):
    for _receiver, outcome in signal.send_robust(sender=sender, **payload):
        if isinstance(outcome, Exception):
            raise outcome


@pytest.mark.django_db
def test_a_created_contact_enters(account, make_scenario, django_capture_on_commit_callbacks):
    make_scenario(STEP, trigger="contact_created")
    with django_capture_on_commit_callbacks(execute=True):
        contact, created = contact_upsert(
            account=account, data={"email": "new@example.com"}, proof=ConsentProof()
        )
    assert created and Enrolment.objects.get().contact == contact


@pytest.mark.django_db
def test_created_contacts_cost_one_scenario_query_per_account_not_one_each(
    account, django_capture_on_commit_callbacks
):
    """An import or a shop sync creates thousands of contacts: with no scenario listening, the
    receivers read the account's active triggers once (then from the cache)."""
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        for index in range(20):
            contact_upsert(
                account=account, data={"email": f"c{index}@example.com"}, proof=ConsentProof()
            )
    asked = [q["sql"] for q in queries.captured_queries if "automations_scenario" in q["sql"]]
    assert len(asked) == 1


@pytest.mark.django_db
def test_a_scenario_activated_after_contacts_came_still_sees_the_next_one(
    account, make_scenario, django_capture_on_commit_callbacks
):
    """The cached set of active triggers is forgotten when a scenario is activated."""
    with django_capture_on_commit_callbacks(execute=True):
        contact_upsert(account=account, data={"email": "before@example.com"}, proof=ConsentProof())
    make_scenario(STEP, trigger="contact_created")
    with django_capture_on_commit_callbacks(execute=True):
        after, _ = contact_upsert(
            account=account, data={"email": "after@example.com"}, proof=ConsentProof()
        )
    assert [e.contact for e in Enrolment.objects.all()] == [after]


@pytest.mark.django_db
def test_joining_the_list_enrols_once(account, make_scenario, django_capture_on_commit_callbacks):
    vip = ContactListFactory(account=account)
    other = ContactListFactory(account=account)
    zoe = ContactFactory(account=account)
    make_scenario(STEP, trigger="list_joined", trigger_config={"list_id": vip.pk})
    with django_capture_on_commit_callbacks(execute=True):
        list_add_contacts(contact_list=other, contact_ids=[zoe.pk])
    assert not Enrolment.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        list_add_contacts(contact_list=vip, contact_ids=[zoe.pk])
        list_add_contacts(contact_list=ContactList.objects.get(pk=vip.pk), contact_ids=[zoe.pk])
    assert Enrolment.objects.filter(contact=zoe).count() == 1


@pytest.mark.django_db
def test_the_birthday_trigger_runs_once_a_local_day_at_its_hour(account, make_scenario):
    # given birthdays today (Paris), tomorrow, and a 29 February in a year without one
    today = ContactFactory(account=account, birth_date=date(1990, 3, 2))
    ContactFactory(account=account, birth_date=date(1985, 3, 3))
    leap = ContactFactory(account=account, birth_date=date(2000, 2, 29))
    ContactFactory(account=AccountFactory(), birth_date=date(1990, 3, 2))  # another account
    make_scenario(
        STEP,
        trigger="date_anniversary",
        trigger_config={"field": "birth_date", "time": "09:00"},
        entry_rule="again_after",
        reentry_days=300,
    )
    # when the beat ticks before 09:00 Paris, then after, then again
    assert run_date_triggers(now=datetime(2026, 3, 2, 7, 30, tzinfo=UTC)) == 0
    assert run_date_triggers(now=datetime(2026, 3, 2, 8, 5, tzinfo=UTC)) == 1
    assert run_date_triggers(now=datetime(2026, 3, 2, 9, 5, tzinfo=UTC)) == 0
    # then
    assert Enrolment.objects.get().contact == today
    assert run_date_triggers(now=datetime(2026, 2, 28, 9, 0, tzinfo=UTC)) == 1
    assert Enrolment.objects.filter(contact=leap).exists()


@pytest.mark.django_db
def test_an_anniversary_days_before_and_a_relative_date(account, make_scenario):
    from contacts.services.fields import field_create

    field_create(account=account, key="delivered", label="Livré", type="date")
    soon = ContactFactory(account=account, birth_date=date(1990, 3, 9))
    delivered = ContactFactory(account=account, fields={"delivered": "2026-02-23"})
    from contacts.typed_values import layout_for_writing

    for contact in (soon, delivered):
        layout_for_writing(account.pk).apply(contact)
        contact.save()
    make_scenario(
        STEP,
        trigger="date_anniversary",
        trigger_config={"field": "birth_date", "days_before": 7},
    )
    make_scenario(
        STEP,
        trigger="relative_date",
        trigger_config={"field": "fields.delivered", "days_after": 7},
    )
    assert run_date_triggers(now=datetime(2026, 3, 2, 10, 0, tzinfo=UTC)) == 2
    assert {e.contact for e in Enrolment.objects.all()} == {soon, delivered}


@pytest.mark.django_db
def test_an_abandoned_cart_enrols_with_its_content_and_an_order_takes_it_out(
    account, sender, make_scenario, smtp_server
):
    # given
    ContactFactory(account=account, email="zoe@example.com", email_status="subscribed")
    make_scenario(
        [email_step("remind", sender), wait_step("day", hours=24), email_step("again", sender)],
        trigger="cart_abandoned",
        exit_event="order_placed",
        entry_rule="not_inside",
    )
    payload = {"account_id": account.pk, "email": "zoe@example.com", "cart_key": "1:7:t",
               "items": [{"name": "Bottes"}], "total": "89.00", "currency": "EUR"}  # fmt: skip
    # when the same cart is announced twice
    send_now(cart_abandoned, None, **payload)
    send_now(cart_abandoned, None, **payload)
    engine.drain()
    # then one enrolment, one email; the cart is in the enrolment's context
    enrolment = Enrolment.objects.get()
    assert enrolment.context["cart"]["items"] == [{"name": "Bottes"}]
    assert len(smtp_server.messages) == 1
    # when the order is placed
    send_now(order_placed, ShopOrder, account_id=account.pk, email="zoe@example.com",
             order_key="1:99", total="89", currency="EUR", created_at="")  # fmt: skip
    engine.drain(now=engine.timezone.now() + engine.timedelta(hours=25))
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.exit_reason) == ("exited", "order_placed")
    assert len(smtp_server.messages) == 1


@pytest.mark.django_db
def test_waiting_for_an_event_is_released_by_it(account, make_scenario):
    zoe = ContactFactory(account=account, email="zoe@example.com")
    scenario = make_scenario(
        [
            {"id": "w", "kind": "wait",
             "config": {"mode": "event", "event": "order_placed", "timeout_hours": 48}},
            *STEP,
        ],
        trigger="manual",
    )  # fmt: skip
    from automations.services import contact_enrol

    contact_enrol(scenario=scenario, contact=zoe)
    assert engine.drain() == 0
    send_now(order_placed, ShopOrder, account_id=account.pk, email="zoe@example.com",
             order_key="1:5", total="1", currency="EUR", created_at="")  # fmt: skip
    assert engine.drain() == 2
    assert Enrolment.objects.get().steps.first().outcome == "event"


@pytest.mark.django_db
def test_a_click_and_an_sms_stop_are_triggers(account, make_scenario):
    zoe = ContactFactory(account=account)
    make_scenario(STEP, trigger="email_clicked")
    make_scenario(STEP, trigger="sms_stop")
    from campaigns.signals import message_clicked
    from contacts.signals import contact_unsubscribed

    send_now(message_clicked, None, account_id=account.pk, contact_id=zoe.pk, campaign_id=3,
             channel="email", machine=False, message_id=1, url="", at=None)  # fmt: skip
    send_now(contact_unsubscribed, Contact, account_id=account.pk, contact_id=zoe.pk,
             channel="sms", source="sms")  # fmt: skip
    assert Enrolment.objects.filter(contact=zoe).count() == 2


@pytest.mark.django_db
def test_entering_a_segment_enrols_each_contact_once(account, make_scenario):
    paris = ContactFactory(account=account, city="Paris")
    ContactFactory(account=account, city="Lyon")
    make_scenario(
        STEP,
        trigger="segment_entered",
        trigger_config={"rules": {"all": [{"field": "city", "op": "eq", "value": "Paris"}]}},
    )
    assert run_segment_triggers() == 1
    assert run_segment_triggers() == 0
    assert Enrolment.objects.get().contact == paris


def _delivered(campaign, contact, *, days_ago: float):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import MessageFactory

    return MessageFactory(
        campaign=campaign,
        contact=contact,
        status="sent",
        sent_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.mark.django_db
def test_not_opening_an_email_within_n_days_enrols_once_per_message(account, make_scenario):
    from automations.triggers import run_not_opened_triggers
    from tests.factories import EmailCampaignFactory, EmailEventFactory

    # given: a newsletter delivered 3½ days ago to four contacts
    newsletter = EmailCampaignFactory(account=account, status="finished")
    other = EmailCampaignFactory(account=account, status="finished")
    reader, clicker, proxy, silent, recent = (ContactFactory(account=account) for _ in range(5))
    EmailEventFactory(message=_delivered(newsletter, reader, days_ago=3.5))
    EmailEventFactory(message=_delivered(newsletter, clicker, days_ago=3.5), kind="click")
    # a privacy proxy fetched the images on delivery: no person read it
    EmailEventFactory(
        message=_delivered(newsletter, proxy, days_ago=3.5), machine_reason="privacy_proxy"
    )
    unread = _delivered(newsletter, silent, days_ago=3.5)
    _delivered(newsletter, recent, days_ago=1)  # its 3 days are not over
    _delivered(other, silent, days_ago=3.5)  # another campaign than the trigger's
    make_scenario(
        STEP,
        trigger="email_not_opened",
        trigger_config={"campaign_id": newsletter.pk, "days": 3},
        entry_rule="again_after",
        reentry_days=0,
    )
    # when the tick runs, twice
    assert run_not_opened_triggers() == 2
    assert run_not_opened_triggers() == 0
    # then: the non-readers entered, with the message as their cause
    entered = {e.contact_id: e for e in Enrolment.objects.all()}
    assert set(entered) == {proxy.pk, silent.pk}
    assert entered[silent.pk].trigger_key == f"email_not_opened:{unread.pk}"
    assert entered[silent.pk].context == {"message_id": unread.pk}


@pytest.mark.django_db
def test_not_opened_without_a_campaign_watches_every_campaign_but_the_scenarios_own(
    account, sender, make_scenario
):
    from automations.models import StepCampaign
    from automations.triggers import run_not_opened_triggers
    from tests.factories import EmailCampaignFactory

    newsletter = EmailCampaignFactory(account=account, status="finished")
    silent, old = ContactFactory(account=account), ContactFactory(account=account)
    _delivered(newsletter, silent, days_ago=8)
    _delivered(newsletter, old, days_ago=30)  # long before the trigger could have seen it
    scenario = make_scenario(
        [email_step("relance", sender)], trigger="email_not_opened", trigger_config={"days": 7}
    )
    # the reminder the scenario sends, itself unopened, must not trigger the scenario again
    reminder = EmailCampaignFactory(account=account, status="running")
    StepCampaign.objects.create(
        version=scenario.current_version, step_id="relance", email_campaign=reminder
    )
    _delivered(reminder, ContactFactory(account=account), days_ago=8)

    assert run_not_opened_triggers() == 1
    assert Enrolment.objects.get().contact == silent


@pytest.mark.django_db
def test_the_trigger_settings_are_typed_in_the_api(api_client):
    url = "/api/v1/automations/scenarios/"
    bad = {"name": "Relance", "trigger": "email_not_opened", "trigger_config": {"days": "x"}}

    response = api_client.post(url, bad, format="json")

    assert response.status_code == 400
    assert "trigger_config" in response.json()["fields"]
    good = {**bad, "trigger_config": {"days": 3, "time": "09:30"}}
    created = api_client.post(url, good, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["trigger_config"] == {"days": 3, "time": "09:30"}


@pytest.mark.django_db
def test_activation_refuses_another_accounts_campaign(account, make_scenario):
    from automations.services import scenario_problems
    from tests.factories import EmailCampaignFactory

    foreign = EmailCampaignFactory(account=AccountFactory())
    scenario = make_scenario(
        STEP,
        activate=False,
        trigger="email_not_opened",
        trigger_config={"campaign_id": foreign.pk, "days": 3},
    )
    problems = [p["message"] for p in scenario_problems(scenario)]
    assert "Choisissez une campagne email du compte pour le déclencheur." in problems
