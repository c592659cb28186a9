"""The client's address behind trusted reverse proxies (sendethic/proxies.py)."""

import re

import pytest
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from werkzeug.test import Client

from sendethic.proxies import behind_trusted_proxies
from stats.tracking import TrackingApplication
from tests.factories import UserFactory


def _seen_address(application, headers, remote_addr="10.0.0.5"):
    seen = {}

    def capture(environ, start_response):
        seen["address"] = environ["REMOTE_ADDR"]
        start_response("204 No Content", [])
        return [b""]

    Client(application(capture)).get(
        "/", headers=headers, environ_base={"REMOTE_ADDR": remote_addr}
    )
    return seen["address"]


@pytest.mark.parametrize(
    ("count", "forwarded_for", "expected"),
    [
        (0, "6.6.6.6", "10.0.0.5"),  # no trusted proxy: the header is anybody's words
        (1, "81.2.3.4", "81.2.3.4"),  # one proxy appended what it saw
        (1, "6.6.6.6, 81.2.3.4", "81.2.3.4"),  # the client's own header is not believed
        (2, "6.6.6.6, 81.2.3.4, 10.0.0.7", "81.2.3.4"),  # a CDN, then the TLS proxy
        (1, None, "10.0.0.5"),  # a request that did not come through the proxy
    ],
)
def test_the_client_is_the_address_the_trusted_proxies_saw(count, forwarded_for, expected):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    wrap = lambda app: behind_trusted_proxies(app, count)  # noqa: E731
    assert _seen_address(wrap, headers) == expected


@pytest.mark.django_db(
    transaction=True
)  # the WSGI handler closes the connection after each request
def test_failed_logins_behind_the_proxy_count_against_the_client_not_the_proxy(settings):
    """Through the whole WSGI stack: two clients behind one proxy are throttled apart."""
    settings.AXES_ENABLED = False  # this test is about the hourly limits keyed on the address
    cache.clear()
    UserFactory(email="owner@example.com")
    application = behind_trusted_proxies(TrackingApplication(get_wsgi_application()), 1)
    for client_address in ("81.2.3.4", "81.2.3.4", "92.1.1.1"):
        browser = Client(application)
        environ = {"REMOTE_ADDR": "10.0.0.5", "HTTP_HOST": "127.0.0.1"}
        headers = {"X-Forwarded-For": client_address}
        page = browser.get("/login/", headers=headers, environ_base=environ)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = browser.post(
            "/login/",
            data={
                "username": "owner@example.com",
                "password": "wrong",
                "csrfmiddlewaretoken": token,
            },
            headers={**headers, "Referer": "http://127.0.0.1/login/"},
            environ_base=environ,
        )
        assert answer.status_code == 200  # the form again, with its error
    assert cache.get("login-fail-ip:81.2.3.4") == 2
    assert cache.get("login-fail-ip:92.1.1.1") == 1
    assert cache.get("login-fail-ip:10.0.0.5") is None
