"""The sent journal (SentJournal): how the engine records that a provider accepted a message,
one row per message, then folds those rows into the channel's message table a batch at a time.

The promise (DESIGN §5): a worker killed at any moment re-sends at most the message in flight.
So the record of message N must be in PostgreSQL's hands before message N+1 is handed to the
provider. The record is one INSERT (prepared, asynchronous commit) sent on a connection of its
own, without waiting for its answer: the answer is read just before the next record is sent (or
before a fold), so PostgreSQL inserts N while the worker waits for the provider's answer to N+1.

Why this keeps the promise: once the statement is written to the server's socket, PostgreSQL
reads it, runs it and commits it whether or not the client is still there to read the answer
(a server notices a vanished client only when it next reads or writes to it, and the INSERT is
complete by then; client_connection_check_interval, off by default, is far longer than the
INSERT). A SIGKILLed worker's kernel still delivers what it had written
(tests/campaigns/test_sent_journal.py kills 20 writers right after a record). What it no longer
promises: if the network between the worker and PostgreSQL loses that last packet at the very
moment the worker dies, message N is re-sent too — two duplicates for that kill instead of one. Waiting for each answer instead (the synchronous path,
used on SQLite and inside a caller's transaction) costs one more round trip a message: on a
loaded machine as long as the provider's own (bench.sms_send).

A crash of PostgreSQL itself may forget the last few hundred milliseconds of outcomes
(asynchronous commit: wal_writer_delay × 3), whose messages are sent again: duplicates, never a
loss; their rows are still "sending" and lease recovery requeues them.
"""

from __future__ import annotations

import functools
import json
import os
import select
import threading
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from campaigns.engine.channel import Channel
from campaigns.engine.models import SentJournal

# Commits without waiting for the WAL flush: the journal's records (set for its session below)
# and the fold's transaction (SET LOCAL: for that transaction only). Waiting for the flush cost
# 8 ms a message on a shared disk, more than the provider's answer.
ASYNCHRONOUS_COMMIT = "SET LOCAL synchronous_commit TO off; "

_TABLE = SentJournal._meta.db_table
_COLUMNS = "(channel, message_id, sent_at, provider_id, extra)"
# Prepared once per session: parsing and planning the INSERT for every message cost about a
# third of its round trip.
# The time of sending is the server's clock as it inserts, a few microseconds after the
# provider's answer (formatting a Python datetime into every statement cost more).
_PREPARE = (
    "PREPARE sendethic_sent_journal (varchar, bigint, varchar, jsonb) AS "  # noqa: S608
    f"INSERT INTO {_TABLE} {_COLUMNS} VALUES ($1, $2, clock_timestamp(), $3, $4)"
)
_EXECUTE = "EXECUTE sendethic_sent_journal (%s, %s, %s, %s)"
# The journal's own connection commits every record asynchronously: set once for its session
# (SET LOCAL in each record's query string had the server parse and run one more statement
# per message).
_SESSION = "SET synchronous_commit TO off"

# A batch's outcomes are folded when it ends, and meanwhile at least this often, so that a slow
# batch (a low pace) does not hide its sent messages from reports and receipts for long.
FOLD_EVERY = timedelta(seconds=1)


