"""Contact import benchmark (issue: import ≥ 0.25 of PostgreSQL COPY, worker RSS < 300 MB, flat).

Generates a CSV of N rows × 10 columns (7 built-in fields, 3 custom: number, decimal, date), then
in the same run:
- baseline: PostgreSQL `COPY` of that file into a bare table of text columns;
- the real import (sniff, mapping, `import_run` as the Celery task runs it) in a fresh worker
  process, whose peak RSS is read from the kernel; `--paths fast python` also times the
  row-by-row Python path that SQLite uses, on the same file;
- the ceiling: `COPY` of the rows the import wrote, already clean, into a table with Contact's
  column types, without and with Contact's indexes: no import into this schema can be faster.

Peak RSS is the worker's VmHWM. Its ru_maxrss is not: it survives fork + exec, so it starts at
the benchmark process's own size (which holds the uploaded file), and grew with the file.

    DATABASE_URL=postgres://... python -m bench.import_contacts [--rows 1000000 100000]
"""

import argparse
import csv
import io
import multiprocessing
import os
import random
import resource
import tempfile
import time
from pathlib import Path

from bench.data import peak_rss_mb

HEADER = [
    "E-mail", "Prénom", "Nom", "Téléphone portable", "Code postal", "Ville", "Date de naissance",
    "Points", "Montant", "Dernière commande",
]  # fmt: skip
FIRST_NAMES = ["Marie", "Jean", "Zoé", "Lucas", "Léa", "Hugo", "Chloé", "Louis", "Emma", "Jules"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand"]
CITIES = ["Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Lille", "Rennes", "Nice"]


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sendethic.settings")
    import django

    django.setup()


def generate_csv(path: Path, rows: int, seed: int = 42) -> None:
    """A file as French Excel writes it: ';', French dates, decimal commas, national mobiles."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for index in range(rows):
            writer.writerow(
                [
                    f"client.{index}@exemple{index % 97}.fr",
                    rng.choice(FIRST_NAMES),
                    rng.choice(LAST_NAMES),
                    f"06 {rng.randrange(12, 38)} {rng.randrange(10, 99)} "
                    f"{rng.randrange(10, 99)} {rng.randrange(10, 99)}",
                    f"{rng.randrange(1000, 95999):05d}",
                    rng.choice(CITIES),
                    f"{rng.randrange(1, 28):02d}/{rng.randrange(1, 12):02d}/"
                    f"{rng.randrange(1940, 2005)}",
                    str(rng.randrange(0, 5000)),
                    f"{rng.randrange(0, 2000)},{rng.randrange(0, 99):02d}",
                    f"{rng.randrange(2018, 2026)}-{rng.randrange(1, 12):02d}-"
                    f"{rng.randrange(1, 28):02d}",
                ]
            )


def copy_baseline(path: Path) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_baseline")
        columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
        cursor.execute(f"CREATE TABLE bench_copy_baseline ({columns})")
        started = time.perf_counter()
        with path.open("r", encoding="utf-8") as handle:
            cursor.cursor.copy_expert(
                "COPY bench_copy_baseline FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER)",
                handle,
            )
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy_baseline")
    return elapsed


def copy_ceiling(import_id: int) -> dict[str, float]:
    """What no import into this schema can beat: `COPY` of the rows the import wrote (already
    clean: no parsing, checking, de-duplicating, ledger or list) into a table of Contact's
    column types, without and then with Contact's indexes (key uniqueness, search, segments)."""
    from django.db import connection

    from contacts.models import Contact, ContactImport

    account_id = ContactImport.objects.get(pk=import_id).account_id
    table = Contact._meta.db_table
    columns = ", ".join(
        field.column for field in Contact._meta.concrete_fields if not field.primary_key
    )
    rows = io.StringIO()
    seconds = {}
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY (SELECT {columns} FROM {table} WHERE account_id = {int(account_id)}) "  # noqa: S608
            "TO STDOUT",
            rows,
        )
        for name, like in (
            ("types", "INCLUDING DEFAULTS INCLUDING IDENTITY"),
            ("types+indexes", "INCLUDING ALL"),
        ):
            cursor.execute("DROP TABLE IF EXISTS bench_copy_ceiling")
            cursor.execute(f"CREATE TABLE bench_copy_ceiling (LIKE {table} {like})")
            rows.seek(0)
            started = time.perf_counter()
            cursor.cursor.copy_expert(f"COPY bench_copy_ceiling ({columns}) FROM STDIN", rows)
            seconds[name] = time.perf_counter() - started
            cursor.execute("DROP TABLE bench_copy_ceiling")
    return seconds


