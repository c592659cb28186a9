import pytest

from campaigns.engine import lifecycle


@pytest.fixture
def enqueued():
    """The sends the engine enqueues, recorded instead of published: a test whose commit
    callbacks run must not leave tasks in the broker for a later test's worker."""
    sends = []
    previous = lifecycle._dispatch
    lifecycle.set_dispatcher(lambda channel, campaign_id: sends.append((channel, campaign_id)))
    yield sends
    lifecycle.set_dispatcher(previous)
