import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _public_base_url(**env) -> str:
    environment = {k: v for k, v in os.environ.items() if k not in {"PUBLIC_BASE_URL", "WEB_PORT"}}
    environment.update(env, DJANGO_SETTINGS_MODULE="sendethic.settings")
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.PUBLIC_BASE_URL)"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_links_follow_the_port_make_run_serves_on():
    assert _public_base_url(WEB_PORT="8201") == "http://127.0.0.1:8201"


def test_the_default_port_is_8000():
    assert _public_base_url() == "http://127.0.0.1:8000"


def test_an_explicit_public_url_wins():
    assert (
        _public_base_url(WEB_PORT="8201", PUBLIC_BASE_URL="https://mail.example.com/")
        == "https://mail.example.com"
    )
