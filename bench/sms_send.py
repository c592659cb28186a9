"""SMS send benchmark (issue 13's bar: ≥ 0.5 of a raw HTTP loop; worker peak RSS flat between
20k and 100k recipients, ±15 %, and < 200 MB).

A loopback server speaking Twilio's Messages API (sms.twilio_simulator, in its own process)
stands for the provider. In the same run:
- baseline: a raw loop of the same HTTP client (http.client, one keep-alive connection, the
  same Basic auth and form encoding) posting the campaign's payloads, rendered beforehand;
- the real thing: a personalised SMS campaign to N contacts, frozen then sent by the send engine
  with the SMS channel and the Twilio backend in a fresh worker process (one connection per
  batch, as in production), peak RSS read from the kernel.

The campaign is transactional: a marketing one is held by the legal hours (Mon–Sat 08:00–20:00),
so a run at night or on a Sunday would measure the deferral; `not_before` costs one comparison
per message inside the window (measured apart, printed as "legal hours check").

    DATABASE_URL=postgres://... python -m bench.sms_send [--recipients 20000 100000]
"""

import argparse
import base64
import http.client
import io
import json
import multiprocessing
import time
from urllib.parse import urlencode

from bench.data import delete_bench_account, peak_rss_mb
from bench.import_contacts import setup_django

AUTH_TOKEN = "bench-auth-token"
TEXT = "{{ first_name }}, -20% sur tout le magasin ce week-end avec le code {{ fields.code }}."


def _serve_simulator(ready) -> None:
    from sms.twilio_simulator import TwilioSimulator

    simulator = TwilioSimulator(auth_token=AUTH_TOKEN, keep=False)
    ready.put((simulator.url, simulator.account_sid))
    simulator.server.serve_forever()


def start_simulator():
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    process = context.Process(target=_serve_simulator, args=(ready,), daemon=True)
    process.start()
    url, account_sid = ready.get(timeout=30)
    return process, url, account_sid


def mobile_of(index: int) -> str:
    # Mainland French mobiles (+33 6 / +33 7), none in the simulator's error prefixes.
    return f"+336{10_000_000 + index:08d}"


def make_audience(account, count: int):
    from django.db import connection

    from bench.data import COLUMNS, add_all_to_list
    from contacts.models import Contact, ContactList
    from contacts.services.fields import field_create
    from contacts.typed_values import TYPED_COLUMNS, TypedLayout

    field_create(account=account, key="code", label="Code", type="text")
    contact_list = ContactList.objects.create(account=account, name=f"bench sms {count}")
    layout = TypedLayout.for_account(account.pk)
    as_sql = {column: Contact._meta.get_field(column).get_db_prep_value for column in TYPED_COLUMNS}
    buffer = io.StringIO()
    for index in range(count):
        mobile = mobile_of(index)
        fields = {"code": f"VIP{index % 9973}"}
        typed = "\t".join(
            as_sql[column](values, connection) for column, values in layout.arrays(fields).items()
        )
        buffer.write(
            f"{account.pk}\t{mobile}\t\t{mobile}\t\tPrénom{index % 977}\t\t\\N\t\t\t\t\t"
            f"{json.dumps(fields)}\t{typed}\tnone\tsubscribed\t2026-11-01\t2026-11-01\n"
        )
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY contacts_contact ({COLUMNS}) FROM STDIN", buffer)
    add_all_to_list(account, contact_list)
    return contact_list


def make_campaign(account, contact_list):
    from sms.models import SmsCampaign, SmsSender

    sender = SmsSender.objects.create(account=account, value="Boutique")
    campaign = SmsCampaign.objects.create(
        account=account,
        name="bench",
        kind=SmsCampaign.Kind.TRANSACTIONAL,
        sender=sender,
        text=TEXT,
    )
    campaign.lists.set([contact_list])
    return campaign


def _worker(campaign_id: int, url: str, account_sid: str, results, profile: bool = False) -> None:
    import os

    os.environ["SMS_BACKEND"] = "sms.backends.twilio.SmsBackend"
    os.environ["TWILIO_API_URL"] = url
    os.environ["TWILIO_ACCOUNT_SID"] = account_sid
    os.environ["TWILIO_AUTH_TOKEN"] = AUTH_TOKEN
    os.environ["SMS_SEND_RATE_PER_ACCOUNT"] = "1000000"  # measure the pipeline, not the pace
    os.environ["DEBUG"] = "false"  # as a production worker: no query log
    setup_django()
    from campaigns.engine.sending import send_batch
    from sms.backends import get_backend
    from sms.channel import SMS

    # What a worker does once in its life, not per message: import the backend's modules and
    # load the URL resolver (its status callback URL).
    get_backend()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    cpu_started = time.process_time()
    sent = 0
    rss_at = {}
    while True:
        claimed = send_batch(SMS, campaign_id, fold_in_background=True)  # as send_campaign_task
        if not claimed:
            break
        sent += claimed
        if sent % 20_000 == 0:
            rss_at[sent] = peak_rss_mb()
    if profiler:
        import pstats

        profiler.disable()
        if os.environ.get("BENCH_PROFILE_OUT"):  # for pstats' callers/callees, or snakeviz
            profiler.dump_stats(os.environ["BENCH_PROFILE_OUT"])
        pstats.Stats(profiler).sort_stats(
            os.environ.get("BENCH_PROFILE_SORT", "cumulative")
        ).print_stats(30)
    results.put(
        {
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu_started,
            "sent": sent,
            "peak_rss_mb": peak_rss_mb(),
            "rss_at": rss_at,
        }
    )


