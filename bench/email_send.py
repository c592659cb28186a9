"""Email send benchmark (issue goals: ≥ 0.5 of a raw smtplib loop; worker RSS flat and < 200 MB;
freezing a 1,000,000-contact audience < 30 s).

An SMTP sink (aiosmtpd, its own process) listens on loopback. In the same run:
- baseline: a raw smtplib loop sending one pre-built message N times over one connection;
- the real thing: a personalised gallery campaign to N contacts, frozen then sent by the send
  pipeline in a fresh worker process (one connection per batch), peak RSS read from the kernel;
- the freeze alone (`INSERT … SELECT` of the audience) for --freeze contacts.

    DATABASE_URL=postgres://... python -m bench.email_send [--recipients 20000] [--freeze 1000000]
"""

import argparse
import multiprocessing
import smtplib
import socket
import subprocess
import sys
import time

from bench.data import add_all_to_list, copy_contacts, delete_bench_account, peak_rss_mb
from bench.import_contacts import setup_django


def start_sink() -> tuple[subprocess.Popen, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return sink, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the SMTP sink did not start")


def make_audience(account, count: int):
    from contacts.models import ContactList

    contact_list = ContactList.objects.create(account=account, name=f"bench {count}")
    copy_contacts(
        account,
        (
            {
                "email": f"client{index}@example.com",
                "first_name": f"Prénom{index % 977}",
                "fields": {"points": index % 500},
            }
            for index in range(count)
        ),
    )
    add_all_to_list(account, contact_list)
    return contact_list


def make_campaign(account, contact_list):
    from django.utils import timezone

    from campaigns.gallery import render_mjml, template_source
    from campaigns.models import SenderAddress
    from campaigns.services import campaign_create
    from contacts.services.fields import field_create

    field_create(account=account, key="points", label="Points", type="number")
    sender = SenderAddress.objects.create(
        account=account, email="news@boutique.fr", name="Boutique", verified_at=timezone.now()
    )
    return campaign_create(
        account=account,
        data={
            "name": "bench",
            "subject": "{{ first_name }}, vos {{ fields.points }} points vous attendent",
            "preheader": "Offre personnelle",
            "sender": sender,
            "html": render_mjml(template_source("commerce-promotion")),
            "lists": [contact_list],
        },
    )


def _worker(campaign_id: int, port: int, results) -> None:
    import os

    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
    os.environ["EMAIL_SEND_RATE_PER_ACCOUNT"] = "1000000"  # measure the pipeline, not the pace
    os.environ["DEBUG"] = "false"  # as a production worker: no query log
    setup_django()
    from campaigns.pipeline import send_batch

    started = time.perf_counter()
    sent = 0
    while True:
        claimed = send_batch(campaign_id)
        if not claimed:
            break
        sent += claimed
    results.put(
        {
            "seconds": time.perf_counter() - started,
            "sent": sent,
            "peak_rss_mb": peak_rss_mb(),
        }
    )


def smtplib_baseline(port: int, message: bytes, count: int) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for index in range(count):
            smtp.sendmail("news@boutique.fr", [f"client{index}@example.com"], message)
    return count / (time.perf_counter() - started)


def run_send(recipients: int, port: int) -> None:
    from accounts.services import account_create
    from campaigns import merge_tags, rendering
    from campaigns.models import Message
    from campaigns.pipeline import campaign_start
    from contacts.models import Contact

    account = account_create(name=f"bench email {time.time()}")
    account.postal_address = "1 rue de la Paix, 75002 Paris"
    account.save()
    contact_list = make_audience(account, recipients)
    campaign = make_campaign(account, contact_list)
    started = time.perf_counter()
    frozen = campaign_start(campaign=campaign)
    freeze_seconds = time.perf_counter() - started
    # the baseline sends a message exactly like the campaign's, built once
    sample = Contact.objects.filter(account=account).first()
    prepared = rendering.prepare(campaign)
    built = rendering.build_email(
        prepared,
        Message(pk=1, campaign=campaign, email=sample.email),
        merge_tags.contact_values(sample, account),
        preheader=campaign.preheader,
    )
    raw = built.message().as_bytes(linesep="\r\n")
    # The baseline runs before and after the pipeline (at most 20,000 messages each) and the two
    # are averaged, so a change of load on the machine during the run does not tilt the ratio.
    baseline_count = min(recipients, 20_000)
    before = smtplib_baseline(port, raw, baseline_count)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_worker, args=(campaign.pk, port, queue))
    process.start()
    outcome = queue.get()
    process.join()
    after = smtplib_baseline(port, raw, baseline_count)
    baseline_rate = (before + after) / 2
    rate = outcome["sent"] / outcome["seconds"]
    print(
        f"{recipients:,} recipients ({len(raw):,} bytes each): freeze {freeze_seconds:.2f} s "
        f"({frozen:,} messages) | smtplib loop {baseline_rate:,.0f} msg/s (before {before:,.0f}, "
        f"after {after:,.0f}) | pipeline {rate:,.0f} msg/s | ratio {rate / baseline_rate:.2f} | "
        f"worker peak RSS {outcome['peak_rss_mb']:.0f} MB",
        flush=True,
    )
    delete_bench_account(account)


def run_freeze(count: int) -> None:
    from accounts.services import account_create
    from campaigns.pipeline import campaign_start

    account = account_create(name=f"bench freeze {time.time()}")
    started = time.perf_counter()
    contact_list = make_audience(account, count)
    print(f"generated {count:,} contacts in {time.perf_counter() - started:.1f} s", flush=True)
    campaign = make_campaign(account, contact_list)
    started = time.perf_counter()
    frozen = campaign_start(campaign=campaign)
    print(
        f"freeze of a {count:,}-contact audience: {time.perf_counter() - started:.1f} s "
        f"({frozen:,} messages)",
        flush=True,
    )
    delete_bench_account(account)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, nargs="*", default=[20_000])
    parser.add_argument("--freeze", type=int, default=0)
    args = parser.parse_args(argv)
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("skipped: this benchmark needs PostgreSQL (set DATABASE_URL)")
        return
    sink, port = start_sink()
    try:
        for recipients in args.recipients:
            run_send(recipients, port)
        if args.freeze:
            run_freeze(args.freeze)
    finally:
        sink.terminate()
        sink.wait(timeout=10)


if __name__ == "__main__":
    main()
