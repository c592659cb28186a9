"""Sending safeguards: the pre-send checklist (one computation for page, API and services), the
confirmed audience count, schedules in the past, unscheduling and rescheduling, true statuses."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from campaigns import merge_tags
from campaigns.gallery import render_mjml, template_source
from campaigns.merge_tags import contact_values
from campaigns.models import EmailCampaign
from campaigns.selectors import campaign_checklist
from campaigns.services import (
    CampaignError,
    CampaignNotReady,
    CampaignStateError,
    campaign_schedule,
    campaign_send_test,
    campaign_unschedule,
)
from campaigns.tasks import start_due_campaigns_task
from contacts.models import Contact, ListMembership, Suppression, address_hash
from tests.factories import (
    AccountFactory,
    ContactListFactory,
    EmailCampaignFactory,
    ListMembershipFactory,
    SenderAddressFactory,
)

pytestmark = pytest.mark.django_db
CAMPAIGNS = "/api/v1/campaigns/email/"
CONTENT = '<p>Bonjour</p><a href="{{ unsubscribe_url }}">Se désinscrire</a>'


@pytest.fixture
def newsletter(account):
    newsletter = ContactListFactory(account=account, name="Newsletter")
    for email, status in [
        ("zoe@example.com", "subscribed"),
        ("paul@example.com", "subscribed"),
        ("gone@example.com", "unsubscribed"),  # no consent
        ("bounced@example.com", "subscribed"),  # suppressed below
    ]:
        ListMembershipFactory(
            contact_list=newsletter, contact__email=email, contact__email_status=status
        )
    Suppression.objects.create(
        account=account,
        channel="email",
        address_hash=address_hash("bounced@example.com"),
        reason=Suppression.Reason.HARD_BOUNCE,
    )
    return newsletter


@pytest.fixture
def ready(account, newsletter):
    """A draft that passes every blocking item (no pre-header, no test sent: two warnings)."""
    return EmailCampaignFactory(
        account=account,
        sender=SenderAddressFactory(account=account),
        html=CONTENT,
        lists=[newsletter],
    )


def items(checklist) -> dict[str, bool]:
    return {item.key: item.ok for item in checklist.items}


def test_the_checklist_counts_the_audience_after_consent_and_suppression(ready):
    # when
    checklist = campaign_checklist(ready)
    # then: four members, one without consent, one suppressed
    assert checklist.recipients == 2
    assert checklist.ready
    assert items(checklist) == {
        "sender": True, "subject": True, "preheader": False, "content": True,
        "unsubscribe_link": True, "recipients": True, "postal_address": True, "test_sent": False,
    }  # fmt: skip
    assert {item.key for item in checklist.warnings} == {"preheader", "test_sent"}


def test_warnings_do_not_block_sending(ready, enqueued):
    # when
    campaign = campaign_schedule(campaign=ready, at=None)
    # then
    assert campaign.status == EmailCampaign.Status.RUNNING
    assert campaign.messages.count() == 2


@pytest.mark.parametrize(
    ("change", "item", "field"),
    [
        (lambda c: setattr(c, "sender", None), "sender", "sender"),
        (lambda c: setattr(c.sender, "verified_at", None), "sender", "sender"),
        (lambda c: setattr(c, "subject", "  "), "subject", "subject"),
        (lambda c: setattr(c, "html", "<p>No way out</p>"), "unsubscribe_link", "html"),
        (lambda c: setattr(c.account, "postal_address", ""), "postal_address", "postal_address"),
    ],
)
def test_each_blocking_item_refuses_sending_naming_its_field(ready, change, item, field):
    # given
    change(ready)
    for changed in (ready.account, ready.sender, ready):
        if changed is not None:
            changed.save()
    ready.refresh_from_db()
    # when
    with pytest.raises(CampaignNotReady) as refused:
        campaign_schedule(campaign=ready, at=None)
    # then
    assert items(campaign_checklist(ready))[item] is False
    assert field in refused.value.fields
    assert EmailCampaign.objects.get(pk=ready.pk).status == EmailCampaign.Status.DRAFT


def test_an_audience_of_nobody_is_refused_with_the_reason(account, ready, newsletter):
    # given: the list's reachable members leave
    ListMembership.objects.filter(contact_list=newsletter).update(status="unsubscribed")
    # when
    with pytest.raises(CampaignNotReady) as refused:
        campaign_schedule(campaign=ready, at=timezone.now() + timedelta(days=1))
    # then
    assert refused.value.code == "not_ready"
    assert "0 destinataire" in refused.value.fields["lists"][0]


def test_a_test_send_ticks_its_item(ready, mailoutbox):
    # when
    sent = campaign_send_test(campaign=ready, recipients=["me@shop.example"])
    # then
    assert sent == 1
    ready.refresh_from_db()
    assert ready.test_sent_at is not None
    assert items(campaign_checklist(ready))["test_sent"] is True


def test_a_time_in_the_past_is_refused(ready):
    with pytest.raises(CampaignError) as refused:
        campaign_schedule(campaign=ready, at=timezone.now() - timedelta(minutes=5))
    assert set(refused.value.fields) == {"at"}
    assert EmailCampaign.objects.get(pk=ready.pk).status == EmailCampaign.Status.DRAFT


def test_a_changed_audience_is_not_sent_on_an_old_confirmation(ready, enqueued):
    with pytest.raises(CampaignStateError) as refused:
        campaign_schedule(campaign=ready, at=None, expected_recipients=3)
    assert refused.value.code == "audience_changed"
    assert "2" in refused.value.fields["expected_recipients"][0]
    # the figure the checklist shows is accepted
    assert campaign_schedule(campaign=ready, at=None, expected_recipients=2).status == "running"


def test_a_scheduled_campaign_is_rescheduled_then_unscheduled(ready):
    # given
    first, second = timezone.now() + timedelta(days=1), timezone.now() + timedelta(days=2)
    campaign_schedule(campaign=ready, at=first)
    # when
    campaign_schedule(campaign=ready, at=second)
    # then
    assert EmailCampaign.objects.get(pk=ready.pk).scheduled_at == second
    # when
    campaign = campaign_unschedule(campaign=ready)
    # then
    assert (campaign.status, campaign.scheduled_at) == (EmailCampaign.Status.DRAFT, None)
    with pytest.raises(CampaignStateError) as refused:
        campaign_unschedule(campaign=ready)
    assert refused.value.code == "not_scheduled"


def test_the_api_serves_the_checklist(api_client, ready, django_assert_max_num_queries):
    # when
    with django_assert_max_num_queries(12):
        response = api_client.get(f"{CAMPAIGNS}{ready.pk}/checklist/")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["ready"], body["recipients"]) == (True, 2)
    preheader = next(item for item in body["items"] if item["key"] == "preheader")
    assert preheader == {
        "key": "preheader", "field": "preheader", "ok": False, "blocking": False,
        "label": preheader["label"], "problem": preheader["problem"],
    }  # fmt: skip
    assert preheader["problem"]


def test_the_api_refuses_a_blocked_campaign_with_its_failing_items(api_client, account, ready):
    # given
    account.postal_address = ""
    account.save()
    # when
    response = api_client.post(f"{CAMPAIGNS}{ready.pk}/schedule/", {}, format="json")
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "not_ready"
    assert set(response.json()["fields"]) == {"postal_address"}


def test_the_api_refuses_a_past_time_with_a_400_on_the_field(api_client, ready):
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    response = api_client.post(f"{CAMPAIGNS}{ready.pk}/schedule/", {"at": past}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "schedule_in_past"
    assert set(response.json()["fields"]) == {"at"}


def test_the_api_confirms_the_count_reschedules_and_unschedules(api_client, ready):
    # given
    base = f"{CAMPAIGNS}{ready.pk}"
    later = (timezone.now() + timedelta(days=3)).isoformat()
    # when: a count that is not the audience's
    stale = api_client.post(
        f"{base}/schedule/", {"at": later, "expected_recipients": 5}, format="json"
    )
    # then
    assert stale.status_code == 409
    assert stale.json()["code"] == "audience_changed"
    # when
    scheduled = api_client.post(
        f"{base}/schedule/", {"at": later, "expected_recipients": 2}, format="json"
    )
    unscheduled = api_client.post(f"{base}/unschedule/")
    again = api_client.post(f"{base}/unschedule/")
    # then
    assert scheduled.json()["status"] == "scheduled"
    assert (unscheduled.json()["status"], unscheduled.json()["scheduled_at"]) == ("draft", None)
    assert again.status_code == 409


@pytest.mark.parametrize("path", ["checklist/", "unschedule/"])
def test_another_accounts_campaign_is_a_404(api_client, path):
    theirs = EmailCampaignFactory(account=AccountFactory())
    call = api_client.get if path == "checklist/" else api_client.post
    assert call(f"{CAMPAIGNS}{theirs.pk}/{path}").status_code == 404


def flashed(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_page_shows_the_checklist_and_blocks_sending(logged_in_client, account, ready):
    # given
    account.postal_address = ""
    account.save()
    # when
    page = logged_in_client.get(f"/email/{ready.pk}/").content.decode()
    # then
    assert 'data-testid="checklist-postal_address" data-ok="false"' in page
    assert 'data-testid="checklist-recipients" data-ok="true"' in page
    assert "2 destinataires" in page
    assert "data-send-open disabled" in page
    # and a form posted anyway is refused with the reason
    response = logged_in_client.post(
        f"/email/{ready.pk}/schedule/", {"at": "", "expected_recipients": "2"}
    )
    assert any("adresse postale" in text for text in flashed(response))
    assert EmailCampaign.objects.get(pk=ready.pk).status == EmailCampaign.Status.DRAFT


def test_the_page_sends_only_what_was_confirmed(logged_in_client, ready, enqueued):
    # when: no confirmed figure (a form posted by hand)
    unconfirmed = logged_in_client.post(f"/email/{ready.pk}/schedule/", {"at": ""})
    # then
    assert any("2 destinataires" in text for text in flashed(unconfirmed))
    assert EmailCampaign.objects.get(pk=ready.pk).status == EmailCampaign.Status.DRAFT
    # when
    confirmed = logged_in_client.post(
        f"/email/{ready.pk}/schedule/", {"at": "", "expected_recipients": "2"}
    )
    # then
    assert "Envoi lancé à 2 destinataires." in flashed(confirmed)
    assert EmailCampaign.objects.get(pk=ready.pk).status == EmailCampaign.Status.RUNNING


def test_the_page_schedules_in_the_account_time_zone_and_unschedules(
    logged_in_client, account, ready
):
    # given
    account.timezone = "Europe/Paris"
    account.save()
    year = timezone.now().year + 1
    # when: 09:00 in Paris is 08:00 UTC in December
    response = logged_in_client.post(
        f"/email/{ready.pk}/schedule/", {"at": f"{year}-12-12T09:00", "expected_recipients": "2"}
    )
    # then
    assert f"Programmée pour le 12/12/{year} à 09:00." in flashed(response)
    ready.refresh_from_db()
    assert ready.scheduled_at == datetime(year, 12, 12, 8, 0, tzinfo=UTC)
    page = logged_in_client.get(f"/email/{ready.pk}/").content.decode()
    assert "Programmée pour le 12/12 à 09:00" in page
    assert f'value="{year}-12-12T09:00"' in page  # offered for rescheduling
    listing = logged_in_client.get("/email/").content.decode()
    assert "Programmée pour le 12/12 à 09:00" in listing
    # when
    response = logged_in_client.post(f"/email/{ready.pk}/unschedule/")
    # then
    ready.refresh_from_db()
    assert (ready.status, ready.scheduled_at) == (EmailCampaign.Status.DRAFT, None)


def test_the_page_refuses_a_time_in_the_past(logged_in_client, ready):
    response = logged_in_client.post(
        f"/email/{ready.pk}/schedule/", {"at": "2020-01-01T09:00", "expected_recipients": "2"}
    )
    assert any("passé" in text for text in flashed(response))
    assert EmailCampaign.objects.get(pk=ready.pk).status == EmailCampaign.Status.DRAFT


def test_the_list_shows_the_sent_date(logged_in_client, account):
    # given
    sent_at = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
    EmailCampaignFactory(
        account=account, name="Mars", status="finished", started_at=sent_at, finished_at=sent_at
    )
    EmailCampaignFactory(account=account, name="Brouillon")
    # when
    page = logged_in_client.get("/email/").content.decode()
    # then: in the account's time zone (Paris: UTC+1 in March)
    assert "04/03/2026 10:30" in page
    assert "Envoyée le 04/03/2026 à 10:30" in page


@pytest.mark.parametrize("slug", ["commerce-promotion", "b2b-newsletter"])
def test_the_footer_prints_the_postal_address_on_its_own_line(account, slug):
    # given
    html = render_mjml(template_source(slug))
    account.postal_address = "12 rue des Lilas\r\n69001 Lyon\n"
    # when
    footer = merge_tags.render(html, contact_values(Contact(fields={}), account), escape=True)
    account.postal_address = ""
    without = merge_tags.render(html, contact_values(Contact(fields={}), account), escape=True)
    # then: one line after the name; no dangling dash when it is missing (the checklist blocks)
    assert re.search(rf"{re.escape(account.name)}<br ?/?>\s*12 rue des Lilas, 69001 Lyon", footer)
    assert f"{account.name} —" not in without


def test_a_due_campaign_that_lost_its_audience_is_held_back_with_the_reason(
    logged_in_client, ready, newsletter, enqueued
):
    # given: scheduled, then everyone leaves the list before the time comes
    campaign_schedule(campaign=ready, at=timezone.now() + timedelta(hours=1))
    ListMembership.objects.filter(contact_list=newsletter).update(status="unsubscribed")
    EmailCampaign.objects.filter(pk=ready.pk).update(scheduled_at=timezone.now())
    # when: the beat tick
    start_due_campaigns_task()
    # then: a draft again, nothing frozen, the reason on the page
    ready.refresh_from_db()
    assert ready.status == EmailCampaign.Status.DRAFT
    assert ready.messages.count() == 0 and enqueued == []
    assert "0 destinataire" in ready.pause_reason
    page = logged_in_client.get(f"/email/{ready.pk}/").content.decode()
    assert "L'envoi programmé n'a pas démarré" in page


def test_a_due_campaign_that_is_still_ready_starts(ready, enqueued):
    # given
    campaign_schedule(campaign=ready, at=timezone.now() + timedelta(hours=1))
    EmailCampaign.objects.filter(pk=ready.pk).update(scheduled_at=timezone.now())
    # when
    start_due_campaigns_task()
    # then
    ready.refresh_from_db()
    assert ready.status == EmailCampaign.Status.RUNNING
    assert ready.messages.count() == 2
