"""Keep a receiver session bound to the SMSC of the SMPP settings, for the delivery receipts
and replies that arrive while no batch is sending (run it beside the workers)."""

import signal
import threading

from django.core.management.base import BaseCommand

from sms.backends.smpp import Receiver


class Command(BaseCommand):
    help = "Bind a receiver to the SMSC and write its delivery receipts and inbound SMS."

    def handle(self, *args, **options):
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        Receiver(stop=stop).run()
