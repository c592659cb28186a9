"""Celery entry points of the SMS channel (routed to the `sms` queue)."""

from celery import shared_task

from sms.legal_hours import resume_due


@shared_task
def resume_after_legal_hours_task() -> None:
    """Campaigns paused by the end of the legal window resume when it opens."""
    resume_due()
