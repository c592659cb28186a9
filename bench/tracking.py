"""Tracking endpoints under load (issue goals: click redirect and open pixel ≥ 0.5 of a trivial
view's throughput on the same server, p99 < 50 ms at 50 connections).

gunicorn (4 sync workers) serves the project on loopback against PostgreSQL; wrk (Debian package
`wrk`) opens 50 connections. In the same run: the trivial view (`/robots.txt`, through the whole
middleware stack), then click redirects and open pixels spread over 20,000 messages and 5 links,
then the ingest worker folding every recorded hit into events and counters.

    DATABASE_URL=postgres://... python -m bench.tracking [--seconds 15] [--connections 50]
"""

import argparse
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.data import delete_bench_account
from bench.import_contacts import setup_django

MESSAGES = 20_000
LINKS = 5
DESKTOP_OUTLOOK = (
    "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; Microsoft Outlook 16.0.5400; ms-office)"
)
WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local i = 0
function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  i = math.random(#paths)
end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {["User-Agent"] = os.getenv("WRK_UA")})
end
"""


def make_campaign():
    from django.db import connection
    from django.utils import timezone

    from accounts.services import account_create
    from campaigns.links import store_links
    from campaigns.models import EmailCampaign

    account = account_create(name=f"bench tracking {time.time()}")
    campaign = EmailCampaign.objects.create(
        account=account, name="bench", subject="bench", html="<p>bench</p>",
        status=EmailCampaign.Status.FINISHED, started_at=timezone.now(),
    )  # fmt: skip
    store_links(
        campaign.pk, tuple(f"https://shop.example.com/p/{i}?ref=mail" for i in range(LINKS))
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO campaigns_message (campaign_id, email, status, attempts, message_id, "
            "error, created_at, sent_at) SELECT %s, 'r' || n || '@example.com', 'sent', 1, '', "
            "'', now(), now() - interval '1 hour' FROM generate_series(1, %s) AS n",
            [campaign.pk, MESSAGES],
        )
        cursor.execute("ANALYZE campaigns_message")
    return account, campaign


def write_paths(campaign, directory: Path) -> dict[str, Path]:
    from django.urls import reverse

    from campaigns.models import Message
    from campaigns.tokens import click_token, open_token

    ids = list(Message.objects.filter(campaign=campaign).values_list("pk", flat=True))
    rng = random.Random(7)
    rng.shuffle(ids)
    files = {"trivial": ["/robots.txt"]}
    files["click"] = [
        reverse("tracking:click", args=[click_token(campaign.pk, pk, rng.randrange(LINKS))])
        for pk in ids
    ]
    files["open"] = [reverse("tracking:open", args=[open_token(campaign.pk, pk)]) for pk in ids]
    paths = {}
    for name, lines in files.items():
        paths[name] = directory / f"{name}.txt"
        paths[name].write_text("\n".join(lines) + "\n")
    return paths


def start_gunicorn(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CONN_MAX_AGE": "600",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "sendethic.wsgi", "--workers", "4",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--backlog", "2048"],
        env=env,
    )  # fmt: skip
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(port: int, paths: Path, seconds: int, connections: int, script: Path) -> dict:
    env = {**os.environ, "WRK_PATHS": str(paths), "WRK_UA": DESKTOP_OUTLOOK}
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": rps,
        "p50": _ms(*p50.groups()),
        "p99": _ms(*p99.groups()),
        "errors": int(errors.group(1)) if errors else 0,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args(argv)
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("skipped: this benchmark needs PostgreSQL (set DATABASE_URL)")
        return
    if shutil.which("wrk") is None:
        print("skipped: wrk is not installed (apt-get install wrk)")
        return
    from stats.models import TrackingHit
    from stats.services.ingest import ingest_pending

    TrackingHit.objects.all().delete()
    account, campaign = make_campaign()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = start_gunicorn(port)
    directory = Path(tempfile.mkdtemp(prefix="bench-tracking-"))
    try:
        script = directory / "paths.lua"
        script.write_text(WRK_SCRIPT)
        paths = write_paths(campaign, directory)
        results = {}
        for name in ("trivial", "click", "open"):
            run_wrk(port, paths[name], 3, args.connections, script)  # warm-up
            results[name] = run_wrk(port, paths[name], args.seconds, args.connections, script)
        hits = TrackingHit.objects.count()
        started = time.perf_counter()
        ingested = ingest_pending(max_batches=10_000)
        ingest_seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(directory, ignore_errors=True)
        TrackingHit.objects.all().delete()
        delete_bench_account(account)

    baseline = results["trivial"]["rps"]
    print(f"tracking endpoints, gunicorn 4 workers, wrk {args.connections} connections, "
          f"{args.seconds} s each, PostgreSQL")  # fmt: skip
    print(f"{'endpoint':<22}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}{'errors':>8}")
    labels = {"trivial": "trivial (/robots.txt)", "click": "click redirect", "open": "open pixel"}
    for name, figures in results.items():
        print(
            f"{labels[name]:<22}{figures['rps']:>10.0f}{figures['p50']:>9.1f}"
            f"{figures['p99']:>9.1f}{figures['rps'] / baseline:>8.2f}{figures['errors']:>8}"
        )
    print(
        f"ingest: {ingested} hits of {hits} folded into events and counters in "
        f"{ingest_seconds:.1f} s ({ingested / max(ingest_seconds, 1e-9):.0f} hits/s)"
    )
    for name in ("click", "open"):
        ok = results[name]["rps"] >= 0.5 * baseline and results[name]["p99"] < 50
        print(f"goal {name}: ratio >= 0.5 and p99 < 50 ms: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
