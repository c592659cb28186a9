"""A scenario's flow: an ordered tree of steps, its validation, and where each step leads.

    [{"id": "s1", "kind": "wait", "config": {"mode": "duration", "hours": 3}},
     {"id": "s2", "kind": "branch", "config": {"rules": {...}},
      "yes": [{"id": "s3", "kind": "email", "config": {...}}], "no": []},
     {"id": "s4", "kind": "end", "config": {}}]

A branch runs its "yes" or "no" arm, then the flow goes on after the branch (an "end" step in an
arm stops the contact there). Step ids are kept across versions so statistics follow a step
through edits.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.utils.translation import gettext as _

WAIT = "wait"
BRANCH = "branch"
EMAIL = "email"
SMS = "sms"
UPDATE_FIELD = "update_field"
ADD_TO_LIST = "add_to_list"
REMOVE_FROM_LIST = "remove_from_list"
NOTIFY = "notify"
END = "end"
KINDS = (WAIT, BRANCH, EMAIL, SMS, UPDATE_FIELD, ADD_TO_LIST, REMOVE_FROM_LIST, NOTIFY, END)
# Steps that reach someone outside the platform: run outside the step's transaction, each with
# its idempotency key (a crash between the send and the commit finds the message again).
SENDING_KINDS = {EMAIL, SMS, NOTIFY}
WAIT_MODES = ("duration", "time_of_day", "weekday", "event")
WAIT_EVENTS = ("order_placed", "email_opened", "email_clicked")
MAX_STEPS = 200
MAX_WAIT_DAYS = 400


def step_label(kind: str) -> str:
    return {
        WAIT: _("Wait"),
        BRANCH: _("Condition"),
        EMAIL: _("Send an email"),
        SMS: _("Send an SMS"),
        UPDATE_FIELD: _("Update a field"),
        ADD_TO_LIST: _("Add to a list"),
        REMOVE_FROM_LIST: _("Remove from a list"),
        NOTIFY: _("Notify the team"),
        END: _("End"),
    }.get(kind, kind)


@dataclass(frozen=True)
class Node:
    step: dict
    # The step after this one when it is done (for a branch: after either arm); None: the end.
    next_id: str | None
    yes_id: str | None = None
    no_id: str | None = None


def compile_flow(steps: list) -> dict[str, Node]:
    """{step id: Node}, in drawing order."""
    nodes: dict[str, Node] = {}

    def walk(items: list, after: str | None) -> None:
        for index, step in enumerate(items):
            following = items[index + 1]["id"] if index + 1 < len(items) else after
            if step["kind"] == END:
                following = None
            if step["kind"] == BRANCH:
                yes, no = step.get("yes") or [], step.get("no") or []
                nodes[step["id"]] = Node(
                    step,
                    following,
                    yes_id=yes[0]["id"] if yes else following,
                    no_id=no[0]["id"] if no else following,
                )
                walk(yes, following)
                walk(no, following)
            else:
                nodes[step["id"]] = Node(step, following)

    walk(steps, None)
    return nodes


def first_step_id(steps: list) -> str | None:
    return steps[0]["id"] if steps else None


def iter_steps(steps: list):
    for step in steps:
        yield step
        if step.get("kind") == BRANCH:
            yield from iter_steps(step.get("yes") or [])
            yield from iter_steps(step.get("no") or [])


def shape_errors(steps) -> list[dict]:
    """What makes a flow unreadable (its shape), whatever its state: refused on every save."""
    if not isinstance(steps, list):
        return [{"step": "", "message": _("The steps must be a list.")}]
    errors, seen = [], set()

    def check(items, depth):
        if not isinstance(items, list):
            errors.append({"step": "", "message": _("A branch arm must be a list of steps.")})
            return
        for step in items:
            if not isinstance(step, dict):
                errors.append({"step": "", "message": _("A step must be an object.")})
                continue
            sid = step.get("id")
            if not isinstance(sid, str) or not sid or len(sid) > 40:
                errors.append({"step": "", "message": _("Every step needs an id (1-40 chars).")})
                continue
            if sid in seen:
                errors.append({"step": sid, "message": _("Two steps have the same id.")})
            seen.add(sid)
            if step.get("kind") not in KINDS:
                errors.append({"step": sid, "message": _("Unknown kind of step.")})
            if not isinstance(step.get("config", {}), dict):
                errors.append({"step": sid, "message": _("A step's settings must be an object.")})
            if step.get("kind") != BRANCH and (step.get("yes") or step.get("no")):
                errors.append({"step": sid, "message": _("Only a condition has branches.")})
            if step.get("kind") == BRANCH:
                if depth >= 5:
                    errors.append({"step": sid, "message": _("Conditions nest too deep.")})
                    continue
                check(step.get("yes") or [], depth + 1)
                check(step.get("no") or [], depth + 1)

    check(steps, 0)
    if len(seen) > MAX_STEPS:
        errors.append({"step": "", "message": _("A scenario has at most 200 steps.")})
    return errors


def _positive(config: dict, key: str, upper: int) -> bool:
    value = config.get(key)
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= upper


def _clock(value) -> time | None:
    try:
        return time.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _required(kind: str) -> list[tuple[str, str]]:
    """(setting, what to say when it is missing) per kind of step."""
    return {
        EMAIL: [
            ("subject", _("The email has no subject.")),
            ("html", _("The email has no content.")),
            ("sender_id", _("The email has no sender.")),
        ],
        SMS: [("text", _("The SMS has no text.")), ("sender_id", _("The SMS has no sender."))],
        UPDATE_FIELD: [("field", _("Choose the field to update."))],
        ADD_TO_LIST: [("list_id", _("Choose a list."))],
        REMOVE_FROM_LIST: [("list_id", _("Choose a list."))],
        NOTIFY: [("emails", _("Say whom to notify."))],
    }.get(kind, [])


def _wait_errors(config: dict) -> list[str]:
    mode = config.get("mode")
    if mode not in WAIT_MODES:
        return [_("Choose how long to wait.")]
    errors = []
    if mode == "duration":
        units = ("days", "hours", "minutes")
        valid = all(_positive(config, k, MAX_WAIT_DAYS * 24 * 60) for k in units if k in config)
        if not valid or sum(config.get(k, 0) for k in units) <= 0:
            errors.append(_("The wait needs a duration."))
    if mode in ("time_of_day", "weekday") and _clock(config.get("time")) is None:
        errors.append(_("The wait needs a time of day (HH:MM)."))
    if mode == "weekday" and config.get("weekday") not in range(7):
        errors.append(_("The wait needs a day of the week."))
    if mode == "event":
        if config.get("event") not in WAIT_EVENTS:
            errors.append(_("The wait needs an event to wait for."))
        hours = config.get("timeout_hours")
        if not _positive(config, "timeout_hours", MAX_WAIT_DAYS * 24) or not hours:
            errors.append(_("The wait needs a time-out in hours."))
    return errors


def step_errors(step: dict) -> list[str]:
    """What a step lacks before the scenario may be activated."""
    kind, config = step.get("kind"), step.get("config") or {}
    if kind == WAIT:
        return _wait_errors(config)
    if kind == BRANCH and (not isinstance(config.get("rules"), dict) or not config["rules"]):
        return [_("The condition has no rule.")]
    errors = [message for key, message in _required(kind) if not config.get(key)]
    if kind == EMAIL and config.get("html") and "unsubscribe_url" not in config["html"]:
        # Marketing email: the link is the law's (and Gmail's and Yahoo's) condition, as for
        # a campaign's checklist.
        errors.append(_("The email has no unsubscribe link ({{ unsubscribe_url }})."))
    return errors


def wait_release(config: dict, now: datetime, tz_name: str) -> datetime:
    """When a wait step entered at `now` lets the contact go on (the time-out for an event)."""
    mode = config.get("mode")
    if mode == "duration":
        return now + timedelta(
            days=config.get("days", 0), hours=config.get("hours", 0),
            minutes=config.get("minutes", 0),
        )  # fmt: skip
    if mode == "event":
        return now + timedelta(hours=config.get("timeout_hours", 0))
    zone = zoneinfo.ZoneInfo(tz_name)
    local = now.astimezone(zone)
    at = _clock(config.get("time")) or time(9, 0)
    candidate = datetime.combine(local.date(), at, tzinfo=zone)
    if mode == "weekday":
        days_ahead = (config.get("weekday", 0) - local.weekday()) % 7
        candidate += timedelta(days=days_ahead)
    if candidate <= local:
        candidate += timedelta(days=7 if mode == "weekday" else 1)
    # Re-attached to the zone so a DST change between today and that day keeps the wall clock.
    return datetime.combine(candidate.date(), at, tzinfo=zone)
