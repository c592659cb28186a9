"""Celery entry points of the statistics: thin and idempotent."""

from celery import shared_task

from stats.services.ingest import ingest_pending


@shared_task(ignore_result=True)
def ingest_tracking_hits_task() -> int:
    """Run by beat every few seconds: fold waiting opens and clicks into events and counters."""
    return ingest_pending()
