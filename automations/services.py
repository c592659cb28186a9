"""Writing scenarios and enrolments: create, edit (publishing versions), activate, pause, resume,
archive; enrol contacts (one or a burst of thousands, in bulk); exit on an event."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import ConflictError, NotFoundError, ServiceError
from automations import flow
from automations.models import (
    DueStep,
    Enrolment,
    EntryRule,
    ExitEvent,
    Scenario,
    ScenarioVersion,
    Trigger,
)
from automations.selectors import forget_active_triggers
from campaigns.models import EmailCampaign, SenderAddress
from campaigns.services import merge_tag_problems
from contacts.models import Contact, ContactList
from contacts.segments.language import FieldCatalog, validate_rules
from contacts.segments.selectors import rules_contacts
from sms.models import SmsSender

ENROL_CHUNK = 1000
EDITABLE = ("name", "trigger", "trigger_config", "audience_rules", "entry_rule", "reentry_days",
            "exit_event", "steps")  # fmt: skip


class ScenarioError(ServiceError):
    pass


class ScenarioNotReady(ConflictError):
    """Activation refused: the flow lacks something (each problem named per step)."""

    code = "not_ready"

    def __init__(self, problems: list[dict]):
        self.problems = problems
        fields: dict[str, list[str]] = {}
        for problem in problems:
            fields.setdefault(problem["step"] or "scenario", []).append(problem["message"])
        super().__init__(fields)


class ScenarioStateError(ConflictError):
    code = "wrong_status"


def _clean(account, data: dict) -> dict:
    errors: dict[str, str] = {}
    clean = {k: v for k, v in data.items() if k in EDITABLE}
    if "trigger" in clean and clean["trigger"] not in Trigger.values:
        errors["trigger"] = _("Unknown trigger.")
    if "entry_rule" in clean and clean["entry_rule"] not in EntryRule.values:
        errors["entry_rule"] = _("Unknown entry rule.")
    if "exit_event" in clean and clean["exit_event"] not in ExitEvent.values:
        errors["exit_event"] = _("Unknown exit event.")
    if "trigger_config" in clean and not isinstance(clean["trigger_config"], dict):
        errors["trigger_config"] = _("The trigger settings must be an object.")
    if errors:
        raise ScenarioError(errors)
    if clean.get("audience_rules"):
        # Its own errors, as the segments answer them: an unknown field or list is a 404, a
        # condition a field does not take a 409.
        clean["audience_rules"] = validate_rules(
            clean["audience_rules"], FieldCatalog.for_account(account), account
        )
    if "steps" in clean:
        shape = flow.shape_errors(clean["steps"])
        if shape:
            errors["steps"] = shape[0]["message"]
    if errors:
        raise ScenarioError(errors)
    return clean


def _triggers_changed(scenario: Scenario) -> None:
    """The account's set of active triggers is cached for the signal receivers: forget it now
    (this transaction's own reads) and once the change is committed (until then, another
    process could cache the old state again)."""
    account_id = scenario.account_id
    forget_active_triggers(account_id)
    transaction.on_commit(lambda: forget_active_triggers(account_id))


def scenario_create(*, account, data: dict) -> Scenario:
    if not data.get("name"):
        raise ScenarioError({"name": _("A scenario needs a name.")})
    scenario = Scenario(account=account, **_clean(account, data))
    scenario.save()
    return scenario


def _publish(scenario: Scenario) -> ScenarioVersion:
    number = (scenario.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    version = ScenarioVersion.objects.create(scenario=scenario, number=number, steps=scenario.steps)
    scenario.current_version = version
    scenario.save(update_fields=["current_version", "updated_at"])
    return version


@transaction.atomic
def scenario_update(*, scenario: Scenario, data: dict) -> Scenario:
    """An edit of an active or paused scenario is published at once as a new version; contacts
    already inside finish on the version they entered."""
    scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
    if scenario.status == Scenario.Status.ARCHIVED:
        raise ScenarioStateError(_("An archived scenario cannot be changed."))
    clean = _clean(scenario.account, data)
    for name, value in clean.items():
        setattr(scenario, name, value)
    if scenario.status != Scenario.Status.DRAFT:
        problems = scenario_problems(scenario)
        if problems:
            raise ScenarioNotReady(problems)
    scenario.save()
    _triggers_changed(scenario)
    live = scenario.status != Scenario.Status.DRAFT
    if live and scenario.current_version.steps != scenario.steps:
        _publish(scenario)
    return scenario


def _trigger_problems(scenario: Scenario) -> list[str]:
    config, trigger = scenario.trigger_config or {}, scenario.trigger
    problems = []
    if trigger in (Trigger.DATE_ANNIVERSARY, Trigger.RELATIVE_DATE) and not config.get("field"):
        problems.append(_("Choose the date field of the trigger."))
    if (
        trigger == Trigger.LIST_JOINED
        and not ContactList.objects.filter(
            account=scenario.account_id, pk=config.get("list_id") or 0
        ).exists()
    ):
        problems.append(_("Choose the list of the trigger."))
    if trigger == Trigger.SEGMENT_ENTERED and not config.get("rules"):
        problems.append(_("Give the rules of the segment to enter."))
    if trigger in (Trigger.INACTIVITY,) and not config.get("days"):
        problems.append(_("Say after how many inactive days."))
    if (
        trigger == Trigger.EMAIL_NOT_OPENED
        and config.get("campaign_id")
        and not EmailCampaign.objects.filter(
            account_id=scenario.account_id, pk=config["campaign_id"]
        ).exists()
    ):
        problems.append(_("Choose an email campaign of the account for the trigger."))
    return problems


def _mentions(rules, field: str) -> bool:
    if isinstance(rules, dict):
        if rules.get("field") == field:
            return True
        return any(
            _mentions(child, field) for key in ("all", "any") for child in rules.get(key, [])
        )
    return False


SENT_TEXTS = {flow.EMAIL: ("subject", "preheader", "html"), flow.SMS: ("text",)}


def _content_problems(account, steps: list[dict]) -> list[dict]:
    """The sending steps' merge tags and senders, checked as a campaign's are when it is saved:
    an unknown or unclosed tag, or a sender the account no longer has (or has not confirmed),
    would otherwise show only at the first contact's send, days after activation."""
    sending = [s for s in steps if s["kind"] in SENT_TEXTS]
    if not sending:
        return []
    texts = {
        (step["id"], name): (step.get("config") or {}).get(name)
        for step in sending
        for name in SENT_TEXTS[step["kind"]]
    }
    problems = [
        {"step": step_id, "message": f"{name}: {found}"}
        for (step_id, name), found in merge_tag_problems(account, texts).items()
    ]
    senders = {
        flow.EMAIL: dict(
            SenderAddress.objects.filter(account=account).values_list("pk", "verified_at")
        ),
        flow.SMS: dict.fromkeys(
            SmsSender.objects.filter(account=account).values_list("pk", flat=True), True
        ),
    }
    for step in sending:
        config = step.get("config") or {}
        sender_id = config.get("sender_id")
        if sender_id and sender_id not in senders[step["kind"]]:
            problems.append({"step": step["id"], "message": _("This sender is not the account's.")})
        elif sender_id and not senders[step["kind"]][sender_id]:
            problems.append({
                "step": step["id"],
                "message": _("The sender address is not confirmed yet: open the link sent to it."),
            })  # fmt: skip
    return problems