class _Writer(threading.local):
    """The journal's own PostgreSQL connection in this thread (psycopg2's asynchronous mode:
    execute() sends the statement and returns; poll() reads the answer). Kept between batches;
    the task that sends them closes it (close()), and a thread's own goes with the thread.
    One more PostgreSQL session per sending worker process; it holds a prepared statement, so
    it needs a direct connection or a pooler in session mode (not PgBouncer's transaction
    mode)."""

    def __init__(self):
        self.connection = None
        self.cursor = None  # psycopg2 needs it alive until the answer is read
        self.pending = False

    def _connect(self):
        import psycopg2
        import psycopg2.extensions

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        self.connection = psycopg2.connect(**params, async_=1)
        self.pending = False
        self._wait()
        self.cursor = self.connection.cursor()
        self.cursor.execute(f"{_SESSION}; {_PREPARE}")
        self._wait()

    def _wait(self):
        import psycopg2.extensions

        while True:
            state = self.connection.poll()
            if state == psycopg2.extensions.POLL_OK:
                return
            if state == psycopg2.extensions.POLL_READ:
                select.select([self.connection.fileno()], [], [])
            elif state == psycopg2.extensions.POLL_WRITE:
                select.select([], [self.connection.fileno()], [])

    def send(self, values, statement: str = _EXECUTE) -> None:
        """Write one statement (a record's INSERT unless told) to the server, after the
        answer to the previous one."""
        if self.connection is None or self.connection.closed:
            self._connect()
        self.flush()
        self.cursor.execute(statement, values)
        self.pending = True

    def flush(self) -> None:
        """Wait for the answer to the statement sent last (an error is raised here)."""
        if self.pending:
            self.pending = False
            try:
                self._wait()
            except Exception:
                self.close()
                raise

    def close(self) -> None:
        if self.connection is not None and not self.connection.closed:
            self.connection.close()
        self.connection = self.cursor = None
        self.pending = False

    def forget(self) -> None:
        """Leave a connection inherited from the parent process to the parent. It is kept
        referenced, never closed nor freed here: freeing it would tell the server, through the
        shared socket, to end the parent's session."""
        if self.connection is not None:
            _inherited.append((self.connection, self.cursor))
        self.connection = self.cursor = None
        self.pending = False


_writer = _Writer()
_inherited: list = []
# A connection made before a fork (Celery's prefork pool) belongs to the parent: the child
# (whose only thread is the one that forked) starts without one. Checked here once, not by
# comparing os.getpid() (a system call) at every message.
os.register_at_fork(after_in_child=_writer.forget)


def pipelined() -> bool:
    """Whether records go without waiting, on the journal's own connection (the engine asks
    once per batch and tells append())."""
    # Inside a caller's transaction the record belongs to that transaction: the caller's own
    # connection writes it, and waits.
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    return not _is_psycopg3()


@functools.cache
def _is_psycopg3() -> bool:
    # Imported once, not at each message (an import statement costs a few µs even when the
    # module is loaded); not at module level, as SQLite installs need no psycopg.
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3


def append(
    channel: Channel,
    pk: int,
    provider_id: str,
    extra: dict | None = None,
    *,
    without_waiting: bool | None = None,
) -> None:
    """Record that the provider accepted message `pk` of `channel`; fold() writes it into the
    message table. `without_waiting`: what pipelined() answered for this batch (asked here
    when not given)."""
    if extra and not extra.keys() <= set(channel.sent_columns):
        raise ValueError(f"{channel.name}: recorded_with_sent names columns not in sent_columns")
    if without_waiting is None:
        without_waiting = pipelined()
    if without_waiting:
        _writer.send([channel.name, pk, provider_id, json.dumps(extra or {})])
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} {_COLUMNS} VALUES (%s, %s, %s, %s, %s)",  # noqa: S608
            [channel.name, pk, timezone.now(), provider_id, json.dumps(extra or {})],
        )


def flush() -> None:
    """Wait until every record appended (and fold sent by fold_soon) by this thread is
    committed."""
    _writer.flush()


def close() -> None:
    """Close this thread's journal connection, once its last record is committed."""
    try:
        _writer.flush()
    finally:
        _writer.close()


def fold_soon(channel: Channel, ids) -> None:
    """fold(), without waiting for it where records go without waiting (pipelined()): the
    statement goes on the journal's own connection, and PostgreSQL moves a batch's outcomes
    while the worker claims and loads its next batch (waiting for it cost a batch of 500 SMS
    15 ms). Its answer is read before the next record, or by flush(); a worker killed
    meanwhile leaves it to run to its end, as a record. Elsewhere, fold()."""
    ids = list(ids)
    if not ids:
        return
    if not pipelined():
        fold(channel, ids)
        return
    _writer.send(_fold_parameters(channel, ids), statement=_fold_statement(channel))


