"""Writes of the email side: sender addresses, templates, campaigns and their lifecycle."""

from django.conf import settings
from django.core import signing
from django.core.mail import get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import ConflictError, ServiceError
from accounts.mail import send_account_mail, tag_with_account
from accounts.models import Account
from accounts.services import ensure_account_may_send
from campaigns import merge_tags, rendering
from campaigns.dkim import signing_key_for
from campaigns.models import EmailCampaign, EmailTemplate, Message, SenderAddress
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
        raise CampaignStateError("Campaigns use this sender address.", code="sender_in_use")
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


def _check_merge_tags(account: Account, texts: dict[str, str]) -> dict[str, str]:
    """The merge-tag problems of each text, by field name: campaigns and templates alike."""
    custom_keys = set(ContactField.objects.filter(account=account).values_list("key", flat=True))
    errors = {}
    for name, text in texts.items():
        problems = merge_tags.validate(text or "", custom_keys)
        if problems:
            errors[name] = "; ".join(f"{p.tag}: {p.message}" for p in problems[:5])
    return errors


def _check_content(account: Account, data: dict) -> dict[str, str]:
    return _check_merge_tags(
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
    """The draft lacks what sending needs (a verified sender, content, an audience): a state
    of the campaign to complete first, so a 409 naming the fields to fill in."""

    code = "not_ready"


def _ready_to_send(campaign: EmailCampaign) -> None:
    errors = {}
    if not campaign.sender or not campaign.sender.is_verified:
        errors["sender"] = _("Choose a verified sender address.")
    if not campaign.subject.strip():
        errors["subject"] = _("A subject is required.")
    if not campaign.html.strip():
        errors["html"] = _("The campaign has no content.")
    if "{{ unsubscribe_url" not in campaign.html.replace("{{unsubscribe_url", "{{ unsubscribe_url"):
        errors["html"] = _("The content must show the unsubscribe link {{ unsubscribe_url }}.")
    if not (campaign.lists.exists() or campaign.segments.exists()):
        errors["lists"] = _("Choose at least one list or segment.")
    if errors:
        raise CampaignNotReady(errors)


@transaction.atomic
def campaign_schedule(*, campaign: EmailCampaign, at, sandbox: bool = False) -> EmailCampaign:
    """`at` None: start now. A sandbox campaign records its messages and delivers none."""
    from campaigns.pipeline import campaign_start

    if campaign.status not in {EmailCampaign.Status.DRAFT, EmailCampaign.Status.SCHEDULED}:
        raise CampaignStateError(
            {"status": _("This campaign has already been sent.")}, code="already_sent"
        )
    ensure_account_may_send(campaign.account)
    _ready_to_send(campaign)
    campaign.sandbox = sandbox
    if at is not None and at > timezone.now():
        campaign.status = EmailCampaign.Status.SCHEDULED
        campaign.scheduled_at = at
        campaign.save(update_fields=["status", "scheduled_at", "sandbox", "updated_at"])
        return campaign
    campaign.save(update_fields=["sandbox", "updated_at"])
    campaign_start(campaign=campaign)
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
        return connection.send_messages(emails) or 0


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

    errors = _check_merge_tags(account, {"source": source})
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
