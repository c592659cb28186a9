"""Writes of the email side: sender addresses, templates, campaigns and their lifecycle."""

from django.conf import settings
from django.core import signing
from django.core.mail import get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.errors import ConflictError, ServiceError
from accounts.getting_started import milestone_reach
from accounts.mail import send_account_mail, tag_with_account
from accounts.models import Account, AccountMilestone
from accounts.services import ensure_account_may_send
from campaigns import merge_tags, rendering
from campaigns.dkim import signing_key_for
from campaigns.models import EmailCampaign, EmailTemplate, Message, SenderAddress
from campaigns.selectors import campaign_checklist
from contacts.models import Contact, ContactField

SENDER_SALT = "campaigns.sender-verification"
MAX_TEST_RECIPIENTS = 10


class CampaignError(ServiceError):
    pass


class SenderExists(ConflictError):
    """The account already has this sender address (409, field `email`)."""

    code = "sender_exists"


class CampaignStateError(ConflictError):
    """The change is valid but the current state of the campaign or sender forbids it (409).

    Messages given as a plain text are only shown by the API (in English, as API errors are by default), so they are
    not in the translation catalog."""


def sender_create(*, account: Account, email: str, name: str) -> SenderAddress:
    email = email.strip().lower()
    if SenderAddress.objects.filter(account=account, email=email).exists():
        raise SenderExists({"email": _("This sender address already exists.")})
    sender = SenderAddress.objects.create(account=account, email=email, name=name.strip())
    token = signing.dumps({"s": sender.pk, "e": email}, salt=SENDER_SALT)
    link = settings.PUBLIC_BASE_URL + reverse("campaigns:sender_verify", args=[token])
    transaction.on_commit(
        lambda: send_account_mail(
            account_id=account.pk,
            subject=_("Confirm your sender address"),
            message=_(
                "To send campaigns from %(email)s with Sendethic, confirm that this address is "
                "yours by opening this link:\n\n%(link)s"
            )
            % {"email": email, "link": link},
            recipient_list=[email],
        )
    )
    return sender


def sender_delete(*, sender: SenderAddress) -> None:
    if EmailCampaign.objects.filter(sender=sender).exists():
        raise CampaignStateError(_("Campaigns use this sender address."), code="sender_in_use")
    sender.delete()


def sender_verify(*, token: str) -> SenderAddress | None:
    try:
        payload = signing.loads(token, salt=SENDER_SALT, max_age=7 * 24 * 3600)
    except signing.BadSignature:
        return None
    sender = SenderAddress.objects.filter(pk=payload["s"], email=payload["e"]).first()
    if sender is not None and sender.verified_at is None:
        sender.verified_at = timezone.now()
        sender.save(update_fields=["verified_at"])
    return sender


AUDIENCE_FIELDS = ("lists", "segments", "excluded_lists", "excluded_segments")
SIMPLE_FIELDS = {
    "name", "subject", "preheader", "reply_to", "html", "text", "track_opens", "track_clicks",
    "utm_parameters",
}  # fmt: skip


def merge_tag_problems(account: Account, texts: dict) -> dict:
    """The merge-tag problems of each text ("tag: why; …", the first five), under the text's
    own key (a field name, a block's path, a step and a field): every text a channel sends is
    checked here, against the account's custom fields read once."""
    custom_keys = set(ContactField.objects.filter(account=account).values_list("key", flat=True))
    errors = {}
    for name, text in texts.items():
        problems = merge_tags.validate(text or "", custom_keys)
        if problems:
            errors[name] = "; ".join(f"{p.tag}: {p.message}" for p in problems[:5])
    return errors


def _check_content(account: Account, data: dict) -> dict[str, str]:
    return merge_tag_problems(
        account, {name: data.get(name) for name in ("subject", "preheader", "html", "text")}
    )


def _apply(campaign: EmailCampaign, data: dict) -> None:
    account = campaign.account
    errors = _check_content(account, data)
    sender = data.get("sender")
    if sender is not None and sender.account_id != account.pk:
        errors["sender"] = _("No such sender address.")
    for name in AUDIENCE_FIELDS:
        for item in data.get(name) or []:
            if item.account_id != account.pk:
                errors[name] = _("No such list or segment.")
    if errors:
        raise CampaignError(errors)
    for name in SIMPLE_FIELDS & set(data):
        setattr(campaign, name, data[name])
    if "sender" in data:
        campaign.sender = sender
    campaign.save()
    for name in AUDIENCE_FIELDS:
        if name in data:
            getattr(campaign, name).set(data[name])


@transaction.atomic
def campaign_create(*, account: Account, data: dict) -> EmailCampaign:
    campaign = EmailCampaign(account=account)
    _apply(campaign, data)
    return campaign


@transaction.atomic
def campaign_update(*, campaign: EmailCampaign, data: dict) -> EmailCampaign:
    if not campaign.is_editable:
        raise CampaignStateError(
            {"status": _("A campaign cannot be changed once sending started.")},
            code="not_editable",
        )
    _apply(campaign, data)
    return campaign


def campaign_delete(*, campaign: EmailCampaign) -> None:
    if campaign.status != EmailCampaign.Status.DRAFT:
        raise CampaignStateError(
            "Only a draft can be deleted; cancel it instead.", code="not_draft"
        )
    campaign.delete()


class CampaignNotReady(CampaignStateError, CampaignError):
    """The draft fails a blocking item of its pre-send checklist (campaigns/selectors.py): a state
    of the campaign to complete first, so a 409 naming the fields to fill in."""

    code = "not_ready"


