"""Segment count benchmark (issue goal: < 300 ms and ≤ 1.5× hand-written SQL at 1M contacts).

Generates N contacts on PostgreSQL with COPY (custom date and number fields, birth dates, a list
holding a third of them), then times, in the same run, the compiled segment count and a
hand-written SQL query for the same rule:
  (a) last order more than 90 days ago AND points > 100 AND in the list;
  (b) birthday within the next 7 days;
  (c) aged 18 to 30 (age in years, relative to today).

    DATABASE_URL=postgres://... python -m bench.segments [--contacts 1000000] [--repeat 7]
"""

import argparse
import random
import statistics
import time
from datetime import date, timedelta

from bench.data import add_all_to_list, copy_contacts, delete_bench_account
from bench.import_contacts import setup_django


def generate(account, contact_list, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = date(1950, 1, 1)

    def contacts():
        for index in range(count):
            yield {
                "email": f"seg.{index}@exemple.fr",
                "birth_date": (start + timedelta(days=rng.randrange(0, 20000))).isoformat(),
                "fields": {
                    "last_order": (
                        date(2026, 11, 1) - timedelta(days=rng.randrange(0, 1500))
                    ).isoformat(),
                    "points": rng.randrange(0, 1000),
                },
            }

    copy_contacts(account, contacts())
    add_all_to_list(account, contact_list, every=3)


def timed(function, repeat: int) -> float:
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations) * 1000


def run(count: int, repeat: int, keep: bool = False) -> None:
    from django.db import connection

    from accounts.services import account_create
    from contacts.models import ContactList
    from contacts.segments.compiler import account_today, count_matching
    from contacts.segments.language import (
        FieldCatalog,
        anniversary_days,
        validate_rules,
        years_before,
    )
    from contacts.services.fields import field_create

    if connection.vendor != "postgresql":
        print("skipped: this benchmark needs PostgreSQL (set DATABASE_URL)")
        return
    account = account_create(name=f"bench segments {time.time()}")
    last_order = field_create(
        account=account, key="last_order", label="Dernière commande", type="date"
    )
    points = field_create(account=account, key="points", label="Points", type="number")
    contact_list = ContactList.objects.create(account=account, name="Clients")
    started = time.perf_counter()
    generate(account, contact_list, count)
    print(f"generated {count:,} contacts in {time.perf_counter() - started:.1f} s", flush=True)
    today = account_today(account)
    catalog = FieldCatalog.for_account(account)

    def compiled_count(rules):
        cleaned = validate_rules(rules, catalog, account)
        return lambda: count_matching(account, cleaned, today=today)

    def sql_count(sql, params):
        def run_sql():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchone()[0]

        return run_sql

    cutoff = (today - timedelta(days=90)).isoformat()
    rules_a = {
        "all": [
            {"field": "fields.last_order", "op": "more_than_days_ago", "value": 90},
            {"field": "fields.points", "op": "gt", "value": 100},
            {"field": "list", "op": "in_list", "value": contact_list.pk},
        ]
    }
    in_list = (
        "EXISTS (SELECT 1 FROM contacts_listmembership m WHERE m.contact_id = c.id "
        "AND m.contact_list_id = %s AND m.status = 'subscribed')"
    )
    cases = {
        # What one would write against the schema: the typed copies of the custom values.
        "(a) last order > 90 days ago AND points > 100 AND in list": (
            rules_a,
            "SELECT count(*) FROM contacts_contact c WHERE c.account_id = %s "
            f"AND c.date_values[{last_order.slot}] < %s "
            f"AND c.number_values[{points.slot}] > 100 AND {in_list}",
            [account.pk, cutoff, contact_list.pk],
        ),
        # The same, reading the JSON values (what the schema held before the typed copies).
        "(a) same rule, hand-written SQL on the JSON values": (
            rules_a,
            "SELECT count(*) FROM contacts_contact c WHERE c.account_id = %s "
            "AND c.fields ->> 'last_order' < %s AND (c.fields ->> 'points')::numeric > 100 "
            f"AND {in_list}",
            [account.pk, cutoff, contact_list.pk],
        ),
        "(b) birthday within 7 days": (
            {"all": [{"field": "birth_date", "op": "anniversary_within_days", "value": 7}]},
            "SELECT count(*) FROM contacts_contact WHERE account_id = %s "
            "AND to_char(birth_date, 'MM-DD') = ANY(%s)",
            [
                account.pk,
                [f"{m:02d}-{d:02d}" for m, d in anniversary_days(today, 7)],
            ],
        ),
        "(c) aged 18 to 30": (
            {
                "all": [
                    {"field": "birth_date", "op": "age_at_least", "value": 18},
                    {"field": "birth_date", "op": "age_at_most", "value": 30},
                ]
            },
            "SELECT count(*) FROM contacts_contact WHERE account_id = %s "
            "AND birth_date <= %s AND birth_date > %s",
            [account.pk, years_before(today, 18), years_before(today, 31)],
        ),
    }
    try:
        for name, (rules, sql, params) in cases.items():
            ours, theirs = compiled_count(rules), sql_count(sql, params)
            assert ours() == theirs(), f"{name}: results differ"
            compiled_ms, sql_ms = timed(ours, repeat), timed(theirs, repeat)
            print(
                f"{name}: {ours():,} contacts | segment {compiled_ms:.0f} ms | hand-written SQL "
                f"{sql_ms:.0f} ms | ratio {compiled_ms / sql_ms:.2f} (median of {repeat})",
                flush=True,
            )
    finally:
        if keep:
            print(f"kept: account {account.pk}, list {contact_list.pk}")
        else:
            delete_bench_account(account)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the generated account")
    args = parser.parse_args(argv)
    setup_django()
    run(args.contacts, args.repeat, args.keep)


if __name__ == "__main__":
    main()
