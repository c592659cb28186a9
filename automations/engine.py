"""The timer engine: claim due steps, run each, advance the enrolment in one transaction.

A worker claims a batch of due rows with `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite, which
runs one worker, takes its write lock instead) and a lease. Each row is then finished by a
conditional UPDATE (claimed → done) in the same transaction as its effects and the insertion of
the next step's row: a worker killed at any point leaves either the whole advance or none of
it, and an expired lease gives the row back to the queue. A sending step sends before that
transaction, with the row's idempotency key, so running the row again finds the same message
instead of sending another: at most the one message in flight when the worker died is sent
twice.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from automations import flow
from automations.models import DueStep, Enrolment, Scenario, ScenarioVersion
from automations.services import due_row
from automations.steps import branch_members, run_inner_steps, run_sending_step

BATCH_SIZE = 500
# A message's status while a worker holds it (the send engine's claim).
SENDING = "sending"


def lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "AUTOMATION_LEASE_SECONDS", 300))


def claim_due_steps(size: int = BATCH_SIZE, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    table = DueStep._meta.db_table
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = 'claimed', claimed_at = %s, attempts = attempts + 1 "  # noqa: S608
            f"WHERE id IN (SELECT id FROM {table} WHERE status = 'pending' AND due_at <= %s "
            f"ORDER BY due_at LIMIT %s{lock}) RETURNING id",
            [timezone.now(), now, size],
        )
        return sorted(row[0] for row in cursor.fetchall())


def count_due(now: datetime | None = None, limit: int = 100_000) -> int:
    now = now or timezone.now()
    return (
        DueStep.objects.filter(status=DueStep.Status.PENDING, due_at__lte=now)
        .values("pk")[:limit]
        .count()
    )


def recover_expired_leases(now: datetime | None = None) -> int:
    """Rows claimed by a worker that died go back to the queue."""
    now = now or timezone.now()
    return DueStep.objects.filter(
        status=DueStep.Status.CLAIMED, claimed_at__lt=now - lease()
    ).update(status=DueStep.Status.PENDING)


class _LostRow(Exception):
    """The row was re-claimed by another worker after this one's lease expired."""


def run_claimed(ids: list[int], now: datetime | None = None) -> int:
    """Run claimed rows. Sending steps one by one (each with its own idempotency key); the
    others together, one transaction per (version, step) of the batch. Returns how many rows
    were advanced."""
    rows = list(
        DueStep.objects.filter(pk__in=ids, status=DueStep.Status.CLAIMED)
        .select_related("enrolment")
        .defer("enrolment__context")
        .order_by("pk")
    )
    _attach_shared(rows)
    # Compiled once per version met in the batch (a version never changes).
    flows: dict[int, dict] = {}
    groups: dict[tuple[int, str], list[DueStep]] = defaultdict(list)
    advanced = 0
    for row in rows:
        version = row.enrolment.version
        if version.pk not in flows:
            flows[version.pk] = flow.compile_flow(version.steps)
        if not _may_run(row):
            continue
        if _kind(flows[version.pk], row.step_id) in flow.SENDING_KINDS:
            advanced += run_row(row, flows[version.pk], now=now)
        else:
            groups[(version.pk, row.step_id)].append(row)
    for (version_id, _step_id), group in groups.items():
        advanced += _run_group(group, flows[version_id], now or timezone.now())
    return advanced


def _attach_shared(rows: list[DueStep]) -> None:
    """Scenarios (with their account) and versions are few and shared by a batch's rows: read
    once, not joined into every row (the flow's JSON parsed 500 times cost a third of a batch)."""
    enrolments = [row.enrolment for row in rows]
    scenarios = Scenario.objects.select_related("account").in_bulk(
        {e.scenario_id for e in enrolments}
    )
    versions = ScenarioVersion.objects.in_bulk({e.version_id for e in enrolments})
    for enrolment in enrolments:
        enrolment.scenario = scenarios[enrolment.scenario_id]
        enrolment.account = enrolment.scenario.account
        enrolment.version = versions[enrolment.version_id]


def _kind(nodes: dict, step_id: str) -> str:
    node = nodes.get(step_id)
    return node.step["kind"] if node else flow.END


def _close(row: DueStep, status: str, outcome: str) -> bool:
    # `attempts` identifies this claim: a re-claim after an expired lease counts one more.
    return bool(
        DueStep.objects.filter(
            pk=row.pk, status=DueStep.Status.CLAIMED, attempts=row.attempts
        ).update(status=status, outcome=outcome, done_at=timezone.now())
    )


def _may_run(row: DueStep) -> bool:
    """False (and the row put aside) when its enrolment ended or its scenario is paused."""
    enrolment: Enrolment = row.enrolment
    scenario: Scenario = enrolment.scenario
    if enrolment.status != Enrolment.Status.ACTIVE or scenario.status == Scenario.Status.ARCHIVED:
        _close(row, DueStep.Status.CANCELLED, enrolment.exit_reason or "left")
        return False
    if scenario.status == Scenario.Status.PAUSED and not enrolment.is_test:
        # Paused after the claim: held where it is, like the rows that were waiting.
        DueStep.objects.filter(pk=row.pk, status=DueStep.Status.CLAIMED).update(
            status=DueStep.Status.HELD
        )
        return False
    return True