def ensure_ready_to_send(campaign: EmailCampaign):
    """The campaign's checklist, or a 409 naming every failing blocking item."""
    checklist = campaign_checklist(campaign)
    if not checklist.ready:
        raise CampaignNotReady(checklist.errors())
    return checklist


@transaction.atomic
def campaign_schedule(
    *,
    campaign: EmailCampaign,
    at,
    sandbox: bool = False,
    expected_recipients: int | None = None,
) -> EmailCampaign:
    """`at` None: start now; a scheduled campaign may be rescheduled or started now. A time in
    the past is refused rather than read as "now": the marketer meant a date and got it wrong.
    `expected_recipients`: the audience count the sender confirmed; refused if the audience
    changed since (someone imported or unsubscribed in between). A sandbox campaign records its
    messages and delivers none."""
    from campaigns.pipeline import campaign_start

    if campaign.status not in {EmailCampaign.Status.DRAFT, EmailCampaign.Status.SCHEDULED}:
        raise CampaignStateError(
            {"status": _("This campaign has already been sent.")}, code="already_sent"
        )
    if at is not None and at <= timezone.now():
        raise CampaignError(
            {"at": _("This time is in the past: choose a later one, or send now.")},
            code="schedule_in_past",
        )
    ensure_account_may_send(campaign.account)
    checklist = ensure_ready_to_send(campaign)
    if expected_recipients is not None and expected_recipients != checklist.recipients:
        raise CampaignStateError(
            {
                "expected_recipients": ngettext(
                    "The audience is now %(count)d recipient: check it and confirm again.",
                    "The audience is now %(count)d recipients: check it and confirm again.",
                    checklist.recipients,
                )
                % {"count": checklist.recipients}
            },
            code="audience_changed",
        )
    campaign.sandbox = sandbox
    campaign.pause_reason = ""  # why an earlier schedule was held back, now dealt with
    if at is not None:
        campaign.status = EmailCampaign.Status.SCHEDULED
        campaign.scheduled_at = at
        campaign.save(
            update_fields=["status", "scheduled_at", "sandbox", "pause_reason", "updated_at"]
        )
        return campaign
    campaign.save(update_fields=["sandbox", "pause_reason", "updated_at"])
    campaign_start(campaign=campaign)
    campaign.refresh_from_db()
    return campaign


def campaign_unschedule(*, campaign: EmailCampaign) -> EmailCampaign:
    """A scheduled campaign back to draft. Conditional, so a beat tick that started it in the
    meantime wins and the caller is told."""
    unscheduled = EmailCampaign.objects.filter(
        pk=campaign.pk, status=EmailCampaign.Status.SCHEDULED
    ).update(status=EmailCampaign.Status.DRAFT, scheduled_at=None, updated_at=timezone.now())
    if not unscheduled:
        raise CampaignStateError(
            {"status": _("Only a scheduled campaign can be unscheduled.")}, code="not_scheduled"
        )
    campaign.refresh_from_db()
    return campaign


def campaign_send_test(*, campaign: EmailCampaign, recipients: list[str]) -> int:
    """Send the campaign as it will look to the first contact of its audience (or a blank one)."""
    from campaigns.pipeline import audience

    if not 1 <= len(recipients) <= MAX_TEST_RECIPIENTS:
        raise CampaignError({"recipients": _("Give between 1 and 10 addresses.")})
    if campaign.sandbox:
        return 0
    ensure_account_may_send(campaign.account)
    prepared = rendering.prepare(campaign)
    sample = audience(campaign).first() or Contact(account=campaign.account, fields={})
    values = merge_tags.contact_values(sample, campaign.account)
    # Signed like the campaign's messages (campaigns.backends signs when it speaks SMTP).
    dkim_key = (
        signing_key_for(campaign.account_id, campaign.sender.email) if campaign.sender else None
    )
    emails = []
    for recipient in recipients:
        preview = Message(pk=0, campaign=campaign, email=recipient)
        email = rendering.build_email(prepared, preview, values, preheader=campaign.preheader)
        email.subject = f"[TEST] {email.subject}"
        email.dkim_key = dkim_key
        emails.append(tag_with_account(email, campaign.account_id))
    with get_connection() as connection:
        sent = connection.send_messages(emails) or 0
    if sent:
        # update(), not save(): a test send changes nothing the marketer wrote (updated_at).
        EmailCampaign.objects.filter(pk=campaign.pk).update(test_sent_at=timezone.now())
        campaign.test_sent_at = timezone.now()
        # The dashboard's getting-started checklist ticks "send a test" from this.
        milestone_reach(account=campaign.account, kind=AccountMilestone.Kind.TEST_SENT)
    return sent


def campaign_save_as_template(*, campaign: EmailCampaign, name: str) -> EmailTemplate:
    """The campaign's content kept as one of the account's templates, to start others from."""
    if not campaign.html.strip():
        raise CampaignError({"html": _("The campaign has no content.")})
    return template_save(account=campaign.account, name=name, source=campaign.html)


def template_save(
    *,
    account: Account,
    name: str,
    source: str,
    kind: str = EmailTemplate.Kind.HTML,
    template: EmailTemplate | None = None,
) -> EmailTemplate:
    from campaigns.gallery import MjmlError, render_mjml

    errors = merge_tag_problems(account, {"source": source})
    if errors:
        raise CampaignError(errors)
    try:
        html = render_mjml(source) if kind == EmailTemplate.Kind.MJML else source
    except MjmlError as error:
        raise CampaignError({"source": str(error)}) from error
    template = template or EmailTemplate(account=account)
    template.name, template.kind, template.source, template.html = name, kind, source, html
    template.save()
    return template