def fold(channel: Channel, ids) -> int:
    """Write the journal's sent outcomes of messages `ids` into the channel's message table, in
    one transaction, and drop them from the journal. Conditional on the lease, like every record
    of the engine: a message put back in the queue meanwhile is not marked sent. Returns how
    many messages were."""
    ids = list(ids)
    if not ids:
        return 0
    flush()
    if connection.vendor == "postgresql":
        return _fold_in_database(channel, ids)
    Message = channel.message_model  # noqa: N806
    table = Message._meta.db_table
    journal = SentJournal.objects.filter(channel=channel.name, message_id__in=ids)
    folded = 0
    with transaction.atomic():
        entries = list(journal.values_list("message_id", "sent_at", "provider_id", "extra"))
        # Rows with the same channel columns go in one UPDATE … FROM (VALUES …).
        by_columns: dict[tuple[str, ...], list] = {}
        for message_id, sent_at, provider_id, extra in entries:
            names = tuple(sorted(extra))
            by_columns.setdefault(names, []).append(
                [message_id, sent_at, provider_id, *(extra[name] for name in names)]
            )
        for names, rows in by_columns.items():
            # Column names from the channel's model, never from input.
            fields = [Message._meta.get_field(name) for name in names]
            # VALUES columns are named column1, column2… by PostgreSQL and SQLite alike.
            extra_sets = "".join(
                f", {field.column} = CAST(v.column{index} AS {field.db_type(connection)})"
                for index, field in enumerate(fields, start=4)
            )
            row = "(" + ", ".join(["%s"] * (3 + len(names))) + ")"
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET status = %s, sent_at = v.column2, "  # noqa: S608
                    f"message_id = v.column3, error = ''{extra_sets} "
                    f"FROM (VALUES {', '.join([row] * len(rows))}) AS v "
                    f"WHERE {table}.id = v.column1 AND {table}.status = %s",
                    [
                        Message.Status.SENT,
                        *(value for values in rows for value in values),
                        Message.Status.SENDING,
                    ],
                )
                folded += cursor.rowcount
        if entries:
            journal._raw_delete(journal.db)
    return folded


@functools.cache
def _fold_statement(channel: Channel) -> str:
    Message = channel.message_model  # noqa: N806
    table = Message._meta.db_table
    # Column names from the channel's model, never from input; a key absent from a row's
    # extra leaves its column as it is.
    extra_sets = "".join(
        f", {field.column} = CASE WHEN moved.extra ? '{name}' "
        f"THEN CAST(moved.extra ->> '{name}' AS {field.db_type(connection)}) "
        f"ELSE {table}.{field.column} END"
        for name, field in ((n, Message._meta.get_field(n)) for n in channel.sent_columns)
    )
    return (
        f"WITH moved AS (DELETE FROM {_TABLE} WHERE channel = %s AND message_id = ANY(%s) "  # noqa: S608
        "RETURNING message_id, sent_at, provider_id, extra) "
        f"UPDATE {table} SET status = %s, sent_at = moved.sent_at, "
        f"message_id = moved.provider_id, error = ''{extra_sets} "
        f"FROM moved WHERE {table}.id = moved.message_id AND {table}.status = %s"
    )


def _fold_parameters(channel: Channel, ids: list[int]) -> list:
    Message = channel.message_model  # noqa: N806
    return [channel.name, ids, Message.Status.SENT, Message.Status.SENDING]


def _fold_in_database(channel: Channel, ids: list[int]) -> int:
    """The fold as one statement: the journal's rows move into the message table inside
    PostgreSQL (reading them into Python and sending them back cost a third of a batch's
    database time)."""
    outer = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if not outer:
            # As for the journal's rows: a crash of PostgreSQL may undo a fold (and the
            # journal's DELETE with it), never lose an outcome.
            cursor.execute(ASYNCHRONOUS_COMMIT.strip())
        cursor.execute(_fold_statement(channel), _fold_parameters(channel, ids))
        return cursor.rowcount


def fold_provider_id(channel: Channel, provider_id: str) -> int:
    """Fold the journal's entry of the message the provider calls `provider_id`, if there is
    one: a delivery receipt may come back before its batch is folded."""
    flush()
    ids = SentJournal.objects.filter(channel=channel.name, provider_id=provider_id).values_list(
        "message_id", flat=True
    )
    return fold(channel, ids)
