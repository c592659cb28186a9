"""The operator commands of the project package (sendethic/management/commands)."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from accounts.models import User
from apikeys.models import ApiKey

pytestmark = pytest.mark.django_db


def bearer(plaintext):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def test_createaccount_command_prints_a_working_key_last(capsys):
    call_command("createaccount", "Cave Martin", "--owner", "paul@example.com", "--api-key")
    lines = capsys.readouterr().out.strip().splitlines()
    plaintext = lines[-1]
    assert plaintext.startswith("se_live_")
    assert User.objects.filter(email="paul@example.com").exists()
    assert bearer(plaintext).get("/api/v1/account/").json()["name"] == "Cave Martin"


def test_createaccount_refuses_a_taken_email(owner):
    with pytest.raises(CommandError, match="already exists"):
        call_command("createaccount", "Dup", "--owner", owner.email)


def test_demo_prints_a_live_key_that_works(settings, tmp_path, capsys):
    # given
    settings.VAR_DIR = tmp_path
    # when
    call_command("demo")
    # then
    out = capsys.readouterr().out
    plaintext = out.split("API key:")[1].split()[0]
    assert plaintext.startswith("se_live_")
    assert bearer(plaintext).get("/api/v1/account/").json()["name"] == "Démo Sendethic"
    login, password = (tmp_path / "demo-credentials.txt").read_text().split()
    assert f"Log in:   {login} / {password}" in out


def test_demo_run_again_replaces_its_key_and_keeps_the_login(settings, tmp_path, capsys):
    # given
    settings.VAR_DIR = tmp_path
    call_command("demo")
    first = capsys.readouterr().out.split("API key:")[1].split()[0]
    # when
    call_command("demo")
    # then
    second = capsys.readouterr().out.split("API key:")[1].split()[0]
    assert second != first
    assert bearer(first).get("/api/v1/account/").status_code == 401
    assert bearer(second).get("/api/v1/account/").status_code == 200
    assert User.objects.filter(email="demo@sendethic.local").count() == 1
    assert ApiKey.objects.filter(name="demo (make run)", revoked_at__isnull=True).count() == 1
