from celery import shared_task

from contacts.imports.services import import_run


@shared_task(
    acks_late=True, reject_on_worker_lost=True, soft_time_limit=3 * 3600, time_limit=3 * 3600 + 60
)
def run_import_task(import_id: int) -> None:
    import_run(import_id=import_id)
