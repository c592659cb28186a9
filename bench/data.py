"""Bench data: contacts written with COPY, so that setting up is never what a benchmark measures."""

import io
import json
import resource

COLUMNS = (
    "account_id, key, email, mobile, salutation, first_name, last_name, birth_date, zip_code, "
    "city, country, company, fields, number_values, date_values, email_status, sms_status, "
    "created_at, updated_at"
)


def copy_contacts(account, contacts) -> None:
    """`contacts`: dicts with email, and optionally first_name, birth_date (ISO), fields.
    The account's custom fields must exist first: their typed copies are written too."""
    from django.db import connection

    from contacts.models import Contact
    from contacts.typed_values import TYPED_COLUMNS, TypedLayout

    layout = TypedLayout.for_account(account.pk)
    as_sql = {column: Contact._meta.get_field(column).get_db_prep_value for column in TYPED_COLUMNS}
    buffer = io.StringIO()
    for contact in contacts:
        email = contact["email"]
        fields = contact.get("fields", {})
        typed = "\t".join(
            as_sql[column](values, connection) for column, values in layout.arrays(fields).items()
        )
        buffer.write(
            f"{account.pk}\t{email}\t{email}\t\t\t{contact.get('first_name', '')}\t\t"
            f"{contact.get('birth_date') or chr(92) + 'N'}\t\t\t\t\t"
            f"{json.dumps(fields)}\t{typed}\tsubscribed\tnone\t2026-11-01\t2026-11-01\n"
        )
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY contacts_contact ({COLUMNS}) FROM STDIN", buffer)


def add_all_to_list(account, contact_list, *, every: int = 1) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO contacts_listmembership (contact_list_id, contact_id, status, created_at,"
            " updated_at) SELECT %s, id, 'subscribed', now(), now() FROM contacts_contact "
            "WHERE account_id = %s AND id %% %s = 0",
            [contact_list.pk, account.pk, every],
        )
        # The steady state autovacuum keeps a table in: statistics, and the visibility map that
        # lets counts read indexes alone.
        cursor.execute("VACUUM ANALYZE contacts_contact")
        cursor.execute("VACUUM ANALYZE contacts_listmembership")


def delete_bench_account(account) -> None:
    """Raw deletes first: Django's collector takes minutes over a million rows."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("stats_emailevent", "stats_campaignlink", "stats_campaignactivity",
                      "stats_campaignclient", "stats_campaignstats"):  # fmt: skip
            cursor.execute(
                f"DELETE FROM {table} WHERE campaign_id IN "  # noqa: S608
                "(SELECT id FROM campaigns_emailcampaign WHERE account_id = %s)",
                [account.pk],
            )
        cursor.execute(
            "DELETE FROM campaigns_message WHERE campaign_id IN "
            "(SELECT id FROM campaigns_emailcampaign WHERE account_id = %s)",
            [account.pk],
        )
        cursor.execute(
            "DELETE FROM contacts_listmembership WHERE contact_id IN "
            "(SELECT id FROM contacts_contact WHERE account_id = %s)",
            [account.pk],
        )
        cursor.execute("DELETE FROM contacts_consentrecord WHERE account_id = %s", [account.pk])
        cursor.execute("DELETE FROM contacts_contact WHERE account_id = %s", [account.pk])
    account.delete()


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: that survives fork + exec, so
    a worker spawned by a benchmark holding big data would report the parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