def scenario_problems(scenario: Scenario) -> list[dict]:
    """Everything that forbids activating the scenario, per step ("" for the scenario)."""
    problems = [{"step": "", "message": m} for m in _trigger_problems(scenario)]
    problems += flow.shape_errors(scenario.steps)
    if problems:
        return problems
    if not scenario.steps:
        problems.append({"step": "", "message": _("The scenario has no step.")})
    steps = list(flow.iter_steps(scenario.steps))
    for step in steps:
        problems += [{"step": step["id"], "message": m} for m in flow.step_errors(step)]
    problems += _content_problems(scenario.account, steps)
    # SMS consent is checked again at each send; the rule makes the marketer say who is meant
    # to get SMS (in the audience, or in a condition before the SMS step).
    consent_rule = _mentions(scenario.audience_rules, "sms_status") or any(
        s["kind"] == flow.BRANCH and _mentions((s.get("config") or {}).get("rules"), "sms_status")
        for s in steps
    )
    if any(s["kind"] == flow.SMS for s in steps) and not consent_rule:
        problems.append({
            "step": next(s["id"] for s in steps if s["kind"] == flow.SMS),
            "message": _("A scenario that sends SMS needs an audience rule on SMS consent."),
        })  # fmt: skip
    return problems


@transaction.atomic
def scenario_activate(*, scenario: Scenario) -> Scenario:
    scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
    if scenario.status == Scenario.Status.ACTIVE:
        return scenario
    if scenario.status == Scenario.Status.ARCHIVED:
        raise ScenarioStateError(_("An archived scenario cannot be activated."))
    problems = scenario_problems(scenario)
    if problems:
        raise ScenarioNotReady(problems)
    if scenario.current_version is None or scenario.current_version.steps != scenario.steps:
        _publish(scenario)
    was_paused = scenario.status == Scenario.Status.PAUSED
    scenario.status = Scenario.Status.ACTIVE
    scenario.save(update_fields=["status", "updated_at"])
    _triggers_changed(scenario)
    if was_paused:
        DueStep.objects.filter(scenario=scenario, status=DueStep.Status.HELD).update(
            status=DueStep.Status.PENDING
        )
    return scenario


