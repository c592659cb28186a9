import os
import shutil

import pytest
from rest_framework.test import APIClient

from tests.factories import AccountFactory, MembershipFactory, make_api_key

PASSWORD = "correct horse battery staple"
CHROMIUM = "/usr/bin/chromium"


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

    original = app.conf.broker_url
    if not os.environ.get("REDIS_URL"):
        app.conf.broker_url = "memory://"
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=30
        ) as worker:
            yield worker
    finally:
        app.conf.broker_url = original


@pytest.fixture
def logged_in_page(page, live_server, owner):
    page.goto("/login/")
    page.locator("main").get_by_label("Adresse e-mail").fill(owner.email)
    page.locator("main").get_by_label("Mot de passe").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Connexion").click()
    page.wait_for_url(f"{live_server.url}/")
    return page
