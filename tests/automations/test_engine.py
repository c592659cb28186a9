"""The timer engine: enrol, claim due steps, run them, advance; versions, pause, exits."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone, translation

from automations import engine
from automations.models import DueStep, Enrolment, Scenario
from automations.services import (
    ScenarioNotReady,
    contact_enrol,
    enrolments_exit,
    scenario_archive,
    scenario_enrol,
    scenario_pause,
    scenario_resume,
    scenario_update,
)
from campaigns.models import Message
from contacts.models import ListMembership
from tests.automations.conftest import HTML, email_step, wait_step
from tests.conftest import requires_postgres
from tests.factories import ContactFactory, ContactListFactory, SenderAddressFactory


def later(**delta):
    return timezone.now() + timedelta(**delta)


@pytest.mark.django_db
def test_a_welcome_flow_sends_waits_then_updates_and_lists(
    account, sender, zoe, make_scenario, smtp_server
):
    # given
    vip = ContactListFactory(account=account, name="Accueillis")
    scenario = make_scenario([
        email_step("hello", sender),
        wait_step("pause", days=2),
        {"id": "tag", "kind": "update_field", "config": {"field": "city", "value": "Lyon"}},
        {"id": "list", "kind": "add_to_list", "config": {"list_id": vip.pk}},
    ])  # fmt: skip
    # when
    contact_enrol(scenario=scenario, contact=zoe)
    engine.drain()
    # then the email went out and the contact waits
    assert [to for to, _m in smtp_server.messages] == [["zoe@example.com"]]
    assert smtp_server.messages[0][1]["Subject"] == "Bienvenue Zoé"
    enrolment = Enrolment.objects.get(contact=zoe)
    assert enrolment.current_step == "pause" and enrolment.status == "active"
    # when two days pass
    assert engine.drain(now=later(days=1)) == 0
    assert engine.drain(now=later(days=2, minutes=1)) == 3
    # then
    zoe.refresh_from_db()
    enrolment.refresh_from_db()
    assert zoe.city == "Lyon"
    assert ListMembership.objects.filter(contact_list=vip, contact=zoe).exists()
    assert enrolment.status == "completed"
    assert list(DueStep.objects.filter(enrolment=enrolment).values_list("step_id", "outcome")) == [
        ("hello", "sent"),
        ("pause", "waited"),
        ("tag", "updated"),
        ("list", "done"),
    ]


@pytest.mark.django_db
def test_a_branch_follows_the_contacts_rules_now(account, make_scenario):
    # given
    paris = ContactFactory(account=account, city="Paris")
    lyon = ContactFactory(account=account, city="Lyon")
    scenario = make_scenario([
        {"id": "where", "kind": "branch",
         "config": {"rules": {"all": [{"field": "city", "op": "eq", "value": "Paris"}]}},
         "yes": [{"id": "p", "kind": "update_field", "config": {"field": "company", "value": "P"}}],
         "no": [{"id": "o", "kind": "update_field", "config": {"field": "company", "value": "O"}},
                {"id": "stop", "kind": "end", "config": {}}]},
        {"id": "after", "kind": "update_field", "config": {"field": "zip_code", "value": "75"}},
    ])  # fmt: skip
    # when
    scenario_enrol(scenario=scenario, contact_ids=[paris.pk, lyon.pk])
    engine.drain()
    # then
    paris.refresh_from_db()
    lyon.refresh_from_db()
    assert (paris.company, paris.zip_code) == ("P", "75")
    assert (lyon.company, lyon.zip_code) == ("O", "")


@pytest.mark.django_db
def test_an_edit_of_an_active_scenario_publishes_a_version_and_the_inside_finish_on_theirs(
    account, make_scenario
):
    # given
    first = ContactFactory(account=account)
    scenario = make_scenario([
        wait_step("w", hours=1),
        {"id": "set", "kind": "update_field", "config": {"field": "city", "value": "v1"}},
    ])  # fmt: skip
    scenario_enrol(scenario=scenario, contact_ids=[first.pk])
    # when
    steps = [dict(s) for s in scenario.steps]
    steps[1] = {"id": "set", "kind": "update_field", "config": {"field": "city", "value": "v2"}}
    scenario = scenario_update(scenario=scenario, data={"steps": steps})
    second = ContactFactory(account=account)
    scenario_enrol(scenario=scenario, contact_ids=[second.pk])
    engine.drain(now=later(hours=2))
    # then
    first.refresh_from_db()
    second.refresh_from_db()
    assert scenario.current_version.number == 2
    assert (first.city, second.city) == ("v1", "v2")


@pytest.mark.django_db
def test_an_active_scenario_refuses_an_edit_that_would_not_be_activable(make_scenario):
    scenario = make_scenario([wait_step("w", hours=1)])
    with pytest.raises(ScenarioNotReady):
        scenario_update(scenario=scenario, data={"steps": [{"id": "e", "kind": "email"}]})


@pytest.mark.django_db
def test_activation_names_what_each_step_lacks(make_scenario):
    with pytest.raises(ScenarioNotReady) as refused:
        make_scenario([
            {"id": "mail", "kind": "email", "config": {"subject": "Hi"}},
            {"id": "text", "kind": "sms", "config": {"text": "Hi", "sender_id": 1}},
        ])  # fmt: skip
    steps = {problem["step"] for problem in refused.value.problems}
    assert steps == {"mail", "text"}  # no content/sender; SMS without a consent rule


@pytest.mark.django_db
def test_an_email_without_unsubscribe_link_is_not_ready(sender, make_scenario):
    step = email_step("mail", sender)
    step["config"]["html"] = "<p>Bonjour</p>"
    with pytest.raises(ScenarioNotReady) as refused:
        make_scenario([step])
    assert "unsubscribe" in refused.value.problems[0]["message"]
    assert refused.value.code == "not_ready"


@pytest.mark.django_db
def test_pausing_holds_contacts_where_they_are_and_resuming_continues(account, make_scenario):
    # given
    zoe = ContactFactory(account=account)
    scenario = make_scenario([
        wait_step("w", hours=1),
        {"id": "set", "kind": "update_field", "config": {"field": "city", "value": "Lyon"}},
    ])  # fmt: skip
    scenario_enrol(scenario=scenario, contact_ids=[zoe.pk])
    # when
    scenario_pause(scenario=scenario)
    # then nothing runs while paused, even past due
    assert engine.drain(now=later(hours=2)) == 0
    assert DueStep.objects.get(step_id="w").status == "held"
    # when
    scenario_resume(scenario=Scenario.objects.get(pk=scenario.pk))
    engine.drain(now=later(hours=2))
    zoe.refresh_from_db()
    assert zoe.city == "Lyon"


@pytest.mark.django_db
def test_archiving_ends_every_enrolment_with_a_reason(account, make_scenario):
    zoe = ContactFactory(account=account)
    scenario = make_scenario([wait_step("w", days=3)])
    scenario_enrol(scenario=scenario, contact_ids=[zoe.pk])
    scenario_archive(scenario=scenario)
    enrolment = Enrolment.objects.get()
    assert (enrolment.status, enrolment.exit_reason) == ("exited", "archived")
    assert DueStep.objects.get().status == "cancelled"
    assert engine.drain(now=later(days=4)) == 0


@pytest.mark.django_db
def test_the_exit_event_takes_the_contact_out(account, sender, zoe, make_scenario, smtp_server):
    scenario = make_scenario(
        [wait_step("w", hours=3), email_step("remind", sender)], exit_event="order_placed"
    )
    scenario_enrol(scenario=scenario, contact_ids=[zoe.pk])
    enrolments_exit(account_id=account.pk, contact_id=zoe.pk, event="order_placed")
    engine.drain(now=later(hours=4))
    assert smtp_server.messages == []
    assert Enrolment.objects.get().exit_reason == "order_placed"


@pytest.mark.django_db
def test_entry_rules(account, make_scenario):
    zoe = ContactFactory(account=account)
    steps = [{"id": "x", "kind": "update_field", "config": {"field": "city", "value": "A"}}]
    once = make_scenario(steps, entry_rule="once")
    inside = make_scenario(steps, entry_rule="not_inside")
    again = make_scenario(steps, entry_rule="again_after", reentry_days=30)
    for scenario in (once, inside, again):
        assert scenario_enrol(scenario=scenario, contact_ids=[zoe.pk]) == 1
    engine.drain()
    assert scenario_enrol(scenario=once, contact_ids=[zoe.pk]) == 0
    assert scenario_enrol(scenario=inside, contact_ids=[zoe.pk]) == 1
    assert scenario_enrol(scenario=again, contact_ids=[zoe.pk]) == 0
    assert scenario_enrol(scenario=again, contact_ids=[zoe.pk], now=later(days=31)) == 1


@pytest.mark.django_db
def test_a_contact_inside_does_not_enter_twice(account, make_scenario):
    zoe = ContactFactory(account=account)
    scenario = make_scenario([wait_step("w", days=1)], entry_rule="not_inside")
    assert scenario_enrol(scenario=scenario, contact_ids=[zoe.pk, zoe.pk]) == 1
    assert scenario_enrol(scenario=scenario, contact_ids=[zoe.pk]) == 0


@pytest.mark.django_db
def test_the_audience_rules_filter_who_enters(account, make_scenario):
    paris = ContactFactory(account=account, city="Paris")
    lyon = ContactFactory(account=account, city="Lyon")
    scenario = make_scenario(
        [wait_step("w", days=1)],
        audience_rules={"all": [{"field": "city", "op": "eq", "value": "Paris"}]},
    )
    assert scenario_enrol(scenario=scenario, contact_ids=[paris.pk, lyon.pk]) == 1
    assert Enrolment.objects.get().contact == paris


@pytest.mark.django_db
def test_consent_is_checked_at_the_send_not_at_entry(
    account, sender, zoe, make_scenario, smtp_server
):
    # given a contact who was subscribed when entering
    scenario = make_scenario([wait_step("w", hours=1), email_step("mail", sender)])
    scenario_enrol(scenario=scenario, contact_ids=[zoe.pk])
    # when she unsubscribes while waiting
    type(zoe).objects.filter(pk=zoe.pk).update(email_status="unsubscribed")
    engine.drain(now=later(hours=2))
    # then
    assert smtp_server.messages == []
    assert DueStep.objects.get(step_id="mail").outcome == "cancelled"


@pytest.mark.django_db
def test_a_step_run_again_after_a_lost_lease_sends_nothing_more(
    account, sender, zoe, make_scenario, smtp_server
):
    # given a worker that sent the email, then died before committing the step
    scenario = make_scenario([email_step("mail", sender)])
    scenario_enrol(scenario=scenario, contact_ids=[zoe.pk])
    ids = engine.claim_due_steps()
    row = DueStep.objects.get(pk=ids[0])
    from automations.steps import run_sending_step

    run_sending_step(row.enrolment, scenario.current_version.steps[0], row.idempotency_key)
    # when its lease expires and another worker runs the row
    assert engine.recover_expired_leases(now=later(hours=1)) == 1
    engine.drain()
    # then
    assert len(smtp_server.messages) == 1
    assert Message.objects.filter(status="sent").count() == 1
    assert DueStep.objects.get().status == "done"


@pytest.mark.django_db
def test_a_step_whose_worker_died_mid_send_waits_for_the_send_lease_then_delivers(
    account, sender, zoe, make_scenario, smtp_server, settings
):
    # given a worker that claimed the email in the send engine, then died before the provider
    # accepted it (the message is "sending", nothing delivered, nothing in the journal)
    settings.SEND_LEASE_SECONDS = 600
    scenario = make_scenario([email_step("mail", sender), wait_step("w", days=1)])
    scenario_enrol(scenario=scenario, contact_ids=[zoe.pk])
    row = DueStep.objects.get(pk=engine.claim_due_steps()[0])
    from automations.steps import step_campaign

    campaign = step_campaign(row.enrolment, scenario.current_version.steps[0])
    Message.objects.create(
        campaign=campaign, contact=zoe, email=zoe.email, idempotency_key=row.idempotency_key,
        status="sending", attempts=1, claimed_at=timezone.now(),
    )  # fmt: skip
    # when its automation lease expires first (shorter than the send engine's)
    engine.recover_expired_leases(now=later(hours=1))
    engine.drain()
    # then the step is not done past an undelivered email: it waits for the send lease
    row.refresh_from_db()
    assert row.status == "pending" and row.due_at > later(minutes=9)
    assert smtp_server.messages == [] and not DueStep.objects.filter(step_id="w").exists()
    # and once it expired, the message is taken over, delivered once, and the contact goes on
    Message.objects.filter(pk__isnull=False).update(claimed_at=later(minutes=-11))
    engine.drain(now=later(minutes=11))
    assert len(smtp_server.messages) == 1
    assert Message.objects.get().status == "sent"
    assert DueStep.objects.get(step_id="mail").status == "done"
    assert DueStep.objects.filter(step_id="w").exists()


@pytest.mark.django_db
def test_a_row_finished_by_another_worker_is_not_advanced_twice(account, make_scenario):
    zoe = ContactFactory(account=account)
    scenario = make_scenario([
        {"id": "x", "kind": "update_field", "config": {"field": "city", "value": "A"}},
        wait_step("w", days=1),
    ])  # fmt: skip
    scenario_enrol(scenario=scenario, contact_ids=[zoe.pk])
    ids = engine.claim_due_steps()
    stale = list(
        DueStep.objects.filter(pk__in=ids).select_related(
            "enrolment__scenario__account", "enrolment__version", "enrolment__contact__account"
        )
    )
    engine.recover_expired_leases(now=later(hours=1))
    engine.drain()
    from automations.flow import compile_flow

    assert engine.run_row(stale[0], compile_flow(scenario.current_version.steps)) is False
    assert DueStep.objects.filter(step_id="w").count() == 1


@pytest.mark.django_db
def test_a_burst_is_enrolled_in_bulk_and_drained_in_batches(
    account, make_scenario, django_assert_max_num_queries
):
    contacts = ContactFactory.create_batch(1200, account=account)
    scenario = make_scenario([
        {"id": "x", "kind": "update_field", "config": {"field": "city", "value": "A"}},
    ])  # fmt: skip
    with django_assert_max_num_queries(60):
        assert scenario_enrol(scenario=scenario, contact_ids=[c.pk for c in contacts]) == 1200
    assert len(engine.claim_due_steps(500)) == 500
    assert engine.drain() == 700


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_claim_disjoint_batches(account, make_scenario):
    """SKIP LOCKED: a second claim while the first holds its rows takes the others."""
    import threading

    contacts = ContactFactory.create_batch(20, account=account)
    scenario = make_scenario([wait_step("w", hours=1)])
    scenario_enrol(scenario=scenario, contact_ids=[c.pk for c in contacts])
    first: list[int] = []
    holding, release = threading.Event(), threading.Event()
    from django.db import transaction

    def slow_claim():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM automations_duestep WHERE status = 'pending' ORDER BY id "
                "LIMIT 10 FOR UPDATE SKIP LOCKED"
            )
            first.extend(row[0] for row in cursor.fetchall())
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=slow_claim)
    thread.start()
    holding.wait(10)
    second = engine.claim_due_steps(20, now=later(hours=2))
    release.set()
    thread.join()
    assert len(first) == 10 and len(second) == 10
    assert not set(first) & set(second)


def test_waits_until_a_time_of_day_or_a_weekday_in_the_accounts_zone():
    from automations.flow import wait_release

    monday_noon_paris = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # 12:00 in Paris (UTC+1)
    at_nine = wait_release(
        {"mode": "time_of_day", "time": "09:00"}, monday_noon_paris, "Europe/Paris"
    )
    assert at_nine == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    friday = wait_release(
        {"mode": "weekday", "weekday": 4, "time": "18:30"}, monday_noon_paris, "Europe/Paris"
    )
    assert friday == datetime(2026, 3, 6, 17, 30, tzinfo=UTC)
    # across the change to summer time (29 March 2026) the wall clock is kept
    sunday = wait_release(
        {"mode": "weekday", "weekday": 0, "time": "09:00"},
        datetime(2026, 3, 28, 12, 0, tzinfo=UTC),
        "Europe/Paris",
    )
    assert sunday == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_custom_field_is_updated_and_a_bad_value_is_an_outcome_not_a_crash(
    account, make_scenario
):
    from contacts.services.fields import field_create

    field_create(account=account, key="points", label="Points", type="number")
    zoe = ContactFactory(account=account)
    make = [{"id": "p", "kind": "update_field", "config": {"field": "fields.points", "value": 12}},
            {"id": "bad", "kind": "update_field",
             "config": {"field": "fields.points", "value": "douze"}}]  # fmt: skip
    scenario = make_scenario(make)
    scenario_enrol(scenario=scenario, contact_ids=[zoe.pk])
    engine.drain()
    zoe.refresh_from_db()
    assert zoe.fields["points"] == 12
    assert dict(DueStep.objects.values_list("step_id", "outcome")) == {
        "p": "updated", "bad": "invalid_value",
    }  # fmt: skip


@pytest.mark.django_db
def test_unknown_or_unclosed_merge_tags_in_a_sending_step_are_named_at_activation(
    sender, make_scenario
):
    step = email_step("mail", sender, subject="Bonjour {{ prenom }}")
    step["config"]["html"] = HTML.replace("</p>", "{{ fields.fidelite </p>", 1)
    with pytest.raises(ScenarioNotReady) as refused, translation.override("en"):
        make_scenario([step])
    messages = [p["message"] for p in refused.value.problems if p["step"] == "mail"]
    assert any(m.startswith("subject: {{ prenom }}") for m in messages), messages
    assert any(m.startswith("html: ") for m in messages), messages


@pytest.mark.django_db
def test_a_sender_not_confirmed_or_not_the_accounts_is_named_at_activation(
    account, sender, make_scenario
):
    waiting = SenderAddressFactory(account=account, email="new@boutique.fr", verified_at=None)
    foreign = SenderAddressFactory()  # another account's
    with pytest.raises(ScenarioNotReady) as refused, translation.override("en"):
        make_scenario([email_step("a", waiting), email_step("b", foreign)])
    by_step = {p["step"]: p["message"] for p in refused.value.problems}
    assert "not confirmed" in by_step["a"]
    assert "not the account's" in by_step["b"]