def payloads(campaign, count: int) -> list[tuple[str, str]]:
    """What the pipeline posts for the first `count` recipients (form body), rendered through
    the channel so the baseline sends the very same bytes (the status callback URL included,
    as the Twilio backend asks for one by default)."""
    from django.conf import settings
    from django.urls import reverse

    from sms.channel import SMS
    from sms.models import SmsMessage

    prepared = SMS.prepare(campaign)
    callback = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("sms_hooks:twilio_status")
    forms = []
    messages = SmsMessage.objects.filter(campaign=campaign).select_related("contact")[:count]
    for message in messages:
        rendered = SMS.render(prepared, message)
        form = {"To": rendered.mobile, "Body": rendered.text, "From": prepared.sender}
        forms.append(urlencode({**form, "StatusCallback": callback}))
    return forms


def raw_http_loop(url: str, account_sid: str, forms: list[str]) -> tuple[float, float]:
    """Messages a second, and this process's CPU time a message (µs)."""
    host, port = url.removeprefix("http://").split(":")
    credentials = base64.b64encode(f"{account_sid}:{AUTH_TOKEN}".encode()).decode()
    headers = {
        "Authorization": f"Basic {credentials}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }
    path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    started = time.perf_counter()
    cpu_started = time.process_time()
    for form in forms:
        connection.request("POST", path, form, headers)
        response = connection.getresponse()
        response.read()
        if response.status != 201:
            raise RuntimeError(f"the simulator answered {response.status}")
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    connection.close()
    return len(forms) / elapsed, cpu / len(forms) * 1e6


def legal_hours_check_rate(count: int = 20_000) -> float:
    """Per-message cost of the marketing window check (`not_before`), alone."""
    from datetime import UTC, datetime

    from sms import quiet_hours

    inside = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)  # a Wednesday, 11:00 in Paris
    started = time.perf_counter()
    for index in range(count):
        quiet_hours.next_allowed(inside, quiet_hours.region_of(mobile_of(index)))
    return count / (time.perf_counter() - started)


def _result_of(process, queue) -> dict:
    """The worker's result; an error if it died without one (its traceback is on stderr)."""
    import queue as queues

    while True:
        try:
            return queue.get(timeout=5)
        except queues.Empty:
            if not process.is_alive():
                raise RuntimeError(f"the worker died (exit code {process.exitcode})") from None


def run_send(recipients: int, url: str, account_sid: str, profile: bool = False) -> dict:
    from django.db import connection

    from accounts.services import account_create
    from campaigns.engine.lifecycle import campaign_start

    account = account_create(name=f"bench sms {time.time()}")
    contact_list = make_audience(account, recipients)
    campaign = make_campaign(account, contact_list)
    started = time.perf_counter()
    frozen = campaign_start(campaign=campaign)
    freeze_seconds = time.perf_counter() - started
    # The baseline runs before and after the pipeline (at most 20,000 messages each) and the two
    # are averaged, so a change of load on the machine during the run does not tilt the ratio.
    forms = payloads(campaign, min(recipients, 20_000))
    before, raw_cpu = raw_http_loop(url, account_sid, forms)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_worker, args=(campaign.pk, url, account_sid, queue, profile))
    process.start()
    outcome = _result_of(process, queue)
    process.join()
    after, _cpu = raw_http_loop(url, account_sid, forms)
    baseline_rate = (before + after) / 2
    rate = outcome["sent"] / outcome["seconds"]
    from sms.models import SmsMessage

    sent = SmsMessage.objects.filter(campaign=campaign, status="sent").count()
    rss_steps = ", ".join(
        f"{n // 1000}k {mb:.0f} MB" for n, mb in sorted(outcome["rss_at"].items())
    )
    print(
        f"{recipients:,} SMS: freeze {freeze_seconds:.2f} s ({frozen:,} messages, {sent:,} sent) | "
        f"raw HTTP loop {baseline_rate:,.0f} msg/s (before {before:,.0f}, after {after:,.0f}; "
        f"CPU {raw_cpu:.0f} µs a message) | "
        f"pipeline {rate:,.0f} msg/s (worker CPU {outcome['cpu_seconds'] / max(1, sent) * 1e6:.0f} µs "
        f"a message) | ratio {rate / baseline_rate:.2f} | "
        f"worker peak RSS {outcome['peak_rss_mb']:.0f} MB ({rss_steps})",
        flush=True,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM sms_smsmessage WHERE campaign_id IN "
            "(SELECT id FROM sms_smscampaign WHERE account_id = %s)",
            [account.pk],
        )
    delete_bench_account(account)
    return {"ratio": rate / baseline_rate, "peak_rss_mb": outcome["peak_rss_mb"]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, nargs="*", default=[20_000, 100_000])
    parser.add_argument("--profile", action="store_true", help="cProfile the worker")
    args = parser.parse_args(argv)
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("skipped: this benchmark needs PostgreSQL (set DATABASE_URL)")
        return
    print(f"legal hours check: {legal_hours_check_rate():,.0f} checks/s", flush=True)
    simulator, url, account_sid = start_simulator()
    try:
        results = {n: run_send(n, url, account_sid, args.profile) for n in args.recipients}
    finally:
        simulator.terminate()
        simulator.join(timeout=10)
    if len(results) > 1:
        peaks = [r["peak_rss_mb"] for r in results.values()]
        print(
            f"worker peak RSS from {min(args.recipients):,} to {max(args.recipients):,} SMS: "
            f"{peaks[0]:.0f} → {peaks[-1]:.0f} MB ({(peaks[-1] / peaks[0] - 1) * 100:+.1f} %)",
            flush=True,
        )


if __name__ == "__main__":
    main()