@transaction.atomic
def scenario_pause(*, scenario: Scenario) -> Scenario:
    """Contacts stay where they are: their due steps are held until the scenario resumes."""
    updated = Scenario.objects.filter(pk=scenario.pk, status=Scenario.Status.ACTIVE).update(
        status=Scenario.Status.PAUSED, updated_at=timezone.now()
    )
    if not updated:
        raise ScenarioStateError(_("Only an active scenario can be paused."))
    DueStep.objects.filter(scenario=scenario, status=DueStep.Status.PENDING).update(
        status=DueStep.Status.HELD
    )
    scenario.refresh_from_db()
    _triggers_changed(scenario)
    return scenario


def scenario_resume(*, scenario: Scenario) -> Scenario:
    if scenario.status != Scenario.Status.PAUSED:
        raise ScenarioStateError(_("Only a paused scenario can be resumed."))
    return scenario_activate(scenario=scenario)


@transaction.atomic
def scenario_archive(*, scenario: Scenario) -> Scenario:
    """Ends every enrolment, with the reason "archived"."""
    scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
    if scenario.status == Scenario.Status.ARCHIVED:
        return scenario
    now = timezone.now()
    scenario.status = Scenario.Status.ARCHIVED
    scenario.save(update_fields=["status", "updated_at"])
    _triggers_changed(scenario)
    Enrolment.objects.filter(scenario=scenario, status=Enrolment.Status.ACTIVE).update(
        status=Enrolment.Status.EXITED, exit_reason="archived", finished_at=now
    )
    DueStep.objects.filter(
        scenario=scenario, status__in=[DueStep.Status.PENDING, DueStep.Status.HELD]
    ).update(status=DueStep.Status.CANCELLED, outcome="archived", done_at=now)
    return scenario


def scenario_delete(*, scenario: Scenario) -> None:
    if scenario.status != Scenario.Status.DRAFT or scenario.enrolments.exists():
        raise ScenarioStateError(_("Only a draft nobody entered can be deleted; archive it."))
    scenario.delete()


def due_row(*, enrolment: Enrolment, step: dict, now: datetime, tz: str, held: bool) -> DueStep:
    """The row of `step` for `enrolment`, due when the step may run."""
    config = step.get("config") or {}
    due = flow.wait_release(config, now, tz) if step["kind"] == flow.WAIT else now
    return DueStep(
        account_id=enrolment.account_id,
        scenario_id=enrolment.scenario_id,
        enrolment_id=enrolment.pk,
        step_id=step["id"],
        due_at=due,
        status=DueStep.Status.HELD if held else DueStep.Status.PENDING,
        awaiting=config.get("event", "") if config.get("mode") == "event" else "",
        idempotency_key=f"{enrolment.pk}:{enrolment.version_id}:{step['id']}",
    )


def _eligible(scenario: Scenario, ids: list[int], now: datetime) -> list[int]:
    account = scenario.account
    contacts = (
        rules_contacts(account, scenario.audience_rules)
        if scenario.audience_rules
        else Contact.objects.filter(account=account)
    ).filter(pk__in=ids)
    # Only this chunk's contacts: a burst's later chunks must not re-read the earlier ones.
    inside = Enrolment.objects.filter(scenario=scenario, contact_id__in=ids)
    if scenario.entry_rule == EntryRule.NOT_INSIDE:
        inside = inside.filter(status=Enrolment.Status.ACTIVE)
    elif scenario.entry_rule == EntryRule.AGAIN_AFTER:
        inside = inside.filter(
            entered_at__gt=now - timedelta(days=scenario.reentry_days)
        ) | inside.filter(status=Enrolment.Status.ACTIVE)
    return list(contacts.exclude(pk__in=inside.values("contact_id")).values_list("pk", flat=True))


