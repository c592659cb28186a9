"""Prints every SMS on standard output (a developer's terminal, `manage.py runserver`)."""

import itertools
import sys

from campaigns.engine.channel import Sent

_ids = itertools.count(1)


class SmsBackend:
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def open(self) -> None:
        pass

    def close(self) -> None:
        self.stream.flush()

    def send(self, sms) -> Sent:
        self.stream.write(
            f"SMS from {sms.sender or '-'} to {sms.mobile} "
            f"({sms.encoding}, {sms.segments} segment(s)):\n{sms.text}\n{'-' * 40}\n"
        )
        return Sent(f"console-{next(_ids)}")
