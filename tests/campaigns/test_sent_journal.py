"""The sent journal's records are sent to PostgreSQL without waiting for the answer (the
answer is read before the next record): a record written before the worker is SIGKILLed must
still be committed, or a kill would re-send two messages instead of the one in flight.

Real PostgreSQL and real processes: each child writes two records and kills itself at once,
the second record's answer never read.
"""

import os
import signal

import pytest

from campaigns.engine import journal, sending
from campaigns.engine.channel import channel_named
from campaigns.models import Message, SentJournal
from tests.campaigns.test_engine import ScriptedChannel, started_campaign
from tests.conftest import requires_postgres
from tests.worker_processes import wait_for

KILLS = 20


@pytest.fixture
def slow_fold(monkeypatch):
    """Every fold sleeps half a second in PostgreSQL before it moves the outcomes."""
    real_statement = journal._fold_statement
    monkeypatch.setattr(
        journal,
        "_fold_statement",
        lambda channel: "SELECT pg_sleep(0.5); " + real_statement(channel),
    )


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_record_written_just_before_a_sigkill_is_committed():
    channel = channel_named("email")
    for kill in range(KILLS):
        child = os.fork()
        if child == 0:  # the worker: its own journal connection (made after the fork)
            try:
                journal.append(channel, 2 * kill, f"first-{kill}", {})
                journal.append(channel, 2 * kill + 1, f"second-{kill}", {})
            finally:
                os.kill(os.getpid(), signal.SIGKILL)
        _pid, status = os.waitpid(child, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL

    # The last statements may still be running in their server processes: waited for, bounded.
    def recorded():
        return sorted(SentJournal.objects.values_list("message_id", flat=True))

    wait_for(lambda: len(recorded()) >= 2 * KILLS, 30, "every record")
    assert recorded() == list(range(2 * KILLS))


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_sent_outside_a_transaction_is_journaled_then_folded(account):
    # given: outside any transaction (as a worker's task) the records go through the journal's
    # own connection
    channel = ScriptedChannel()
    campaign = started_campaign(account, "a@example.com", "b@example.com", "c@example.com")
    # when
    assert sending.send_batch(channel, campaign.pk) == 3
    # then
    assert dict(Message.objects.values_list("email", "message_id")) == {
        "a@example.com": "provider-a@example.com",
        "b@example.com": "provider-b@example.com",
        "c@example.com": "provider-c@example.com",
    }
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    assert not SentJournal.objects.exists()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_forked_worker_opens_its_own_journal_connection_and_leaves_the_parents_alone():
    # given: the parent's journal connection is open
    channel = channel_named("email")
    journal.append(channel, 1, "parent-1", {})
    journal.flush()
    # when: a child forked now records a message and closes its journal
    child = os.fork()
    if child == 0:
        code = 1
        try:
            journal.append(channel, 2, "child-2", {})
            journal.close()
            code = 0
        finally:
            os._exit(code)
    _pid, status = os.waitpid(child, 0)
    # then: the child's record is there, and the parent's session still records
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    journal.append(channel, 3, "parent-3", {})
    journal.close()
    assert sorted(SentJournal.objects.values_list("message_id", flat=True)) == [1, 2, 3]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_batch_that_finds_nothing_left_waits_for_the_last_fold_and_finishes(account, slow_fold):
    # given: every message sent by one batch, its fold still running (made slow)
    channel = ScriptedChannel()
    campaign = started_campaign(account, "a@example.com", "b@example.com")
    assert sending.send_batch(channel, campaign.pk, fold_in_background=True) == 2
    # when: the next batch finds nothing to claim
    assert sending.send_batch(channel, campaign.pk) == 0
    # then: the fold is counted, the campaign is finished
    campaign.refresh_from_db()
    assert campaign.status == "finished"
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    journal.close()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_returns_with_its_outcomes_folded_unless_told_to_fold_in_background(
    account, slow_fold
):
    # given: a slow fold
    channel = ScriptedChannel()
    campaign = started_campaign(account, "a@example.com", "b@example.com")
    # when
    assert sending.send_batch(channel, campaign.pk) == 2
    # then: what the batch did is in the message table when it returns
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    journal.close()
