"""Automation benchmarks (issue 16), on PostgreSQL, each against a same-run baseline:

(1) step throughput: N contacts enrolled at once (one burst) into a scenario whose steps are
    "add to list" then "update field"; the due steps drained by one in-process worker in
    batches, as the beat-driven tasks do. Bar: ≥ 2,000 steps/s per worker, RSS flat (< 200 MB).
    Baseline: the same list insertions and field updates as bare SQL statements.
(2) the daily birthday trigger over M contacts with birth dates: the rule compiler's indexed
    query and the enrolment of the day's contacts, against a hand-written SELECT of the same
    contacts. Bar: < 2 s, ≤ 2× the hand-written SELECT.

  DATABASE_URL=postgres://... python -m bench.automations [--steps 100000] [--contacts 1000000]
"""

import argparse
import math
import os
import random
import statistics
import time
from datetime import date, datetime, timedelta

from bench.data import copy_contacts, delete_bench_account, peak_rss_mb
from bench.import_contacts import setup_django


def current_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _account(label: str):
    from accounts.services import account_create

    return account_create(name=f"bench automations {label} {time.time()}")


def throughput(count: int) -> None:
    from django.db import connection

    from automations import engine
    from automations.models import DueStep, Enrolment
    from automations.services import scenario_activate, scenario_create, scenario_enrol
    from contacts.models import Contact, ContactList

    account = _account("steps")
    try:
        copy_contacts(account, ({"email": f"step.{i}@exemple.fr"} for i in range(count)))
        ids = list(Contact.objects.filter(account=account).values_list("pk", flat=True))
        target = ContactList.objects.create(account=account, name="Passés")
        scenario = scenario_activate(
            scenario=scenario_create(
                account=account,
                data={
                    "name": "Bench",
                    "steps": [
                        {"id": "list", "kind": "add_to_list", "config": {"list_id": target.pk}},
                        {
                            "id": "city",
                            "kind": "update_field",
                            "config": {"field": "city", "value": "Lyon"},
                        },
                    ],
                },  # fmt: skip
            )
        )
        started = time.perf_counter()
        entered = scenario_enrol(scenario=scenario, contact_ids=ids)
        burst = time.perf_counter() - started
        messages = math.ceil(entered / engine.BATCH_SIZE)
        print(
            f"burst: {entered:,} enrolments in {burst:.1f} s ({entered / burst:,.0f}/s); the "
            f"dispatcher sends {messages} task messages ({engine.BATCH_SIZE} steps each)",
            flush=True,
        )
        total = 2 * count
        rss, steps, checkpoints = [current_rss_mb()], 0, {total // 5, total // 2}
        started = time.perf_counter()
        while batch := engine.claim_due_steps(engine.BATCH_SIZE):
            steps += engine.run_claimed(batch)
            if any(steps >= mark > steps - len(batch) for mark in checkpoints):
                rss.append(current_rss_mb())
        elapsed = time.perf_counter() - started
        rss.append(current_rss_mb())
        done = DueStep.objects.filter(scenario=scenario, status="done").count()
        completed = Enrolment.objects.filter(scenario=scenario, status="completed").count()
        assert done == 2 * count and completed == count, (done, completed)
        print(
            f"steps: {steps:,} drained in {elapsed:.1f} s = {steps / elapsed:,.0f} steps/s on one "
            f"worker | RSS MB at start / 20% / 50% / end: {' / '.join(f'{r:.0f}' for r in rss)} "
            f"(peak {peak_rss_mb():.0f})",
            flush=True,
        )
        # Baseline: the same writes with nothing around them (no claim, no advance, no rules).
        other = ContactList.objects.create(account=account, name="Base")
        sample = ids[: min(count, 20_000)]
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for pk in sample:
                cursor.execute(
                    "INSERT INTO contacts_listmembership (contact_list_id, contact_id, status, "
                    "created_at, updated_at) VALUES (%s, %s, 'subscribed', now(), now()) "
                    "ON CONFLICT DO NOTHING",
                    [other.pk, pk],
                )
                cursor.execute(
                    "UPDATE contacts_contact SET city = 'Paris', updated_at = now() WHERE id = %s",
                    [pk],
                )
        bare = 2 * len(sample) / (time.perf_counter() - started)
        print(f"baseline: the same writes as bare SQL statements: {bare:,.0f} steps/s", flush=True)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM automations_duestep WHERE account_id = %s", [account.pk])
            cursor.execute("DELETE FROM automations_enrolment WHERE account_id = %s", [account.pk])
        delete_bench_account(account)


def birthdays(count: int, repeat: int) -> None:
    from django.db import connection

    from automations.models import Enrolment
    from automations.services import scenario_activate, scenario_create
    from automations.triggers import date_trigger_contacts, run_date_triggers
    from contacts.segments.compiler import account_today

    account = _account("birthdays")
    rng = random.Random(11)
    first = date(1940, 1, 1)
    try:
        started = time.perf_counter()
        copy_contacts(
            account,
            (
                {"email": f"bd.{i}@exemple.fr",
                 "birth_date": (first + timedelta(days=rng.randrange(0, 25000))).isoformat()}
                for i in range(count)
            ),
        )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE contacts_contact")
        print(f"generated {count:,} contacts in {time.perf_counter() - started:.1f} s", flush=True)
        scenario = scenario_activate(
            scenario=scenario_create(
                account=account,
                data={
                    "name": "Anniversaire",
                    "trigger": "date_anniversary",
                    "trigger_config": {"field": "birth_date", "time": "00:00"},
                    "steps": [
                        {"id": "w", "kind": "wait", "config": {"mode": "duration", "days": 1}}
                    ],
                },  # fmt: skip
            )
        )
        today = account_today(account)
        # Two hand-written SELECTs: the obvious one, and one written knowing the functional
        # index on month * 100 + day (contact_birthday) — the fair baseline.
        obvious = (
            "SELECT id FROM contacts_contact WHERE account_id = %s AND "
            "EXTRACT(MONTH FROM birth_date) = %s AND EXTRACT(DAY FROM birth_date) = %s",
            [account.pk, today.month, today.day],
        )
        indexed = (
            "SELECT id FROM contacts_contact WHERE account_id = %s AND "
            "(EXTRACT(MONTH FROM birth_date) * 100 + EXTRACT(DAY FROM birth_date))::integer = %s",
            [account.pk, today.month * 100 + today.day],
        )

        def select(statement):
            def run_select():
                with connection.cursor() as cursor:
                    cursor.execute(*statement)
                    return {row[0] for row in cursor.fetchall()}

            return run_select

        hand_written = select(indexed)

        def compiled():
            return set(date_trigger_contacts(scenario, today).values_list("pk", flat=True))

        expected = hand_written()
        assert compiled() == expected == select(obvious)(), "the contacts differ"
        timings = {}
        cases = (("hand-written SELECT", hand_written), ("obvious SELECT", select(obvious)),
                 ("trigger query", compiled))  # fmt: skip
        for name, function in cases:
            durations = []
            for _ in range(repeat):
                started = time.perf_counter()
                function()
                durations.append(time.perf_counter() - started)
            timings[name] = statistics.median(durations) * 1000
        started = time.perf_counter()
        entered = run_date_triggers(now=datetime.now().astimezone())
        whole = time.perf_counter() - started
        assert entered == len(expected) == Enrolment.objects.filter(scenario=scenario).count()
        ratio = timings["trigger query"] / timings["hand-written SELECT"]
        print(
            f"birthdays today: {len(expected):,} of {count:,} | trigger query "
            f"{timings['trigger query']:.0f} ms vs hand-written SELECT on the indexed "
            f"expression {timings['hand-written SELECT']:.0f} ms = {ratio:.2f}× (median of "
            f"{repeat}; the obvious EXTRACT = … SELECT: {timings['obvious SELECT']:.0f} ms) | "
            f"the whole daily trigger (query + enrolment of every one) {whole:.2f} s",
            flush=True,
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM automations_duestep WHERE account_id = %s", [account.pk])
            cursor.execute("DELETE FROM automations_enrolment WHERE account_id = %s", [account.pk])
        delete_bench_account(account)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000, help="contacts in the burst")
    parser.add_argument("--contacts", type=int, default=1_000_000, help="birthday base")
    parser.add_argument(
        "--repeat", type=int, default=25, help="timings of a few ms: a median of many"
    )
    args = parser.parse_args(argv)
    # As a production worker runs: DEBUG keeps the last 9,000 SQL statements (bulk ones of 500
    # rows included) in memory, which the RSS figures would show as growth.
    os.environ["DEBUG"] = "false"
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("skipped: this benchmark needs PostgreSQL (set DATABASE_URL)")
        return
    # The throughput first: its RSS figures are then this process's own.
    if args.steps:
        throughput(args.steps)
    if args.contacts:
        birthdays(args.contacts, args.repeat)


if __name__ == "__main__":
    main()
