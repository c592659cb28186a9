from django.dispatch import Signal

from accounts.domain_events import send_on_commit


def test_a_signal_nobody_listens_to_costs_no_commit_callback(
    django_capture_on_commit_callbacks, db
):
    # given
    lonely = Signal()

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        send_on_commit(lonely, sender=object, value=1)

    # then
    assert callbacks == []


def test_a_listened_signal_is_sent_once_after_commit(django_capture_on_commit_callbacks, db):
    # given
    heard = []
    signal = Signal()

    def receiver(sender, **payload):
        heard.append(payload["value"])

    signal.connect(receiver, weak=False)

    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send_on_commit(signal, sender=object, value=7)
    before_commit = list(heard)
    for callback in callbacks:
        callback()

    # then
    assert before_commit == []
    assert heard == [7]
