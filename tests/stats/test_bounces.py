import mailbox
import string
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from campaigns import pipeline
from campaigns.models import EmailCampaign, Message
from campaigns.services import campaign_create, campaign_schedule
from campaigns.verp import read_verp_token, verp_address, verp_token
from contacts.models import Contact, Suppression, address_hash
from stats.bounces import (
    Outcome,
    ReportKind,
    bounce_report_apply,
    parse_report,
)
from stats.models import CampaignStats, EmailEvent, SoftBounceCount
from stats.services import events
from tests.factories import (
    ContactListFactory,
    EmailCampaignFactory,
    ListMembershipFactory,
    MessageFactory,
    SenderAddressFactory,
)

FIXTURES = Path(__file__).parent / "fixtures"
BOUNCE_ADDRESS = "bounces@sendethic.example"
SAMPLE = {
    "return_path": "bounces+1f-0123456789abcdef@sendethic.example",
    "recipient": "claire@example.org",
    "message_id": "<173684232412.4242.9911.m31@boutique.fr>",
}


def fixture(name: str, **values: str) -> bytes:
    """A sample report, with the addresses and ids of the message it is about filled in."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return string.Template(text).safe_substitute(values).encode("utf-8")


def delivery_status(*, action: str, status: str = "", diagnostic: str = "") -> bytes:
    fields = "".join(
        f"{name}: {value}\n"
        for name, value in (("Status", status), ("Diagnostic-Code", diagnostic))
        if value
    )
    return (
        "From: MAILER-DAEMON@mx.example.net\n"
        f"To: {SAMPLE['return_path']}\n"
        "Subject: Delivery Status Notification\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nSee the report.\n"
        "--b\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.net\n\n"
        f"Final-Recipient: rfc822; {SAMPLE['recipient']}\nAction: {action}\n{fields}\n"
        "--b--\n"
    ).encode()


@pytest.fixture
def bounce_address(settings):
    settings.BOUNCE_ADDRESS = BOUNCE_ADDRESS
    return BOUNCE_ADDRESS


# --- Reading reports ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "status", "diagnostic"),
    [
        (
            "postfix_user_unknown.eml",
            ReportKind.HARD,
            "5.1.1",
            "550 5.1.1 <claire@example.org>: Recipient address rejected: User unknown in "
            "virtual mailbox table",
        ),
        (
            "exchange_recipient_not_found.eml",
            ReportKind.HARD,
            "5.1.10",
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found",
        ),
        ("sendmail_mailbox_full.eml", ReportKind.SOFT, "4.2.2", "452 4.2.2 Mailbox full"),
        ("postfix_delayed.eml", ReportKind.DELAYED, "4.4.1", "connect to mx.slow.example"),
        ("arf_abuse.eml", ReportKind.COMPLAINT, "", "abuse report (ExampleMail-FBL/1.4)"),
    ],
)
def test_standard_reports_are_read_field_by_field(bounce_address, name, kind, status, diagnostic):
    report = parse_report(fixture(name, **SAMPLE))

    assert report.kind == kind
    assert report.status == status
    assert diagnostic in report.diagnostic
    assert report.recipient == "claire@example.org"
    assert report.verp_token == "1f-0123456789abcdef"
    assert report.original_message_id == SAMPLE["message_id"]
    assert report.occurred_at is not None and report.occurred_at.tzinfo is not None


def test_a_free_text_failure_notice_is_read_from_its_status_code(bounce_address):
    report = parse_report(fixture("qmail_failure_notice.eml", **SAMPLE))

    assert report.kind == ReportKind.HARD
    assert report.status == "5.7.1"
    assert "Remote host said: 550 5.7.1" in report.diagnostic
    assert report.verp_token == "1f-0123456789abcdef"
    # the copy of the message pasted below the explanation still gives its Message-ID
    assert report.original_message_id == SAMPLE["message_id"]


def test_an_auto_reply_to_the_return_path_is_not_a_bounce(bounce_address):
    report = parse_report(fixture("out_of_office.eml", **SAMPLE))

    assert report.kind == ReportKind.NONE


def test_the_campaigns_own_text_quoted_in_a_bounce_is_not_read_as_a_status(bounce_address):
    # the Exchange sample quotes the original, whose text says "450 points"
    report = parse_report(fixture("exchange_recipient_not_found.eml", **SAMPLE))

    assert report.status == "5.1.10"


@pytest.mark.parametrize(
    ("action", "status", "diagnostic", "kind"),
    [
        ("failed", "5.1.1", "smtp; 550 5.1.1 user unknown", ReportKind.HARD),
        ("failed", "4.4.7", "", ReportKind.SOFT),  # gave up after retrying: soft
        ("failed", "5.2.2", "smtp; 552 5.2.2 over quota", ReportKind.SOFT),  # mailbox full
        ("failed", "", "smtp; 550 5.1.2 bad domain", ReportKind.HARD),  # status in the diagnostic
        ("failed", "", "", ReportKind.HARD),  # "failed" is final
        ("delayed", "4.4.1", "", ReportKind.DELAYED),
        ("delivered", "2.0.0", "", ReportKind.NONE),
        ("relayed", "2.0.0", "", ReportKind.NONE),
    ],
)
def test_dsn_actions_and_statuses(bounce_address, action, status, diagnostic, kind):
    report = parse_report(delivery_status(action=action, status=status, diagnostic=diagnostic))

    assert report.kind == kind


def test_reports_are_read_from_mailbox_messages_too(bounce_address, tmp_path):
    box = mailbox.mbox(tmp_path / "in.mbox")
    box.add(fixture("postfix_user_unknown.eml", **SAMPLE))
    box.flush()

    (message,) = list(mailbox.mbox(tmp_path / "in.mbox"))

    assert parse_report(message).kind == ReportKind.HARD


def test_without_a_bounce_address_no_verp_token_is_looked_for(settings):
    settings.BOUNCE_ADDRESS = ""

    report = parse_report(fixture("postfix_user_unknown.eml", **SAMPLE))

    assert report.verp_token == ""
    assert report.original_message_id == SAMPLE["message_id"]
    assert verp_address(31) == ""


def test_verp_addresses_round_trip(bounce_address):
    local, _at, domain = verp_address(12345).partition("@")

    assert domain == "sendethic.example"
    assert local.startswith("bounces+") and local == local.lower()
    assert read_verp_token(local.removeprefix("bounces+")) == 12345


# --- Sending with VERP, then reading the bounces back ------------------------------------------

HTML = '<p>Bonjour !</p><p><a href="{{ unsubscribe_url }}">Désinscription</a></p>'


@pytest.fixture
def campaign(account):
    account.postal_address = "1 rue de la Paix, 75002 Paris"
    account.save()
    sender = SenderAddressFactory(account=account, email="news@boutique.fr", name="La Boutique")
    newsletter = ContactListFactory(account=account, name="Newsletter")
    for email in ("zoe@example.com", "paul@example.com", "slow@example.com"):
        ListMembershipFactory(
            contact_list=newsletter, contact__email=email, contact__email_status="subscribed"
        )
    return campaign_create(
        account=account,
        data={
            "name": "Soldes",
            "subject": "Les soldes commencent",
            "sender": sender,
            "html": HTML,
            "lists": [newsletter],
        },
    )


@pytest.fixture
def envelopes(smtp_server):
    """(MAIL FROM, message) of each delivery the SMTP server accepts."""
    received = []
    record = smtp_server.handle_DATA

    async def handle_data(server, session, envelope):
        status = await record(server, session, envelope)
        received.append((envelope.mail_from, smtp_server.messages[-1][1]))
        return status

    smtp_server.handle_DATA = handle_data  # looked up per SMTP session, so patched in time
    return received


def send(campaign):
    campaign_schedule(campaign=campaign, at=None)
    while pipeline.send_batch(campaign.pk):
        pass


def test_direct_smtp_messages_leave_with_a_verp_return_path(bounce_address, campaign, envelopes):
    send(campaign)

    assert len(envelopes) == 3
    for mail_from, received in envelopes:
        message = Message.objects.get(campaign=campaign, email=received["To"])
        assert mail_from == f"bounces+{verp_token(message.pk)}@sendethic.example"
        assert message.message_id == received["Message-ID"]


def test_without_a_bounce_address_the_sender_is_the_return_path(settings, campaign, envelopes):
    settings.BOUNCE_ADDRESS = ""

    send(campaign)

    assert {mail_from for mail_from, _received in envelopes} == {"news@boutique.fr"}


def write_mbox(path: Path, reports: list[bytes]) -> str:
    box = mailbox.mbox(path)
    for report in reports:
        box.add(report)
    box.flush()
    return str(path)


def process(**options) -> str:
    out = StringIO()
    call_command("process_bounces", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def processed_mbox(bounce_address, campaign, envelopes, tmp_path):
    """Three messages delivered with VERP return paths, then a mailbox of their reports (a hard
    bounce, a complaint, a delay, an auto-reply and a forged bounce) processed once: (output,
    mbox path)."""
    send(campaign)
    sent = {received["To"]: (mail_from, received) for mail_from, received in envelopes}

    def report(name, email):
        mail_from, received = sent[email]
        return fixture(
            name, return_path=mail_from, recipient=email, message_id=received["Message-ID"]
        )

    zoe = Message.objects.get(campaign=campaign, email="zoe@example.com")
    forged = f"bounces+{zoe.pk:x}-0123456789abcdef@sendethic.example"
    path = write_mbox(
        tmp_path / "bounces.mbox",
        [
            report("postfix_user_unknown.eml", "zoe@example.com"),
            report("arf_abuse.eml", "paul@example.com"),
            report("postfix_delayed.eml", "slow@example.com"),
            report("out_of_office.eml", "slow@example.com"),
            # a bounce naming zoe's message with a token that was never signed
            fixture(
                "postfix_user_unknown.eml",
                return_path=forged,
                recipient="zoe@example.com",
                message_id="<unknown@elsewhere.example>",
            ),
        ],
    )
    return process(mbox=[path]), path


def test_processing_an_mbox_reports_what_it_found(processed_mbox):
    # given / when
    output, _path = processed_mbox
    # then
    assert (
        "hard bounces 1, soft bounces 0, complaints 1, unmatched 1, ignored 2, already recorded 0"
        in output
    )


def test_a_hard_bounce_from_an_mbox_bounces_its_message(processed_mbox, campaign):
    # given / when: the mailbox is processed
    # then
    zoe = Message.objects.get(campaign=campaign, email="zoe@example.com")
    assert zoe.status == Message.Status.BOUNCED
    assert "5.1.1" in zoe.error
    bounce = EmailEvent.objects.get(message=zoe)
    assert (bounce.kind, bounce.source) == (EmailEvent.Kind.HARD_BOUNCE, "dsn")
    assert "User unknown" in bounce.detail


def test_a_complaint_from_an_mbox_is_recorded(processed_mbox, campaign):
    # given / when: the mailbox is processed
    # then
    paul = Message.objects.get(campaign=campaign, email="paul@example.com")
    complaint = EmailEvent.objects.get(message=paul)
    assert (complaint.kind, complaint.source) == (EmailEvent.Kind.COMPLAINT, "arf")


def test_hard_bounces_and_complaints_from_an_mbox_are_suppressed_and_counted(
    processed_mbox, campaign, account
):
    # given / when: the mailbox is processed
    # then
    suppressed = dict(
        Suppression.objects.filter(account=account).values_list("address_hash", "reason")
    )
    assert suppressed == {
        address_hash("zoe@example.com"): Suppression.Reason.HARD_BOUNCE,
        address_hash("paul@example.com"): Suppression.Reason.COMPLAINT,
    }
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.hard_bounces, stats.soft_bounces, stats.complaints) == (1, 0, 1)


def test_delays_and_auto_replies_in_an_mbox_leave_their_message_sent(processed_mbox, campaign):
    # given / when: the mailbox is processed
    # then
    slow = Message.objects.get(campaign=campaign, email="slow@example.com")
    assert slow.status == Message.Status.SENT and not slow.events.exists()


def test_a_second_pass_over_the_same_mbox_records_nothing_new(processed_mbox, campaign):
    # given
    _output, path = processed_mbox
    # when
    output = process(mbox=path)
    # then
    assert "hard bounces 0, soft bounces 0, complaints 0, unmatched 1, ignored 2" in output
    assert "already recorded 2" in output
    assert EmailEvent.objects.count() == 2
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.hard_bounces, stats.complaints) == (1, 1)


def sent_message(account, email: str, *, status=EmailCampaign.Status.FINISHED) -> Message:
    """One message already sent to `email`, in a campaign of its own."""
    contact, _created = Contact.objects.get_or_create(
        account=account, key=email, defaults={"email": email, "email_status": "subscribed"}
    )
    campaign = EmailCampaignFactory(account=account, name="Soldes", subject="Soldes", status=status)
    message = MessageFactory(
        campaign=campaign, contact=contact, email=email, status="sent", sent_at=timezone.now()
    )
    message.message_id = f"<173684232412.4242.99{message.pk}.m{message.pk}@boutique.fr>"
    message.save(update_fields=["message_id"])
    return message


def mailbox_full(message: Message) -> bytes:
    return fixture(
        "sendmail_mailbox_full.eml",
        return_path=verp_address(message.pk),
        recipient=message.email,
        message_id=message.message_id,
    )


@pytest.fixture
def full_mailbox_messages(bounce_address, settings, account, tmp_path):
    """Three campaigns that each reached a full mailbox, the first two bounces in a Maildir."""
    settings.SOFT_BOUNCE_LIMIT = 3
    messages = [sent_message(account, "full@example.com") for _ in range(3)]
    maildir = mailbox.Maildir(tmp_path / "Maildir")
    for message in messages[:2]:
        maildir.add(mailbox_full(message))
    return messages, maildir


def test_soft_bounces_under_the_limit_are_counted_not_suppressed(
    full_mailbox_messages, account, tmp_path
):
    # given: two soft bounces in the Maildir
    # when the first two bounces are read
    output = process(maildir=[str(tmp_path / "Maildir")])
    # then
    assert "hard bounces 0, soft bounces 2" in output
    assert SoftBounceCount.objects.get(account=account).count == 2
    assert not Suppression.objects.filter(account=account).exists()


def test_soft_bounces_in_a_row_become_a_hard_bounce(full_mailbox_messages, account, tmp_path):
    # given: the first two bounces already read
    messages, maildir = full_mailbox_messages
    process(maildir=[str(tmp_path / "Maildir")])
    # when the third one arrives
    maildir.add(mailbox_full(messages[2]))
    output = process(maildir=[str(tmp_path / "Maildir")], delete=True)
    # then it is the hard bounce that suppresses the address
    assert "hard bounces 1, soft bounces 0" in output and "already recorded 2" in output
    last = EmailEvent.objects.get(message=messages[2])
    assert last.kind == EmailEvent.Kind.HARD_BOUNCE
    assert last.detail.startswith("3 ") and last.detail.endswith("4.2.2 Mailbox full")
    messages[2].refresh_from_db()
    assert messages[2].status == Message.Status.BOUNCED
    assert Suppression.objects.get(account=account).reason == Suppression.Reason.HARD_BOUNCE
    assert not SoftBounceCount.objects.exists()
    assert CampaignStats.objects.get(campaign=messages[2].campaign).hard_bounces == 1
    assert len(mailbox.Maildir(tmp_path / "Maildir")) == 0  # --delete emptied it


def test_a_bounce_without_verp_is_matched_by_the_returned_message_id(settings, account):
    settings.BOUNCE_ADDRESS = ""
    message = sent_message(account, "gone@corp.example.com")
    report = parse_report(
        fixture(
            "exchange_recipient_not_found.eml",
            return_path="news@boutique.fr",
            recipient=message.email,
            message_id=message.message_id,
        )
    )

    assert bounce_report_apply(report=report) == Outcome.HARD
    assert bounce_report_apply(report=report) == Outcome.DUPLICATE
    assert EmailEvent.objects.get(message=message).kind == EmailEvent.Kind.HARD_BOUNCE


def test_a_message_id_with_a_guessed_pk_matches_nothing(settings, account):
    settings.BOUNCE_ADDRESS = ""
    message = sent_message(account, "zoe@example.com")
    report = parse_report(
        fixture(
            "postfix_user_unknown.eml",
            return_path="news@boutique.fr",
            recipient=message.email,
            message_id=f"<1.2.3.m{message.pk}@boutique.fr>",
        )
    )

    assert bounce_report_apply(report=report) == Outcome.UNMATCHED
    assert not EmailEvent.objects.exists()


def test_the_command_needs_a_mailbox(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        process()
    with pytest.raises(CommandError):
        process(mbox=["/nonexistent/bounces.mbox"])


# --- Complaint rate ----------------------------------------------------------------------------


def running_campaign_with_sent_messages(account, count: int) -> list[Message]:
    campaign = EmailCampaignFactory(
        account=account, name="Promo", subject="Promo", status=EmailCampaign.Status.RUNNING
    )
    messages = []
    for i in range(count):
        message = MessageFactory(
            campaign=campaign,
            contact=None,
            email=f"r{i}@example.com",
            status="sent",
            sent_at=timezone.now(),
        )
        message.message_id = f"<1.2.3.m{message.pk}@boutique.fr>"
        message.save(update_fields=["message_id"])
        messages.append(message)
    return messages


def complaint_about(message: Message) -> bytes:
    return fixture(
        "arf_abuse.eml",
        return_path=verp_address(message.pk),
        recipient=message.email,
        message_id=message.message_id,
    )


def test_a_campaign_whose_complaint_rate_passes_the_threshold_pauses_and_warns_the_owner(
    bounce_address,
    settings,
    account,
    owner,
    tmp_path,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    # given a running campaign that has sent 10 messages
    settings.COMPLAINT_PAUSE_MIN_SENT = 5
    settings.COMPLAINT_RATE_PAUSE_THRESHOLD = 0.001
    messages = running_campaign_with_sent_messages(account, 10)
    path = write_mbox(tmp_path / "fbl.mbox", [complaint_about(messages[0])])

    # when one recipient complains (10 %, far above 0.1 %)
    with django_capture_on_commit_callbacks(execute=True):
        output = process(mbox=[path])

    # then the campaign pauses itself and says why, and the owner is told
    assert "complaints 1" in output
    campaign = EmailCampaign.objects.get(pk=messages[0].campaign_id)
    assert campaign.status == EmailCampaign.Status.PAUSED
    # Written in the account's language (French by default).
    assert "1 plaintes pour 10 messages envoyés" in campaign.pause_reason
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [owner.email]
    assert "Promo" in mailoutbox[0].subject
    assert f"/stats/campaigns/{campaign.pk}/" in mailoutbox[0].body


def test_a_complaint_rate_under_the_threshold_leaves_the_campaign_running(
    bounce_address,
    settings,
    account,
    owner,
    tmp_path,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    settings.COMPLAINT_PAUSE_MIN_SENT = 5
    settings.COMPLAINT_RATE_PAUSE_THRESHOLD = 0.2
    messages = running_campaign_with_sent_messages(account, 10)
    path = write_mbox(tmp_path / "fbl.mbox", [complaint_about(messages[0])])

    with django_capture_on_commit_callbacks(execute=True):
        process(mbox=[path])

    campaign = EmailCampaign.objects.get(pk=messages[0].campaign_id)
    assert campaign.status == EmailCampaign.Status.RUNNING
    assert mailoutbox == []


def test_the_automatic_pause_is_the_campaigns_pause_service_with_a_reason(
    bounce_address,
    settings,
    account,
    owner,
    tmp_path,
    mailoutbox,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    # given a running campaign far above the complaint threshold, and a record of every call
    # to the channel's pause service (which still does the pausing)
    settings.COMPLAINT_PAUSE_MIN_SENT = 5
    settings.COMPLAINT_RATE_PAUSE_THRESHOLD = 0.001
    messages = running_campaign_with_sent_messages(account, 10)
    calls = []

    def recorded_pause(*, campaign, reason=""):
        calls.append((campaign.pk, reason))
        return pipeline.campaign_pause(campaign=campaign, reason=reason)

    monkeypatch.setattr(events, "campaign_pause", recorded_pause)
    path = write_mbox(tmp_path / "fbl.mbox", [complaint_about(messages[0])])

    # when one recipient complains
    with django_capture_on_commit_callbacks(execute=True):
        process(mbox=[path])

    # then stats asked the pause service once, with the reason the marketer reads
    campaign = EmailCampaign.objects.get(pk=messages[0].campaign_id)
    assert calls == [(campaign.pk, campaign.pause_reason)]
    assert campaign.status == EmailCampaign.Status.PAUSED
    assert "1 plaintes pour 10 messages envoyés" in campaign.pause_reason
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [owner.email]
    # and resuming (the same service family) clears the reason
    assert pipeline.campaign_resume(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == EmailCampaign.Status.RUNNING and campaign.pause_reason == ""


def test_a_complaint_on_a_campaign_the_marketer_paused_adds_no_reason_and_no_warning(
    bounce_address,
    settings,
    account,
    owner,
    tmp_path,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    settings.COMPLAINT_PAUSE_MIN_SENT = 5
    settings.COMPLAINT_RATE_PAUSE_THRESHOLD = 0.001
    messages = running_campaign_with_sent_messages(account, 10)
    campaign = messages[0].campaign
    assert pipeline.campaign_pause(campaign=campaign)
    path = write_mbox(tmp_path / "fbl.mbox", [complaint_about(messages[0])])

    with django_capture_on_commit_callbacks(execute=True):
        output = process(mbox=[path])

    assert "complaints 1" in output
    campaign.refresh_from_db()
    assert campaign.status == EmailCampaign.Status.PAUSED
    assert campaign.pause_reason == ""
    assert mailoutbox == []
