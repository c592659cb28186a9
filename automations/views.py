"""The scenario pages (French first): the list with the recipes gallery, and the editor: the
flow drawn top to bottom with its branches, each step's settings in a side panel, validation
before activation, the test mode and per-step statistics. Thin: writes go through services."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.errors import ServiceError
from accounts.tenancy import get_for_account_or_404
from accounts.views import account_required
from automations import editing, flow, selectors, services
from automations.models import EntryRule, ExitEvent, Scenario, StepCampaign, Trigger
from automations.recipes import RECIPES, RECIPES_BY_SLUG, scenario_from_recipe
from automations.simulation import scenario_simulate
from campaigns.models import EmailCampaign, SenderAddress
from contacts.models import BUILTIN_FIELDS, Contact, ContactField, ContactList, Segment
from sms.models import SmsSender

WEEKDAYS = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"),
            (5, "Saturday"), (6, "Sunday")]  # fmt: skip


def _int(value, default=0, upper=100_000) -> int:
    try:
        return max(0, min(int(value), upper))
    except (TypeError, ValueError):
        return default


def _refused(request, error: ServiceError) -> None:
    for texts in error.fields.values() or [[error.message]]:
        for text in texts:
            messages.error(request, text)
    if not error.fields:
        messages.error(request, error.message)


@account_required
def scenario_list_page(request):
    if request.method == "POST":
        try:
            scenario = services.scenario_create(
                account=request.account, data={"name": request.POST.get("name", "").strip()}
            )
        except ServiceError as error:
            _refused(request, error)
            return redirect("automations:list")
        return redirect("automations:edit", pk=scenario.pk)
    context = {
        "scenarios": selectors.scenarios_of(request.account)[:200],
        "recipes": RECIPES,
        "senders": SenderAddress.objects.filter(account=request.account),
        "sms_senders": SmsSender.objects.filter(account=request.account),
    }
    return render(request, "automations/scenario_list.html", context)


@account_required
@require_POST
def scenario_from_recipe_page(request):
    slug = request.POST.get("recipe", "")
    if slug not in RECIPES_BY_SLUG:
        messages.error(request, _("Unknown recipe."))
        return redirect("automations:list")
    sender = SenderAddress.objects.filter(
        account=request.account, pk=_int(request.POST.get("sender"))
    ).first()
    sms_sender = SmsSender.objects.filter(
        account=request.account, pk=_int(request.POST.get("sms_sender"))
    ).first()
    scenario = scenario_from_recipe(
        account=request.account,
        slug=slug,
        sender_id=sender.pk if sender else None,
        sms_sender_id=sms_sender.pk if sms_sender else None,
    )
    messages.success(request, _("Scenario created from the recipe: check it, then activate it."))
    return redirect("automations:edit", pk=scenario.pk)


def _field_choices(account) -> list[tuple[str, str]]:
    custom = ContactField.objects.filter(account=account).order_by("label")
    return [(name, name) for name in BUILTIN_FIELDS] + [
        (f"fields.{field.key}", field.label) for field in custom
    ]


@account_required
def scenario_edit_page(request, pk):
    scenario = get_for_account_or_404(Scenario, request.account, pk=pk)
    account = request.account
    selected = editing.find_step(scenario.steps or [], request.GET.get("step", ""))
    simulation, tested = None, None
    if request.GET.get("contact"):
        tested = Contact.objects.filter(
            account=account, email__iexact=request.GET["contact"].strip()
        ).first()
        if tested is None:
            messages.error(request, _("No contact with this email address."))
        else:
            simulation = scenario_simulate(scenario, tested)
    stats = {row["step"]: row for row in selectors.scenario_stats(scenario)}
    context = {
        "scenario": scenario,
        "steps": scenario.steps or [],
        "selected": selected,
        "selected_label": flow.step_label(selected["kind"]) if selected else "",
        "problems": services.scenario_problems(scenario),
        "stats": stats,
        "simulation": simulation,
        "tested": tested,
        "kinds": [(kind, flow.step_label(kind)) for kind in flow.KINDS],
        "triggers": Trigger.choices,
        "entry_rules": EntryRule.choices,
        "exit_events": ExitEvent.choices,
        "lists": ContactList.objects.filter(account=account),
        # The account's own campaigns, not the scenarios' step campaigns.
        "campaigns": EmailCampaign.objects.filter(account=account)
        .exclude(
            pk__in=StepCampaign.objects.values("email_campaign_id").exclude(email_campaign=None)
        )
        .order_by("-pk")[:200],
        "segments": Segment.objects.filter(account=account),
        "senders": SenderAddress.objects.filter(account=account),
        "sms_senders": SmsSender.objects.filter(account=account),
        "fields": _field_choices(account),
        "weekdays": [(number, _(name)) for number, name in WEEKDAYS],
        "wait_modes": [
            ("duration", _("A duration")),
            ("time_of_day", _("Until a time of day")),
            ("weekday", _("Until a day of the week")),
            ("event", _("Until an event, with a time-out")),
        ],  # fmt: skip
        "wait_events": [
            ("order_placed", _("Placed an order")),
            ("email_opened", _("Opened an email")),
            ("email_clicked", _("Clicked in an email")),
        ],  # fmt: skip
        "enrolled": scenario.enrolments.count(),
    }
    return render(request, "automations/scenario_edit.html", context)


def _save_steps(request, scenario, steps, *, step_id: str | None = None):
    try:
        services.scenario_update(scenario=scenario, data={"steps": steps})
    except ServiceError as error:
        _refused(request, error)
    url = reverse("automations:edit", args=[scenario.pk])
    return redirect(f"{url}?step={step_id}" if step_id else url)


@account_required
@require_POST
def step_add(request, pk):
    scenario = get_for_account_or_404(Scenario, request.account, pk=pk)
    index = request.POST.get("index")
    steps, new_id = editing.step_insert(
        scenario.steps or [],
        kind=request.POST.get("kind", ""),
        place=request.POST.get("place", ""),
        index=_int(index) if index not in (None, "") else None,
    )
    return _save_steps(request, scenario, steps, step_id=new_id)


@account_required
@require_POST
def step_change(request, pk, step_id, change):
    scenario = get_for_account_or_404(Scenario, request.account, pk=pk)
    steps = scenario.steps or []
    if change == "remove":
        return _save_steps(request, scenario, editing.step_remove(steps, step_id))
    if change in ("up", "down"):
        moved = editing.step_move(steps, step_id, -1 if change == "up" else 1)
        return _save_steps(request, scenario, moved)
    step = editing.find_step(steps, step_id)
    if step is None:
        return redirect("automations:edit", pk=scenario.pk)
    config = _step_config(request, step["kind"])
    return _save_steps(
        request, scenario, editing.step_configure(steps, step_id, config), step_id=step_id
    )


def _step_config(request, kind: str) -> dict:
    post = request.POST
    if kind == flow.WAIT:
        mode = post.get("mode", "duration")
        config = {"mode": mode}
        if mode == "duration":
            config.update({unit: _int(post.get(unit)) for unit in ("days", "hours", "minutes")})
        if mode in ("time_of_day", "weekday"):
            config["time"] = post.get("time", "09:00")
        if mode == "weekday":
            config["weekday"] = _int(post.get("weekday"), upper=6)
        if mode == "event":
            config.update(
                event=post.get("event", ""), timeout_hours=_int(post.get("timeout_hours"))
            )
        return config
    if kind == flow.BRANCH:
        segment = Segment.objects.filter(
            account=request.account, pk=_int(post.get("segment"))
        ).first()
        return {
            "rules": segment.rules if segment else {},
            "segment_name": segment.name if segment else "",
        }
    if kind == flow.EMAIL:
        return {"subject": post.get("subject", ""), "html": post.get("html", ""),
                "sender_id": _int(post.get("sender")) or None}  # fmt: skip
    if kind == flow.SMS:
        return {"text": post.get("text", ""), "sender_id": _int(post.get("sender")) or None}
    if kind == flow.UPDATE_FIELD:
        return {"field": post.get("field", ""), "value": post.get("value", "")}
    if kind in (flow.ADD_TO_LIST, flow.REMOVE_FROM_LIST):
        return {"list_id": _int(post.get("list")) or None}
    if kind == flow.NOTIFY:
        emails = [e.strip() for e in post.get("emails", "").split(",") if e.strip()]
        return {"emails": emails, "subject": post.get("subject", ""), "text": post.get("text", "")}
    return {}


@account_required
@require_POST
def scenario_settings(request, pk):
    scenario = get_for_account_or_404(Scenario, request.account, pk=pk)
    post = request.POST
    trigger_config = {}
    if post.get("trigger_list"):
        trigger_config["list_id"] = _int(post.get("trigger_list"))
    if post.get("trigger_campaign"):
        trigger_config["campaign_id"] = _int(post.get("trigger_campaign"))
    if post.get("trigger_field"):
        trigger_config["field"] = post["trigger_field"]
    for name in ("days_before", "days_after", "days"):
        if post.get(f"trigger_{name}"):
            trigger_config[name] = _int(post.get(f"trigger_{name}"), upper=3650)
    if post.get("trigger_time"):
        trigger_config["time"] = post["trigger_time"]
    segment = Segment.objects.filter(account=request.account, pk=_int(post.get("segment"))).first()
    data = {
        "name": post.get("name", scenario.name).strip() or scenario.name,
        "trigger": post.get("trigger", scenario.trigger),
        "trigger_config": trigger_config,
        "entry_rule": post.get("entry_rule", scenario.entry_rule),
        "reentry_days": _int(post.get("reentry_days"), upper=3650),
        "exit_event": post.get("exit_event", ""),
    }
    if segment is not None:
        data["audience_rules"] = segment.rules
    elif post.get("segment") == "none":
        data["audience_rules"] = None
    if data["trigger"] == Trigger.SEGMENT_ENTERED:
        # The form shows no rules: a save that chose no segment keeps those the trigger had.
        rules = segment.rules if segment else (scenario.trigger_config or {}).get("rules")
        if rules:
            data["trigger_config"]["rules"] = rules
    try:
        services.scenario_update(scenario=scenario, data=data)
    except ServiceError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Scenario saved."))
    return redirect("automations:edit", pk=scenario.pk)


@account_required
@require_POST
def scenario_action(request, pk, action):
    scenario = get_for_account_or_404(Scenario, request.account, pk=pk)
    changes = {
        "activate": (services.scenario_activate, _("Scenario active.")),
        "pause": (services.scenario_pause, _("Scenario paused: contacts wait where they are.")),
        "archive": (services.scenario_archive, _("Scenario archived.")),
    }
    if action not in changes:
        return redirect("automations:edit", pk=scenario.pk)
    change, done = changes[action]
    try:
        change(scenario=scenario)
    except ServiceError as error:
        _refused(request, error)
    else:
        messages.success(request, done)
    return redirect("automations:edit", pk=scenario.pk)


@account_required
def contact_journeys_fragment(request, pk):
    """A contact's journeys through the scenarios, for the contact page (htmx)."""
    contact = get_for_account_or_404(Contact, request.account, pk=pk)
    journeys = selectors.contact_journeys(contact)[:50]
    return render(request, "automations/_contact_journeys.html", {"journeys": journeys})