def scenario_enrol(
    *,
    scenario: Scenario,
    contact_ids: Iterable[int],
    trigger_keys: dict[int, str] | None = None,
    contexts: dict[int, dict] | None = None,
    now: datetime | None = None,
    test: bool = False,
) -> int:
    """Enrol the contacts that fit the audience and the entry rule (in chunks: a burst of
    100,000 is a few hundred statements, not a task per contact). Returns how many entered."""
    now = now or timezone.now()
    if scenario.status != Scenario.Status.ACTIVE and not test:
        return 0
    version = scenario.current_version
    if version is None or not version.steps:
        return 0
    trigger_keys, contexts = trigger_keys or {}, contexts or {}
    first = flow.compile_flow(version.steps)[flow.first_step_id(version.steps)].step
    tz = scenario.account.timezone
    ids = sorted(set(contact_ids))
    entered = 0
    for start in range(0, len(ids), ENROL_CHUNK):
        with transaction.atomic():
            chunk = _eligible(scenario, ids[start : start + ENROL_CHUNK], now)
            Enrolment.objects.bulk_create(
                [
                    Enrolment(
                        account_id=scenario.account_id,
                        scenario=scenario,
                        version=version,
                        contact_id=pk,
                        trigger_key=trigger_keys.get(pk, ""),
                        context=contexts.get(pk, {}),
                        current_step=first["id"],
                        entered_at=now,
                        is_test=test,
                    )
                    for pk in chunk
                ],
                ignore_conflicts=True,
                batch_size=ENROL_CHUNK,
            )
            # Not the ids bulk_create returned: with ignore_conflicts they are unknown. The rows
            # of this call are the active ones entered at `now` without a step yet.
            created = list(
                Enrolment.objects.filter(
                    scenario=scenario,
                    status=Enrolment.Status.ACTIVE,
                    entered_at=now,
                    contact_id__in=chunk,
                ).exclude(steps__isnull=False)
            )
            DueStep.objects.bulk_create(
                [due_row(enrolment=e, step=first, now=now, tz=tz, held=False) for e in created],
                ignore_conflicts=True,
                batch_size=ENROL_CHUNK,
            )
            entered += len(created)
    return entered


def contact_enrol(
    *, scenario: Scenario, contact: Contact, context: dict | None = None
) -> Enrolment:
    """Enrol one contact by hand (page or API): refused with a reason, rather than skipped."""
    if contact.account_id != scenario.account_id:
        raise NotFoundError(_("No such contact."))
    if scenario.status != Scenario.Status.ACTIVE:
        raise ScenarioStateError(_("Only an active scenario accepts contacts."))
    if not scenario_enrol(
        scenario=scenario, contact_ids=[contact.pk], contexts={contact.pk: context or {}}
    ):
        raise ConflictError(
            _("This contact cannot enter: outside the audience, or the entry rule forbids it."),
            code="not_eligible",
        )
    return Enrolment.objects.filter(scenario=scenario, contact=contact).order_by("-pk").first()


@transaction.atomic
def enrolments_exit(*, account_id: int, contact_id: int, event: str) -> int:
    """A contact did what the exit rule names: it leaves those scenarios at once."""
    now = timezone.now()
    leaving = list(
        Enrolment.objects.filter(
            account_id=account_id,
            contact_id=contact_id,
            status=Enrolment.Status.ACTIVE,
            scenario__exit_event=event,
        ).values_list("pk", flat=True)
    )
    if not leaving:
        return 0
    Enrolment.objects.filter(pk__in=leaving, status=Enrolment.Status.ACTIVE).update(
        status=Enrolment.Status.EXITED, exit_reason=event, finished_at=now
    )
    DueStep.objects.filter(
        enrolment_id__in=leaving, status__in=[DueStep.Status.PENDING, DueStep.Status.HELD]
    ).update(status=DueStep.Status.CANCELLED, outcome=f"exit:{event}", done_at=now)
    return len(leaving)


def awaited_event_arrived(*, account_id: int, contact_id: int, event: str) -> int:
    """Release the contact's "wait until <event>" steps now, before their time-out."""
    return DueStep.objects.filter(
        account_id=account_id,
        enrolment__contact_id=contact_id,
        enrolment__status=Enrolment.Status.ACTIVE,
        awaiting=event,
        status__in=[DueStep.Status.PENDING, DueStep.Status.HELD],
    ).update(due_at=timezone.now(), outcome="event")
