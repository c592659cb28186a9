import os
import shutil
import socket

import pytest
from rest_framework.test import APIClient

from tests.factories import AccountFactory, MembershipFactory, make_api_key

PASSWORD = "correct horse battery staple"


def pytest_configure(config):
    # The live test server writes a response's headers and body in two sends; with Nagle's
    # algorithm on, the body waits for the client's delayed ACK (~40 ms on Linux) on every
    # keep-alive request. The schemathesis run makes tens of thousands of requests: that wait
    # was most of its time. Production servers (gunicorn) set TCP_NODELAY themselves.
    from django.core.servers.basehttp import WSGIRequestHandler

    WSGIRequestHandler.disable_nagle_algorithm = True


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _forget_cached_link_targets():
    # Rolled-back test transactions hand out the same campaign ids again; production never does.
    from stats.tracking import link_target

    link_target.cache_clear()


@pytest.fixture(autouse=True)
def _no_demo_shop_from_the_environment(monkeypatch):
    # `manage.py demo` connects the demo shop when DEMO_SHOP_PORT is set (`make run` sets it);
    # a shell that ran the platform must not change what the demo's tests see.
    monkeypatch.delenv("DEMO_SHOP_PORT", raising=False)


@pytest.fixture(autouse=True)
def _close_the_send_journal():
    # The send engine keeps a connection of its own for its sent journal (campaigns.engine.
    # journal) from batch to batch, as a worker does; the test database cannot be dropped while
    # it is open.
    yield
    from campaigns.engine import journal

    journal.close()


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    # Signup and link-resend attempts are counted in the cache (accounts.throttle), which
    # outlives a test's rolled-back transaction (and, on Redis, the test run).
    from django.core.cache import cache

    from automations import selectors as automations_selectors

    cache.clear()
    # The automations' in-process memo of each account's active triggers, as well.
    automations_selectors._recently_read.clear()


@pytest.fixture
def account(db):
    return AccountFactory()


@pytest.fixture
def owner(account):
    return MembershipFactory(account=account).user


@pytest.fixture
def api_key(account):
    """(ApiKey, plaintext) of a live key of `account`."""
    return make_api_key(account)


@pytest.fixture
def api_client(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key[1]}")
    return client


@pytest.fixture
def logged_in_client(client, owner):
    client.force_login(owner)
    return client


requires_postgres = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").split(":")[0] not in {"postgres", "postgresql", "pgsql"},
    reason="needs PostgreSQL (set DATABASE_URL); CI runs it",
)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (no downloaded browser)."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def celery_worker(settings):
    """A real Celery worker (solo pool, in a thread) consuming from a real broker: Redis when
    REDIS_URL is set (CI), else kombu's in-memory transport shared with the web thread."""
    from celery.contrib.testing.worker import start_worker

    from sendethic.celery import app

    def use_broker(url):
        # The app caches its connection and producer pools: tasks sent by earlier tests made
        # them for the previous broker, where the web thread would go on publishing.
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    original = app.conf.broker_url
    if not os.environ.get("REDIS_URL"):
        use_broker("memory://")
    try:
        with start_worker(
            app,
            pool="solo",
            perform_ping_check=False,
            shutdown_timeout=30,
            queues=["default", "email", "sms", "sync"],  # one worker for every kind of task
        ) as worker:
            yield worker
    finally:
        use_broker(original)


@pytest.fixture
def logged_in_page(page, live_server, owner):
    page.goto("/login/")
    page.locator("main").get_by_label("Adresse e-mail").fill(owner.email)
    page.locator("main").get_by_label("Mot de passe").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Connexion").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


class RecordingHandler:
    """An SMTP server's delivery handler: keeps every message; some addresses are refused the
    way real servers do (5xx: unknown user, 4xx: try again later)."""

    def __init__(self):
        self.messages = []
        self.raw = []  # the bytes as received, for signature checks

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("bounce"):
            return "550 5.1.1 No such user"
        if address.startswith("later"):
            return "451 4.7.1 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        import email
        from email import policy

        self.raw.append(envelope.original_content or envelope.content)
        self.messages.append(
            (envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on loopback; Django's SMTP backend delivers to it."""
    from aiosmtpd.controller import Controller

    handler = RecordingHandler()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "campaigns.backends.DkimSigningSmtpBackend"  # as in production
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    try:
        yield handler
    finally:
        controller.stop()
