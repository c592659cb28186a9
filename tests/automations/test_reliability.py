"""A worker SIGKILLed while it runs scenario steps: no step is skipped, every email goes out,
at most one twice per kill, and the step rows agree with what the SMTP server received.

Real components only: PostgreSQL, Redis, Celery worker processes, an SMTP server on loopback.
"""

import os
import signal
import time
from collections import Counter

import pytest
from django.db import connection

from automations.models import DueStep, Enrolment
from automations.services import scenario_activate, scenario_create, scenario_enrol
from automations.tasks import dispatch_due_steps_task
from contacts.models import Contact
from tests.automations.conftest import email_step
from tests.conftest import requires_postgres
from tests.worker_processes import start_celery_worker, wait_for

CONTACTS = 600


@requires_postgres
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")
@pytest.mark.django_db(transaction=True)
def test_sigkill_while_running_scenario_steps(smtp_server, settings, account, sender):
    # given: contacts inside a scenario that sends, writes a field, and sends again
    contacts = Contact.objects.bulk_create(
        Contact(account=account, key=f"r{i}@example.com", email=f"r{i}@example.com",
                first_name=f"R{i}", email_status="subscribed")
        for i in range(CONTACTS)
    )  # fmt: skip
    scenario = scenario_activate(
        scenario=scenario_create(
            account=account,
            data={
                "name": "Fiabilité",
                "steps": [
                    email_step("first", sender, subject="Premier"),
                    {
                        "id": "mark",
                        "kind": "update_field",
                        "config": {"field": "city", "value": "Lu"},
                    },
                    email_step("second", sender, subject="Second"),
                ],
            },  # fmt: skip
        )
    )
    scenario_enrol(scenario=scenario, contact_ids=[c.pk for c in contacts])
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{connection.settings_dict['USER']}@"
        f"{connection.settings_dict['HOST']}:{connection.settings_dict['PORT']}/"
        f"{connection.settings_dict['NAME']}",
        "EMAIL_URL": f"smtp://127.0.0.1:{settings.EMAIL_PORT}",
        "AUTOMATION_LEASE_SECONDS": "3",
        # The email the dead worker held is taken over once the send engine's lease expires.
        "SEND_LEASE_SECONDS": "3",
        "CELERY_VISIBILITY_TIMEOUT": "20",
        "EMAIL_SEND_RATE_PER_ACCOUNT": "100000",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    def finished():
        dispatch_due_steps_task.delay()  # what the beat does every 10 seconds
        return not Enrolment.objects.filter(scenario=scenario, status="active").exists()

    first = start_celery_worker(env, "default")
    second = None
    try:
        # when: the worker is killed while it sends
        dispatch_due_steps_task.delay()
        wait_for(lambda: len(smtp_server.messages) >= 300, 120, "300 deliveries")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        received_at_kill = len(smtp_server.messages)
        assert received_at_kill < 2 * CONTACTS, "the scenario finished before the kill"
        time.sleep(3.5)  # the dead worker's lease expires
        second = start_celery_worker(env, "default")
        wait_for(finished, 300, "every contact to finish the scenario")
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
    # then: every contact got both emails, at most one of them twice
    deliveries = Counter((to[0], str(message["Subject"])) for to, message in smtp_server.messages)
    expected = {(f"r{i}@example.com", s) for i in range(CONTACTS) for s in ("Premier", "Second")}
    assert set(deliveries) == expected
    duplicates = sum(count - 1 for count in deliveries.values())
    assert duplicates <= 1, f"{duplicates} duplicates for one kill"
    # no step skipped, none run twice
    assert DueStep.objects.filter(scenario=scenario, status="done").count() == 3 * CONTACTS
    assert Contact.objects.filter(account=account, city="Lu").count() == CONTACTS
    assert Enrolment.objects.filter(scenario=scenario, status="completed").count() == CONTACTS
    print(f"killed after {received_at_kill} deliveries; {duplicates} duplicate(s)")
