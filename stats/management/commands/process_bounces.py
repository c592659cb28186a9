"""Read the mailbox settings.BOUNCE_ADDRESS delivers to and record the bounces and complaints in
it (DESIGN §6). Meant to run from cron; running it again over the same messages records nothing
new, so a mailbox that is never emptied is harmless, only slower."""

import logging
import mailbox
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from stats.bounces import Outcome, bounce_report_apply, parse_report

logger = logging.getLogger(__name__)

SUMMARY = [
    (Outcome.HARD, "hard bounces"),
    (Outcome.SOFT, "soft bounces"),
    (Outcome.COMPLAINT, "complaints"),
    (Outcome.UNMATCHED, "unmatched"),
    (Outcome.IGNORED, "ignored"),
    (Outcome.DUPLICATE, "already recorded"),
]


class Command(BaseCommand):
    help = (
        "Record the bounces (RFC 3464 DSNs and free-text failure notices) and complaints "
        "(RFC 5965 feedback reports) found in mbox files or Maildirs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--mbox", action="append", default=[], metavar="PATH", help="an mbox file (repeatable)"
        )
        parser.add_argument(
            "--maildir", action="append", default=[], metavar="PATH", help="a Maildir (repeatable)"
        )
        parser.add_argument(
            "--delete",
            action="store_true",
            help=(
                "remove each message from its Maildir once processed (mbox files are only read: "
                "rewriting one safely needs the MTA's own locking)"
            ),
        )

    def handle(self, *args, mbox, maildir, delete, verbosity, **options):
        # call_command(mbox="path") passes a string where the command line builds a list.
        mboxes = [mbox] if isinstance(mbox, str) else list(mbox)
        maildirs = [maildir] if isinstance(maildir, str) else list(maildir)
        if not mboxes and not maildirs:
            raise CommandError("Give at least one --mbox or --maildir.")
        total = Counter()
        sources = [(path, "mbox") for path in mboxes] + [(path, "maildir") for path in maildirs]
        for path, kind in sources:
            try:
                box = (
                    mailbox.mbox(path, create=False)
                    if kind == "mbox"
                    else mailbox.Maildir(path, factory=None, create=False)
                )
            except (mailbox.NoSuchMailboxError, OSError) as error:
                raise CommandError(f"Cannot open {kind} {path}: {error}") from error
            counts = self._process(box, delete=delete and kind == "maildir", verbosity=verbosity)
            self.stdout.write(f"{path}: {self._summary(counts)}")
            total.update(counts)
        if len(sources) > 1:
            self.stdout.write(f"total: {self._summary(total)}")
        if total["error"]:
            raise CommandError(f"{total['error']} message(s) could not be processed (see the log).")

    def _process(self, box: mailbox.Mailbox, *, delete: bool, verbosity: int) -> Counter:
        counts = Counter()
        for key in list(box.keys()):
            try:
                report = parse_report(box.get_bytes(key))
                outcome = bounce_report_apply(report=report)
            except Exception:
                # One unreadable message must not hold back the rest of the mailbox; it is kept
                # for a person to look at.
                logger.exception("bounce message %s could not be processed", key)
                counts["error"] += 1
                continue
            counts[outcome] += 1
            if verbosity >= 2:
                self.stdout.write(f"  {key}: {outcome} {report.status} {report.diagnostic[:80]}")
            if delete:
                box.discard(key)
        return counts

    @staticmethod
    def _summary(counts: Counter) -> str:
        parts = [f"{label} {counts[outcome]}" for outcome, label in SUMMARY]
        if counts["error"]:
            parts.append(f"errors {counts['error']}")
        return ", ".join(parts)
