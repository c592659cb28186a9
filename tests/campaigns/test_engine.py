"""The send engine driven by a scripted delivery backend (the outer edge), and its events."""

import pytest
from django.utils import timezone

from campaigns.email_channel import EmailChannel
from campaigns.engine import journal, lifecycle, sending
from campaigns.engine.channel import (
    BackendUnavailable,
    ConnectionLost,
    DeliveryInterrupted,
    PermanentFailure,
    RetryLater,
    Sent,
)
from campaigns.engine.lifecycle import campaign_pause, campaign_resume, campaign_start
from campaigns.models import EmailCampaign, Message, SenderAddress, SentJournal
from campaigns.services import campaign_create
from campaigns.signals import campaign_finished, campaign_started, message_bounced, message_sent
from contacts.models import ConsentRecord, Contact, Suppression, address_hash
from contacts.services.consent import ConsentProof, consent_change
from tests.factories import ContactListFactory, ListMembershipFactory, SenderAddressFactory

pytestmark = pytest.mark.django_db

HTML = '<p>Bonjour {{ first_name }}</p><a href="{{ unsubscribe_url }}">Se désinscrire</a>'


class ScriptedBackend:
    """Answers each address as scripted (default: sent), and keeps what it was given."""

    def __init__(self, script, unavailable=False):
        self.script = script
        self.unavailable = unavailable
        self.sent = []
        self.closed = False

    def open(self):
        if self.unavailable:
            raise BackendUnavailable("connection refused")

    def close(self):
        self.closed = True

    def send(self, outgoing):
        address = outgoing.message.email
        outcome = self.script.get(address) or Sent(f"provider-{address}")
        if isinstance(outcome, Sent):
            self.sent.append(address)
        return outcome


class ScriptedChannel(EmailChannel):
    """The email channel with its provider replaced: what the engine decides is under test."""

    name = "scripted"

    def __init__(self, script=None, unavailable=False):
        self.delivery = ScriptedBackend(script or {}, unavailable)

    def backend(self, prepared):
        return self.delivery


def started_campaign(account, *emails, start=True):
    """A campaign to these subscribed addresses (started: its messages frozen)."""
    account.postal_address = "1 rue de la Paix, Paris"
    account.save()
    sender = SenderAddress.objects.filter(
        account=account, email="news@boutique.fr"
    ).first() or SenderAddressFactory(account=account, email="news@boutique.fr", name="Boutique")
    newsletter = ContactListFactory(account=account, name="Newsletter")
    for email in emails:
        ListMembershipFactory(
            contact_list=newsletter, contact__email=email, contact__email_status="subscribed"
        )
    campaign = campaign_create(
        account=account,
        data={
            "name": "Engine",
            "subject": "Bonjour",
            "sender": sender,
            "html": HTML,
            "lists": [newsletter],
        },
    )
    if start:
        campaign_start(campaign=campaign)
    return campaign


@pytest.fixture
def make_campaign(account):
    def make(*emails, start=True):
        return started_campaign(account, *emails, start=start)

    return make


def statuses(campaign):
    return dict(Message.objects.filter(campaign=campaign).values_list("email", "status"))


def test_sent_messages_record_the_provider_id(make_campaign):
    campaign = make_campaign("a@example.com", "b@example.com")
    channel = ScriptedChannel()
    assert sending.send_batch(channel, campaign.pk) == 2
    assert sorted(channel.delivery.sent) == ["a@example.com", "b@example.com"]
    assert channel.delivery.closed
    message = Message.objects.get(campaign=campaign, email="a@example.com")
    assert (message.status, message.message_id) == ("sent", "provider-a@example.com")
    assert message.sent_at is not None


def test_a_temporary_refusal_is_retried_after_a_backoff(make_campaign):
    # given
    campaign = make_campaign("later@example.com")
    channel = ScriptedChannel({"later@example.com": RetryLater("451 busy")})
    # when
    sending.send_batch(channel, campaign.pk)
    # then
    message = Message.objects.get(campaign=campaign)
    assert (message.status, message.error, message.attempts) == ("queued", "451 busy", 1)
    assert message.next_attempt_at > timezone.now()
    assert sending.claim_batch(channel, campaign.pk) == []  # not due yet
    assert sending.campaigns_with_due_messages(channel) == []
    later = timezone.now() + sending.backoff(1) + timezone.timedelta(seconds=1)
    assert sending.campaigns_with_due_messages(channel, now=later) == [campaign.pk]


