"""Keeps every SMS in `outbox` (a module list, like Django's mail.outbox), for tests."""

import itertools

from campaigns.engine.channel import Sent

outbox: list = []
_ids = itertools.count(1)


class SmsBackend:
    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, sms) -> Sent:
        outbox.append(sms)
        return Sent(f"locmem-{next(_ids)}")