def run_row(row: DueStep, nodes: dict, now: datetime | None = None) -> bool:
    """One row. A sending step sends first, outside any transaction (the engine commits each
    message's outcome as soon as the provider answers), then advances."""
    if not _may_run(row):
        return False
    kind = _kind(nodes, row.step_id)
    if kind not in flow.SENDING_KINDS:
        return _run_group([row], nodes, now or timezone.now()) == 1
    enrolment = row.enrolment
    node = nodes[row.step_id]
    outcome = (
        "simulated"
        if enrolment.is_test
        else run_sending_step(enrolment, node.step, row.idempotency_key)
    )
    if outcome == SENDING:
        # Still claimed by the send engine for a worker that has not yet been presumed dead
        # (its send lease is longer than this row's): the step is not done until the message
        # is. The row waits for that lease, then takes the message over (message_send_one).
        DueStep.objects.filter(
            pk=row.pk, status=DueStep.Status.CLAIMED, attempts=row.attempts
        ).update(
            status=DueStep.Status.PENDING,
            due_at=timezone.now() + timedelta(seconds=settings.SEND_LEASE_SECONDS),
        )
        return False
    try:
        with transaction.atomic():
            if not _close(row, DueStep.Status.DONE, outcome):
                raise _LostRow
            _advance([enrolment], {enrolment.pk: node.next_id}, nodes, now or timezone.now())
    except _LostRow:
        return False
    return True


def _run_group(rows: list[DueStep], nodes: dict, now: datetime) -> int:
    """Rows of one step of one version: their effects, their end and the insertion of their
    next rows commit together, or not at all."""
    node = nodes.get(rows[0].step_id)
    step = node.step if node else {"id": rows[0].step_id, "kind": flow.END}
    kind = step["kind"]
    with transaction.atomic():
        # Locked, and only those still claimed by this claim (same attempt count).
        current = dict(
            DueStep.objects.select_for_update()
            .filter(pk__in=[row.pk for row in rows], status=DueStep.Status.CLAIMED)
            .values_list("pk", "attempts")
        )
        rows = [row for row in rows if current.get(row.pk) == row.attempts]
        if not rows:
            return 0
        enrolments = [row.enrolment for row in rows]
        next_of = {e.pk: node.next_id if node else None for e in enrolments}
        outcome_of: dict[int, str] = {}
        if kind == flow.BRANCH:
            members = branch_members(enrolments, step)
            for e in enrolments:
                holds = e.contact_id in members
                outcome_of[e.pk] = "yes" if holds else "no"
                next_of[e.pk] = node.yes_id if holds else node.no_id
        elif kind == flow.WAIT:
            for row in rows:
                outcome_of[row.enrolment_id] = row.outcome or (
                    "timeout" if row.awaiting else "waited"
                )
        else:
            real = [e for e in enrolments if not e.is_test]
            outcome_of = {e.pk: "simulated" for e in enrolments if e.is_test}
            outcome_of.update(run_inner_steps(real, step))
        by_outcome: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            by_outcome[outcome_of.get(row.enrolment_id, "done")].append(row.pk)
        finished = timezone.now()
        for outcome, pks in by_outcome.items():
            DueStep.objects.filter(pk__in=pks).update(
                status=DueStep.Status.DONE, outcome=outcome, done_at=finished
            )
        _advance(enrolments, next_of, nodes, now)
    return len(rows)


def _advance(enrolments: list[Enrolment], next_of: dict, nodes: dict, now: datetime) -> None:
    """Each enrolment to its next step (a new due row), or completed: a few statements for
    the whole group."""
    ending = [e.pk for e in enrolments if next_of[e.pk] is None]
    if ending:
        Enrolment.objects.filter(pk__in=ending, status=Enrolment.Status.ACTIVE).update(
            status=Enrolment.Status.COMPLETED, current_step="", finished_at=timezone.now()
        )
    going: dict[str, list[Enrolment]] = defaultdict(list)
    for e in enrolments:
        if next_of[e.pk] is not None:
            going[next_of[e.pk]].append(e)
    for next_id, group in going.items():
        _insert_next_rows(group, nodes[next_id].step, now)
        Enrolment.objects.filter(pk__in=[e.pk for e in group]).update(current_step=next_id)


def _insert_next_rows(enrolments: list[Enrolment], step: dict, now: datetime) -> None:
    """One INSERT … SELECT for a group: the step, its due time and what it awaits are the same
    for all of them (same step, same moment, same account's zone). Django's bulk_create spent
    more time preparing 500 objects than PostgreSQL took to insert them."""
    template = due_row(
        enrolment=enrolments[0], step=step, now=now, tz=enrolments[0].account.timezone, held=False
    )
    table, source = DueStep._meta.db_table, Enrolment._meta.db_table
    placeholders = ", ".join(["%s"] * len(enrolments))
    due_at = DueStep._meta.get_field("due_at").get_db_prep_value(template.due_at, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (account_id, scenario_id, enrolment_id, step_id, status, due_at, "  # noqa: S608
            f"awaiting, attempts, outcome, idempotency_key) SELECT account_id, scenario_id, id, "
            f"%s, %s, %s, %s, 0, '', CAST(id AS TEXT) || ':' || CAST(version_id AS TEXT) || %s "
            f"FROM {source} WHERE id IN ({placeholders})",
            [step["id"], DueStep.Status.PENDING, due_at, template.awaiting, f":{step['id']}",
             *(e.pk for e in enrolments)],
        )  # fmt: skip


def drain(now: datetime | None = None, size: int = BATCH_SIZE) -> int:
    """Run every due step until none is left (tests, the test mode, benchmarks)."""
    total = 0
    while ids := claim_due_steps(size, now=now):
        total += run_claimed(ids, now=now)
    return total
