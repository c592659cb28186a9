"""Bulk upsert API benchmark (issue goal: ≥ 5,000 contacts/s at 1,000 contacts per request).

POSTs batches of 1,000 contacts to /api/v1/contacts/bulk/ through the full Django stack
(authentication, throttling, parsing, validation, services, JSON response) in this process,
first creating them, then updating them; baseline: PostgreSQL `COPY` of the same rows into a
bare table in the same run.

    DATABASE_URL=postgres://... python -m bench.bulk_upsert_api [--contacts 20000]
"""

import argparse
import io
import json
import time

from bench.import_contacts import setup_django


def make_rows(count: int, offset: int = 0) -> list[dict]:
    return [
        {
            "email": f"api.{index}@exemple{index % 89}.fr",
            "first_name": "Marie",
            "last_name": f"Martin{index % 1000}",
            "mobile": f"+3361{index % 10_000_000:07d}"[:12],
            "zip_code": f"{(index * 7) % 95000:05d}",
            "city": "Lyon",
            "birth_date": "1985-07-14",
            "email_status": "subscribed",
        }
        for index in range(offset, offset + count)
    ]


def copy_baseline(rows: list[dict]) -> float:
    from django.db import connection

    columns = list(rows[0])
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(str(row[c]) for c in columns) + "\n")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bulk_baseline")
        cursor.execute(
            f"CREATE TABLE bench_bulk_baseline ({', '.join(f'{c} text' for c in columns)})"
        )
        buffer.seek(0)
        started = time.perf_counter()
        cursor.cursor.copy_expert("COPY bench_bulk_baseline FROM STDIN", buffer)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_bulk_baseline")
    return elapsed


def run(total: int, batch: int = 1000) -> dict:
    from django.db import connection
    from django.test import override_settings
    from rest_framework.test import APIClient

    from accounts.services import account_create
    from apikeys.services import api_key_create

    if connection.vendor != "postgresql":
        print("skipped: this benchmark needs PostgreSQL (set DATABASE_URL)")
        return {}
    account = account_create(name=f"bench bulk {time.time()}")
    _key, plaintext = api_key_create(account=account, name="bench", mode="live")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    rows = make_rows(total)
    figures = {}
    with override_settings(API_KEY_RATE="100000/minute", ALLOWED_HOSTS=["testserver"]):
        for phase in ("create", "update"):
            started = time.perf_counter()
            for start in range(0, total, batch):
                body = json.dumps({"contacts": rows[start : start + batch]})
                response = client.post(
                    "/api/v1/contacts/bulk/", body, content_type="application/json"
                )
                assert response.status_code == 200, response.content[:500]
                assert response.json()["errors"] == 0, response.json()["results"][:3]
            elapsed = time.perf_counter() - started
            figures[phase] = total / elapsed
            if phase == "create":
                for row in rows:
                    row["city"] = "Paris"
    copy_seconds = copy_baseline(rows)
    account.delete()
    copy_rate = total / copy_seconds
    print(
        f"{total} contacts in batches of {batch}: create {figures['create']:,.0f}/s, "
        f"update {figures['update']:,.0f}/s | COPY {copy_rate:,.0f} rows/s | "
        f"ratio create/COPY {figures['create'] / copy_rate:.3f}",
        flush=True,
    )
    return figures


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    args = parser.parse_args(argv)
    setup_django()
    run(args.contacts)


if __name__ == "__main__":
    main()