def test_a_temporary_refusal_at_the_last_attempt_is_final(make_campaign):
    # given
    campaign = make_campaign("later@example.com")
    channel = ScriptedChannel({"later@example.com": RetryLater("451 busy")})
    sending.send_batch(channel, campaign.pk)
    Message.objects.filter(campaign=campaign).update(
        attempts=sending.MAX_ATTEMPTS - 1, next_attempt_at=None
    )
    # when
    sending.send_batch(channel, campaign.pk)
    # then
    assert statuses(campaign) == {"later@example.com": "failed"}


def test_a_permanent_refusal_bounces_suppresses_and_is_announced(
    make_campaign, account, django_capture_on_commit_callbacks
):
    campaign = make_campaign("bounce@example.com", "odd@example.com")
    channel = ScriptedChannel(
        {
            "bounce@example.com": PermanentFailure("550 no such user"),
            "odd@example.com": PermanentFailure("600 odd", suppress=False),
        }
    )
    heard = []

    def receiver(sender, **payload):
        heard.append(payload)

    message_bounced.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            sending.send_batch(channel, campaign.pk)
    finally:
        message_bounced.disconnect(receiver)
    assert statuses(campaign) == {"bounce@example.com": "bounced", "odd@example.com": "failed"}
    suppressed = Suppression.objects.filter(account=account, channel="email")
    assert list(suppressed.values_list("address_hash", flat=True)) == [
        address_hash("bounce@example.com")
    ]
    bounced = Message.objects.get(email="bounce@example.com")
    assert [(p["message_id"], p["kind"], p["detail"], p["channel"]) for p in heard] == [
        (bounced.pk, "hard", "550 no such user", "scripted")
    ]


def test_a_lost_connection_requeues_the_rest_of_the_batch(make_campaign):
    campaign = make_campaign("a@example.com", "b@example.com", "c@example.com")
    channel = ScriptedChannel({"b@example.com": ConnectionLost("connection reset")})
    with pytest.raises(DeliveryInterrupted):
        sending.send_batch(channel, campaign.pk)
    assert statuses(campaign) == {
        "a@example.com": "sent",
        "b@example.com": "queued",
        "c@example.com": "queued",
    }
    assert Message.objects.get(email="c@example.com").error == "connection reset"
    assert channel.delivery.closed


def test_an_unreachable_provider_requeues_the_whole_batch(make_campaign):
    campaign = make_campaign("a@example.com", "b@example.com")
    channel = ScriptedChannel(unavailable=True)
    with pytest.raises(DeliveryInterrupted):
        sending.send_batch(channel, campaign.pk)
    assert set(statuses(campaign).values()) == {"queued"}


def test_a_paused_campaign_sends_nothing_and_keeps_the_reason(make_campaign):
    # given
    campaign = make_campaign("a@example.com")
    # when
    assert campaign_pause(campaign=campaign, reason="Too many complaints")
    # then
    assert EmailCampaign.objects.get(pk=campaign.pk).pause_reason == "Too many complaints"
    assert sending.send_batch(ScriptedChannel(), campaign.pk) == 0


def test_a_resumed_campaign_sends_again_and_forgets_the_reason(make_campaign):
    # given
    campaign = make_campaign("a@example.com")
    campaign_pause(campaign=campaign, reason="Too many complaints")
    channel = ScriptedChannel()
    assert sending.send_batch(channel, campaign.pk) == 0
    # when
    assert campaign_resume(campaign=campaign)
    # then
    assert EmailCampaign.objects.get(pk=campaign.pk).pause_reason == ""
    assert sending.send_batch(channel, campaign.pk) == 1