def _prepare_import(path: Path, account_name: str) -> int:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.services import account_create
    from contacts.imports.services import import_configure, import_create
    from contacts.services.fields import field_create

    account = account_create(name=account_name)
    field_create(account=account, key="points", label="Points", type="number")
    field_create(account=account, key="montant", label="Montant", type="decimal")
    field_create(account=account, key="derniere_commande", label="Dernière commande", type="date")
    with path.open("rb") as handle:
        upload = SimpleUploadedFile(path.name, handle.read())
    contact_import = import_create(account=account, uploaded_file=upload)
    import_configure(contact_import=contact_import, mapping=contact_import.mapping)
    from contacts.models import ContactImport

    ContactImport.objects.filter(pk=contact_import.pk).update(status=ContactImport.Status.QUEUED)
    return contact_import.pk


def _worker(import_id: int, results, path: str = "fast") -> None:
    """Runs in a fresh process, like a Celery worker: its peak RSS is the figure we report."""
    setup_django()
    from contacts.imports import services as imports

    if path == "python":
        imports.FAST_IMPORT_VENDORS = frozenset()
    started = time.perf_counter()
    done = imports.import_run(import_id=import_id)
    results.put(
        {
            "seconds": time.perf_counter() - started,
            "rows": done.processed_rows,
            "created": done.created_count,
            "errors": done.error_count,
            "peak_rss_mb": peak_rss_mb(),
            "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def _cleanup(import_id: int) -> None:
    from contacts.models import ContactImport

    contact_import = ContactImport.objects.select_related("account").get(pk=import_id)
    contact_import.file.delete(save=False)
    contact_import.account.delete()


def run(rows_list: list[int], paths: tuple[str, ...] = ("fast",)) -> list[dict]:
    from django.db import connection

    if connection.vendor != "postgresql":
        print("skipped: this benchmark needs PostgreSQL (set DATABASE_URL)")
        return []
    results = []
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as folder:
        for rows in rows_list:
            path = Path(folder) / f"contacts-{rows}.csv"
            generate_csv(path, rows)
            size_mb = path.stat().st_size / 1e6
            copy_seconds = copy_baseline(path)
            for import_path in paths:
                import_id = _prepare_import(path, f"bench {rows} {time.time()}")
                connection.close()
                queue = context.Queue()
                process = context.Process(target=_worker, args=(import_id, queue, import_path))
                process.start()
                outcome = queue.get()
                process.join()
                rate = outcome["rows"] / outcome["seconds"]
                copy_rate = rows / copy_seconds
                result = {
                    "rows": rows,
                    "path": import_path,
                    "file_mb": round(size_mb, 1),
                    "copy_s": round(copy_seconds, 2),
                    "copy_rows_per_s": round(copy_rate),
                    "import_s": round(outcome["seconds"], 2),
                    "import_rows_per_s": round(rate),
                    "ratio_to_copy": round(rate / copy_rate, 3),
                    "worker_peak_rss_mb": round(outcome["peak_rss_mb"], 1),
                    "worker_ru_maxrss_mb": round(outcome["ru_maxrss_mb"], 1),
                    "created": outcome["created"],
                    "errors": outcome["errors"],
                }
                results.append(result)
                print(
                    f"{rows:>9} rows ({size_mb:.0f} MB), {import_path:>6} path: COPY "
                    f"{copy_seconds:6.2f} s "
                    f"({copy_rate:,.0f} rows/s) | import {outcome['seconds']:7.2f} s "
                    f"({rate:,.0f} rows/s) | ratio {rate / copy_rate:.3f} | worker peak RSS "
                    f"{outcome['peak_rss_mb']:.0f} MB (ru_maxrss {outcome['ru_maxrss_mb']:.0f}) | "
                    f"created {outcome['created']}, "
                    f"errors {outcome['errors']}",
                    flush=True,
                )
                ceiling = copy_ceiling(import_id)
                result["ceiling_s"] = {name: round(value, 2) for name, value in ceiling.items()}
                print(
                    "          ceiling: COPY of the imported rows, already clean, into a table of "
                    "Contact's types "
                    + " | ".join(
                        f"{name}: {value:.2f} s (ratio {copy_seconds / value:.3f})"
                        for name, value in ceiling.items()
                    ),
                    flush=True,
                )
                _cleanup(import_id)
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--paths", nargs="+", choices=["fast", "python"], default=["fast"],
        help="import paths to time: fast (PostgreSQL's default) and/or python (SQLite's)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    setup_django()
    run(args.rows, tuple(args.paths))


if __name__ == "__main__":
    main()
