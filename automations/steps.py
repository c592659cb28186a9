"""What each kind of step does to one enrolled contact.

Sending steps (email, SMS, notify) go through the send engine's single-send path with the due
row's idempotency key: consent, suppression and the SMS legal hours are checked there, at the
send, never at entry. They run outside the row's transaction; the other steps run inside it.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.mail import send_account_mail
from automations import flow
from automations.models import Enrolment, StepCampaign
from campaigns.models import EmailCampaign, SenderAddress
from campaigns.pipeline import message_send_one
from contacts.models import ConsentRecord, Contact, ContactList, DuplicatePolicy
from contacts.segments.language import SegmentRuleError
from contacts.segments.selectors import rules_contacts
from contacts.services.consent import ConsentProof
from contacts.services.contacts import contacts_bulk_upsert
from contacts.services.lists import list_add_contacts, list_remove_contacts
from sms.models import SmsCampaign, SmsSender

AUTOMATION_PROOF = ConsentProof(source=ConsentRecord.Source.API, form="automation")


def step_campaign(enrolment: Enrolment, step: dict):
    """The campaign carrying this step of this version, made on its first send."""
    link = StepCampaign.objects.filter(version_id=enrolment.version_id, step_id=step["id"]).first()
    if link is None:
        with transaction.atomic():
            link = _make_step_campaign(enrolment, step)
    campaign = link.email_campaign or link.sms_campaign
    return type(campaign).objects.select_related("account").get(pk=campaign.pk)


def _make_step_campaign(enrolment: Enrolment, step: dict) -> StepCampaign:
    config, scenario = step.get("config") or {}, enrolment.scenario
    name = _("Scenario %(name)s, step %(step)s (v%(version)s)") % {
        "name": scenario.name,
        "step": step["id"],
        "version": enrolment.version.number,
    }
    now = timezone.now()
    common = {"account_id": scenario.account_id, "name": name[:200], "status": "running",
              "started_at": now, "standing": True}  # fmt: skip
    link, created = StepCampaign.objects.get_or_create(
        version_id=enrolment.version_id, step_id=step["id"]
    )
    if not created:
        return link
    if step["kind"] == flow.EMAIL:
        link.email_campaign = EmailCampaign.objects.create(
            subject=config.get("subject", "")[:255],
            preheader=config.get("preheader", "")[:255],
            html=config.get("html", ""),
            sender=SenderAddress.objects.filter(
                account_id=scenario.account_id, pk=config.get("sender_id") or 0
            ).first(),
            **common,
        )
    else:
        link.sms_campaign = SmsCampaign.objects.create(
            text=config.get("text", ""),
            sender=SmsSender.objects.filter(
                account_id=scenario.account_id, pk=config.get("sender_id") or 0
            ).first(),
            **common,
        )
    link.save()
    return link


def run_sending_step(enrolment: Enrolment, step: dict, key: str) -> str:
    if step["kind"] == flow.NOTIFY:
        config = step.get("config") or {}
        contact = enrolment.contact
        body = config.get("text") or _("%(contact)s reached step %(step)s of %(scenario)s.") % {
            "contact": contact.email or contact.key,
            "step": step["id"],
            "scenario": enrolment.scenario.name,
        }
        send_account_mail(
            account_id=enrolment.account_id,
            subject=config.get("subject")
            or _("Scenario %(name)s") % {"name": enrolment.scenario.name},
            message=body,
            recipient_list=list(config.get("emails") or []),
        )
        return "notified"
    campaign = step_campaign(enrolment, step)
    message = message_send_one(campaign=campaign, contact=enrolment.contact, idempotency_key=key)
    # "queued": deferred by the channel (legal hours); the engine sends it when they open.
    return message.status


def _field_data(field: str, value) -> dict:
    """A contact write's data for one field: custom fields are written as {"fields": {…}}."""
    if field.startswith("fields."):
        return {"fields": {field.removeprefix("fields."): value}}
    return {field: value}


def run_inner_steps(enrolments: list[Enrolment], step: dict) -> dict[int, str]:
    """One step that changes only the platform's data, for many enrolments at once, in the
    caller's transaction: one bulk write per step and batch, not one per contact (a burst of
    100,000 enrolments drains at thousands of steps a second). {enrolment id: outcome}."""
    kind, config = step["kind"], step.get("config") or {}
    if not enrolments:
        return {}
    account = enrolments[0].account
    contact_ids = [enrolment.contact_id for enrolment in enrolments]
    if kind == flow.UPDATE_FIELD:
        key_field = account.contact_key
        data = _field_data(config.get("field", ""), config.get("value"))
        keys = dict(
            Contact.objects.filter(account=account, pk__in=contact_ids).values_list("pk", "key")
        )
        outcomes = contacts_bulk_upsert(
            account=account,
            rows=[{key_field: keys.get(e.contact_id, ""), **data} for e in enrolments],
            policy=DuplicatePolicy.UPDATE_ONLY,
            proof=AUTOMATION_PROOF,
        )
        return {
            e.pk: "invalid_value" if outcome.status == "error" else "updated"
            for e, outcome in zip(enrolments, outcomes, strict=True)
        }
    if kind in (flow.ADD_TO_LIST, flow.REMOVE_FROM_LIST):
        contact_list = ContactList.objects.filter(
            account_id=account.pk, pk=config.get("list_id") or 0
        ).first()
        if contact_list is None:
            return dict.fromkeys((e.pk for e in enrolments), "no_list")
        if kind == flow.ADD_TO_LIST:
            list_add_contacts(contact_list=contact_list, contact_ids=contact_ids)
        else:
            list_remove_contacts(contact_list=contact_list, contact_ids=contact_ids)
    return dict.fromkeys((e.pk for e in enrolments), "done")


def branch_members(enrolments: list[Enrolment], step: dict) -> set[int]:
    """The contacts among the enrolments' for whom the branch's rules hold now: one query."""
    rules = (step.get("config") or {}).get("rules")
    account = enrolments[0].account
    try:
        return set(
            rules_contacts(account, rules)
            .filter(pk__in=[e.contact_id for e in enrolments])
            .values_list("pk", flat=True)
        )
    except SegmentRuleError:
        # A field or list removed since: the condition no longer holds for anyone.
        return set()