def test_campaign_and_message_events_are_sent_on_commit(
    make_campaign, django_capture_on_commit_callbacks, enqueued
):
    heard = []

    def receiver(signal, sender, **payload):
        heard.append((signal, sender, payload))

    for signal in (campaign_started, campaign_finished, message_sent):
        signal.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            campaign = make_campaign("a@example.com", "b@example.com")
        channel = ScriptedChannel()
        with django_capture_on_commit_callbacks(execute=True):
            while sending.send_batch(channel, campaign.pk):
                pass
    finally:
        for signal in (campaign_started, campaign_finished, message_sent):
            signal.disconnect(receiver)
    assert enqueued == [("email", campaign.pk)] * lifecycle.PARALLEL_TASKS
    started = [(s, p) for s, _sender, p in heard if s is campaign_started]
    assert [(p["campaign"].pk, p["audience"]) for _s, p in started] == [(campaign.pk, 2)]
    sent = [p for s, sender, p in heard if s is message_sent]
    messages = Message.objects.filter(campaign=campaign)
    assert sorted((p["message_id"], p["contact_id"]) for p in sent) == sorted(
        messages.values_list("pk", "contact_id")
    )
    assert {(p["campaign_id"], p["account_id"], p["channel"]) for p in sent} == {
        (campaign.pk, campaign.account_id, "scripted")
    }
    finished = [p for s, _sender, p in heard if s is campaign_finished]
    assert [p["campaign"].pk for p in finished] == [campaign.pk]
    assert heard[-1][0] is campaign_finished


def test_sent_outcomes_are_folded_from_the_journal_when_the_batch_ends(make_campaign):
    campaign = make_campaign("a@example.com", "b@example.com")
    channel = ScriptedChannel()
    sending.send_batch(channel, campaign.pk)
    assert set(statuses(campaign).values()) == {"sent"}
    assert not SentJournal.objects.exists()


def test_lease_recovery_folds_what_a_dead_worker_journaled_and_requeues_the_rest(make_campaign):
    # given: a worker claimed two messages, the provider accepted the first, the worker died
    # before its batch was folded
    campaign = make_campaign("a@example.com", "b@example.com")
    channel = ScriptedChannel()
    claimed = sending.claim_batch(channel, campaign.pk)
    journal.append(channel, claimed[0], "provider-a", {})
    # when: its lease expires
    later = timezone.now() + sending.lease() + timezone.timedelta(seconds=1)
    changed = sending.recover_expired_leases(channel, now=later)
    # then: the sent one is sent (not sent again), the other is queued
    assert changed == 2
    first = Message.objects.get(pk=claimed[0])
    assert (first.status, first.message_id) == ("sent", "provider-a")
    assert Message.objects.get(pk=claimed[1]).status == "queued"
    assert not SentJournal.objects.exists()
    assert sending.send_batch(channel, campaign.pk) == 1
    assert channel.delivery.sent == [Message.objects.get(pk=claimed[1]).email]


def test_a_fold_writes_only_messages_still_under_their_lease(make_campaign):
    campaign = make_campaign("a@example.com")
    channel = ScriptedChannel()
    [pk] = sending.claim_batch(channel, campaign.pk)
    journal.append(channel, pk, "provider-a", {})
    Message.objects.filter(pk=pk).update(status="queued")  # recovered meanwhile
    assert journal.fold(channel, [pk]) == 0
    assert Message.objects.get(pk=pk).status == "queued"
    assert not SentJournal.objects.exists()


def test_a_batch_holds_no_more_than_the_pace_sends_in_half_a_lease(settings):
    # A batch longer than its lease would be recovered, and sent again, while still being sent.
    settings.SEND_LEASE_SECONDS = 60
    assert sending.batch_size(1) == 30
    assert sending.batch_size(5) == 150
    assert sending.batch_size(100_000) == sending.BATCH_SIZE


def test_an_opt_out_after_the_freeze_is_honoured_at_the_send(make_campaign, account):
    """A paced campaign sends for hours after its audience was frozen: a contact who
    unsubscribed meanwhile gets nothing, the others are sent."""
    # given
    campaign = make_campaign("a@example.com", "b@example.com")
    leaving = Contact.objects.get(account=account, email="b@example.com")
    consent_change(
        contact=leaving,
        channel="email",
        status="unsubscribed",
        proof=ConsentProof(source=ConsentRecord.Source.UNSUBSCRIBE),
    )
    channel = ScriptedChannel()

    # when
    sending.send_batch(channel, campaign.pk)

    # then
    assert channel.delivery.sent == ["a@example.com"]
    assert statuses(campaign) == {"a@example.com": "sent", "b@example.com": "cancelled"}
    cancelled = Message.objects.get(campaign=campaign, email="b@example.com")
    assert cancelled.error == sending.WITHDRAWN_ERROR


