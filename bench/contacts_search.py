"""Contact search and the contacts list query on a big account (PostgreSQL).

Generates N contacts with French names (accents, ligatures), companies and mobiles, plus a
second account as large, then times in the same run, for a few searches: the accent-insensitive
search of contacts.selectors (trigram index on contact_search_text) against the baseline it
replaced (ILIKE on five columns), as the contacts page runs them: the count and the first page,
newest first. Prints the plan's access path, so that a sequential scan shows.

    DATABASE_URL=postgres://... python -m bench.contacts_search [--contacts 100000] [--repeat 7]
"""

import argparse
import io
import random
import statistics
import time

from bench.data import delete_bench_account
from bench.import_contacts import setup_django

FIRST_NAMES = [
    "Élodie", "Jérôme", "Zoé", "Hélène", "Noël", "Anaïs", "Chloé", "Léa", "Benoît", "François",
    "Camille", "Julien", "Marie", "Thomas", "Nicolas", "Sophie", "Lucas", "Emma", "Hugo", "Inès",
]  # fmt: skip
LAST_NAMES = [
    "Martin", "Bernard", "Lefèvre", "Lœuvre", "Mercier", "Girard", "Bonnet", "Dupré", "Gauthier",
    "Rousseau", "Faure", "André", "Mathé", "Rivière", "Perrin", "Morel", "Fournier", "Lambert",
]  # fmt: skip
COMPANIES = ["", "", "", "Crème & Cie", "Boulangerie Dupré", "Café des Arts", "Atelier Noël"]


def generate(account, count: int, seed: int) -> None:
    from django.db import connection

    rng = random.Random(seed)
    buffer = io.StringIO()
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        # One contact in a thousand is the Élodie Lœuvre the benchmark looks for.
        if index % 1000 == 0:
            first, last = "Élodie", "Lœuvre"
        email = f"c{index}.{seed}@exemple.fr"
        mobile = f"+336{index:08d}" if index % 2 else ""
        buffer.write(
            f"{account.pk}\t{email}\t{email}\t{mobile}\t{first}\t{last}\t{rng.choice(COMPANIES)}"
            "\t\t\t\t\t{}\t{}\t{}\tsubscribed\tnone\t2026-11-01\t2026-11-01\n"
        )
    buffer.seek(0)
    columns = (
        "account_id, key, email, mobile, first_name, last_name, company, salutation, zip_code, "
        "city, country, fields, number_values, date_values, email_status, sms_status, created_at, "
        "updated_at"
    )
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY contacts_contact ({columns}) FROM STDIN", buffer)


def baseline(account, query: str):
    """The search before this change: ILIKE '%q%' on five columns (no accents ignored)."""
    from django.db.models import Q

    from contacts.selectors import contacts_of

    return contacts_of(account).filter(
        Q(email__icontains=query)
        | Q(first_name__icontains=query)
        | Q(last_name__icontains=query)
        | Q(mobile__icontains=query)
        | Q(company__icontains=query)
    )


def page_query(queryset, page_size: int = 50):
    """What the contacts page runs: the count, then the first page, newest first."""
    ordered = queryset.order_by("-pk")
    return lambda: (ordered.count(), list(ordered.values_list("pk", flat=True)[:page_size]))


def timed(function, repeat: int) -> float:
    function()  # warm the cache: both sides then read from memory
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations) * 1000


def access_path(queryset) -> str:
    from django.db import connection

    sql, params = queryset.order_by("-pk").values("pk")[:50].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = [row[0] for row in cursor.fetchall()]
    scans = [line.strip() for line in plan if "Scan" in line]
    return " / ".join(scan.split("  (")[0] for scan in scans)


def run(count: int, repeat: int, keep: bool) -> None:
    from django.db import connection

    from accounts.services import account_create
    from contacts.selectors import contacts_of, contacts_search

    if connection.vendor != "postgresql":
        print("skipped: this benchmark needs PostgreSQL (set DATABASE_URL)")
        return
    account = account_create(name=f"bench search {time.time()}")
    neighbour = account_create(name=f"bench search neighbour {time.time()}")
    started = time.perf_counter()
    generate(account, count, seed=1)
    generate(neighbour, count, seed=2)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE contacts_contact")
    print(f"generated 2 × {count:,} contacts in {time.perf_counter() - started:.1f} s", flush=True)
    try:
        plain = page_query(contacts_of(account))
        print(f"list, no search: {timed(plain, repeat):.1f} ms (median of {repeat})", flush=True)
        searches = {
            "élodie (accented)": ("élodie", "Élodie"),
            "loeuvre (ligature)": ("loeuvre", "Lœuvre"),
            "elodie loeuvre (0.1 %)": ("elodie loeuvre", "Élodie Lœuvre"),
            "martin (common name)": ("martin", "Martin"),
            "06 00 00 12 35 (national phone)": ("06 00 00 12 35", "+33600001235"),
            "zzz (no match)": ("zzz", "zzz"),
            "a (one letter)": ("a", "a"),
        }
        for name, (typed, baseline_text) in searches.items():
            ours = contacts_search(account, query=typed)
            theirs = baseline(account, baseline_text)
            ours_count, theirs_count = ours.count(), theirs.count()
            ours_ms = timed(page_query(ours), repeat)
            theirs_ms = timed(page_query(theirs), repeat)
            print(
                f"{name}: {ours_count:,} found ({ours_count / count:.1%}; baseline, typed "
                f"exactly: {theirs_count:,}) | "
                f"search {ours_ms:.1f} ms [{access_path(ours)}] | baseline {theirs_ms:.1f} ms "
                f"[{access_path(theirs)}] | ratio {ours_ms / theirs_ms:.2f}",
                flush=True,
            )
    finally:
        if keep:
            print(f"kept: accounts {account.pk}, {neighbour.pk}")
        else:
            delete_bench_account(account)
            delete_bench_account(neighbour)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the generated accounts")
    args = parser.parse_args(argv)
    setup_django()
    run(args.contacts, args.repeat, args.keep)


if __name__ == "__main__":
    main()
