"""`make run`'s demo account holds a believable French base whose report and timelines read the
same counters and events a real campaign produces; running `demo` again duplicates nothing."""

import pytest
from django.core.management import call_command

from accounts.models import Account
from campaigns.models import CampaignLink, EmailCampaign, Message, OutboxMessage
from contacts.models import Contact, ContactList, ListMembership, Segment
from contacts.segments.compiler import segment_queryset
from stats.models import CampaignActivity, CampaignClient, EmailEvent, TrackingHit
from stats.selectors.campaigns import campaign_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.EMAIL_BACKEND = "campaigns.backends.OutboxBackend"
    call_command("demo")
    return Account.objects.get(name="Démo Sendethic")


def test_demo_base_is_believable(demo):
    contacts = Contact.objects.filter(account=demo)
    assert contacts.count() == 320  # every generated row is valid
    with_birth_dates = contacts.exclude(birth_date=None).count()
    assert with_birth_dates == contacts.count()
    assert contacts.filter(salutation="mrs").count() > contacts.filter(salutation="mr").count() > 50
    assert contacts.filter(city="Lyon").count() > 20
    assert contacts.exclude(mobile="").count() > 100
    assert {c.fields["magasin_prefere"] for c in contacts} >= {"Lyon Part-Dieu", "En ligne"}
    lists = dict(ContactList.objects.filter(account=demo).values_list("name", "pk"))
    assert set(lists) == {"Newsletter", "Clients fidèles", "Invités salon Lyon"}
    segment = Segment.objects.get(account=demo)
    members = segment_queryset(demo, segment.rules)
    assert 10 < members.count() < contacts.count() / 2
    assert all(contact.salutation == "mrs" for contact in members)


def test_demo_campaign_has_activity_spread_over_days(demo):
    campaign = EmailCampaign.objects.get(account=demo)
    assert campaign.status == EmailCampaign.Status.FINISHED
    # really sent through the pipeline into this account's outbox
    sent = Message.objects.filter(campaign=campaign, status__in=["sent", "bounced"]).count()
    assert OutboxMessage.objects.filter(account=demo).count() == sent > 200
    # the report reads what the ingest worker folded from raw hits: none left waiting
    assert TrackingHit.objects.count() == 0
    report = campaign_report(campaign)
    assert 0.25 < report.rates.open < 0.6
    assert 0.05 < report.rates.click < report.rates.open
    assert report.unsubscribes == 4
    hours = CampaignActivity.objects.filter(campaign=campaign)
    first, last = min(h.hour for h in hours), max(h.hour for h in hours)
    assert (last - first).days >= 2  # opens keep arriving days after the send
    assert CampaignClient.objects.filter(campaign=campaign).values("device").distinct().count() >= 3
    assert CampaignLink.objects.filter(campaign=campaign, clicks_unique__gt=0).count() >= 2
    machine = EmailEvent.objects.filter(campaign=campaign).exclude(machine_reason="")
    assert machine.filter(machine_reason="privacy_proxy").exists()
    # a contact's timeline shows its opens and clicks
    clicker = EmailEvent.objects.filter(campaign=campaign, kind="click", machine_reason="").first()
    assert EmailEvent.objects.filter(contact=clicker.contact, kind="open").exists()


def test_demo_twice_duplicates_nothing(demo, capsys):
    counts = (
        Contact.objects.count(), ContactList.objects.count(), ListMembership.objects.count(),
        Segment.objects.count(), EmailCampaign.objects.count(), EmailEvent.objects.count(),
        OutboxMessage.objects.count(),
    )  # fmt: skip
    call_command("demo")
    assert "already there" in capsys.readouterr().out
    assert counts == (
        Contact.objects.count(), ContactList.objects.count(), ListMembership.objects.count(),
        Segment.objects.count(), EmailCampaign.objects.count(), EmailEvent.objects.count(),
        OutboxMessage.objects.count(),
    )  # fmt: skip


def test_no_demo_campaign_where_mail_would_leave_the_machine(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    settings.EMAIL_BACKEND = "campaigns.backends.DkimSigningSmtpBackend"
    call_command("demo")
    assert "no demo campaign: mail would leave this machine" in capsys.readouterr().out
    assert Contact.objects.count() == 320
    assert not EmailCampaign.objects.exists() and not Message.objects.exists()