def test_an_address_suppressed_after_the_freeze_is_not_sent(make_campaign, account):
    """A hard bounce or a complaint in another campaign suppresses the address: this one's
    message to it is cancelled before it reaches the provider."""
    campaign = make_campaign("a@example.com", "b@example.com")
    Suppression.objects.create(
        account=account,
        channel="email",
        address_hash=address_hash("a@example.com"),
        reason=Suppression.Reason.HARD_BOUNCE,
    )
    channel = ScriptedChannel()
    sending.send_batch(channel, campaign.pk)
    assert channel.delivery.sent == ["b@example.com"]
    assert statuses(campaign) == {"a@example.com": "cancelled", "b@example.com": "sent"}


class SplitBackend(ScriptedBackend):
    """A backend that hands a message and reads its answer apart (an HTTP API's), logging the
    order of what the engine does."""

    def __init__(self, script, log):
        super().__init__(script)
        self.log = log
        self.handed = None

    def hand(self, outgoing):
        self.log.append(("hand", outgoing.message.email))
        self.handed = outgoing
        return None

    def outcome(self):
        self.log.append(("answer", self.handed.message.email))
        return self.send(self.handed)


class SplitChannel(ScriptedChannel):
    def __init__(self, script=None):
        self.log = []
        self.delivery = SplitBackend(script or {}, self.log)

    def render(self, prepared, message):
        self.log.append(("render", message.email))
        return super().render(prepared, message)


def test_a_split_backend_renders_the_next_message_while_the_provider_answers(
    make_campaign, monkeypatch
):
    # given
    campaign = make_campaign("a@example.com", "b@example.com", "c@example.com")
    channel = SplitChannel()
    recorded = []
    real_append = journal.append

    def append(channel_, pk, provider_id, *args, **kwargs):
        channel.log.append(("record", Message.objects.get(pk=pk).email))
        recorded.append(provider_id)
        return real_append(channel_, pk, provider_id, *args, **kwargs)

    monkeypatch.setattr(journal, "append", append)
    # when
    assert sending.send_batch(channel, campaign.pk) == 3
    # then: b is rendered while a is in flight, and a is recorded before b is handed
    assert channel.log == [
        ("render", "a@example.com"),
        ("hand", "a@example.com"),
        ("render", "b@example.com"),
        ("answer", "a@example.com"),
        ("record", "a@example.com"),
        ("hand", "b@example.com"),
        ("render", "c@example.com"),
        ("answer", "b@example.com"),
        ("record", "b@example.com"),
        ("hand", "c@example.com"),
        ("answer", "c@example.com"),
        ("record", "c@example.com"),
    ]
    assert set(statuses(campaign).values()) == {"sent"}


def test_a_split_backend_losing_its_connection_requeues_the_one_rendered_next(make_campaign):
    # given: b's answer is a lost connection, c was already rendered meanwhile
    campaign = make_campaign("a@example.com", "b@example.com", "c@example.com")
    channel = SplitChannel({"b@example.com": ConnectionLost("connection reset")})
    # when
    with pytest.raises(DeliveryInterrupted):
        sending.send_batch(channel, campaign.pk)
    # then
    assert ("render", "c@example.com") in channel.log
    assert ("hand", "c@example.com") not in channel.log
    assert statuses(campaign) == {
        "a@example.com": "sent",
        "b@example.com": "queued",
        "c@example.com": "queued",
    }
    assert channel.delivery.closed


def test_an_error_between_handing_and_the_answer_still_records_the_message_in_flight(
    make_campaign, monkeypatch
):
    # given: checking b fails (a database error, say) while a is in flight
    campaign = make_campaign("a@example.com", "b@example.com")
    channel = SplitChannel()
    real_deferred = sending._deferred

    def deferred(channel_, prepared, message):
        if message.email == "b@example.com":
            raise RuntimeError("the database went away")
        return real_deferred(channel_, prepared, message)

    monkeypatch.setattr(sending, "_deferred", deferred)
    # when
    with pytest.raises(RuntimeError):
        sending.send_batch(channel, campaign.pk)
    # then: a, handed to the provider, is recorded as sent, not left to be sent again
    assert statuses(campaign)["a@example.com"] == "sent"
