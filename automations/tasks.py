"""Thin Celery entry points of the timer engine and the date triggers (beat-driven, no ETA)."""

from celery import shared_task
from django.conf import settings

from automations import engine, triggers


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_due_steps_task() -> int:
    """One message = one batch: claim up to BATCH_SIZE due steps and run them."""
    return engine.run_claimed(engine.claim_due_steps(engine.BATCH_SIZE))


@shared_task
def dispatch_due_steps_task() -> int:
    """Beat tick: give back what dead workers held, then one message per batch that is due (a
    burst of 100,000 enrolments is 200 messages, not 100,000), capped per tick so that a slow
    worker never faces a growing queue."""
    engine.recover_expired_leases()
    cap = getattr(settings, "AUTOMATION_MAX_BATCHES_PER_TICK", 40)
    due = engine.count_due(limit=cap * engine.BATCH_SIZE)
    batches = -(-due // engine.BATCH_SIZE)
    for _batch in range(batches):
        run_due_steps_task.delay()
    return batches


@shared_task
def run_date_triggers_task() -> int:
    """Hourly: each scenario with a date trigger runs once per local day, at its local hour."""
    return triggers.run_date_triggers()


@shared_task
def run_segment_triggers_task() -> int:
    """Segment, inactivity and "not opened" triggers: who came to match since the last tick."""
    return triggers.run_segment_triggers() + triggers.run_not_opened_triggers()
