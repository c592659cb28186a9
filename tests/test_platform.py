import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from sendethic.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def test_openapi_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
    schema = (tmp_path / "schema.yaml").read_text()
    assert "/api/v1/api-keys/" in schema and "bearerAuth" in schema


def test_schema_and_docs_are_served(client, db):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
    assert client.get("/api/redoc/").status_code == 200


def test_deploy_check_is_clean_with_production_settings():
    env = {
        **os.environ,
        "SENDETHIC_ENV": "production",
        "SECRET_KEY": "k" * 20 + "a-long-random-production-secret-0123456789",
        "ALLOWED_HOSTS": "mail.example.com",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests of this run only
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {**os.environ, "SENDETHIC_ENV": "production", "ALLOWED_HOSTS": "x"}
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_health_checks_database_and_broker(client, db):
    response = client.get("/health/", HTTP_HOST="not-an-allowed-host.example")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_health_reports_an_unreachable_broker(client):
    original = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:9/0"  # the discard port: nothing listens
    try:
        response = client.get("/health/")
    finally:
        celery_app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json()["broker"] == "error"


def test_translations_are_compiled_from_the_catalogs():
    """The committed .mo files must match the .po sources (they are compiled with polib)."""
    import polib

    for po_path in ROOT.glob("locale/*/LC_MESSAGES/django.po"):
        po = polib.pofile(str(po_path))
        mo = polib.mofile(str(po_path.with_suffix(".mo")))
        expected = {
            (e.msgctxt, e.msgid): e.msgstr for e in po.translated_entries() if not e.msgid_plural
        }
        compiled = {(e.msgctxt, e.msgid): e.msgstr for e in mo if e.msgid and not e.msgid_plural}
        assert compiled == expected, f"{po_path}: run `make messages`"


def test_nul_bytes_in_urls_are_a_400_not_a_database_error(api_client):
    response = api_client.get("/api/v1/contacts/?q=a%00b")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert api_client.get("/api/v1/contacts/?email_status=nope").status_code == 400


def test_liveness_answers_without_database_and_robots_keep_crawlers_out(client):
    live = client.get("/health/live/", HTTP_HOST="not-an-allowed-host.example")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    robots = client.get("/robots.txt")
    assert robots.status_code == 200 and "Disallow: /t/" in robots.content.decode()


def test_every_app_container_reads_the_operators_env_file_and_shares_the_media_volume():
    """The README's Production table is set in .env: with `environment:` alone, compose would
    only substitute the variables it names, and SMS_BACKEND, EMAIL_BACKEND, ANYMAIL… would never
    reach the containers. Editor images without S3 must outlive a container and be seen by both
    the web (upload) and the worker."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    app_services = {
        name: service
        for name, service in compose["services"].items()
        if service.get("image") == "sendethic:latest"
    }
    assert {"migrate", "web", "worker", "beat", "smpp-receiver"} <= set(app_services)
    for name, service in app_services.items():
        assert service["env_file"] == ".env", name
        assert "media-data:/var/lib/sendethic/media" in service["volumes"], name
    assert "media-data" in compose["volumes"]
    assert "mkdir -p /var/lib/sendethic/media" in (ROOT / "Dockerfile").read_text()
