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


def _in_a_fresh_process(code: str, **env) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MEDIA_")}
    environment.update(env, DJANGO_SETTINGS_MODULE="sendethic.settings")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


IMAGE_ADDRESS = """
from django.core.files.storage import storages
from campaigns.editor.services import image_url
print(type(storages["default"]).__name__, image_url("editor/1/abc.png"))
"""


def test_uploaded_images_are_served_by_the_app_in_the_embedded_default():
    kind, address = _in_a_fresh_process(IMAGE_ADDRESS).split()
    assert kind == "FileSystemStorage"
    assert address.startswith("http://127.0.0.1:8000/") and address.endswith("editor/1/abc.png")


def test_with_a_bucket_uploaded_images_are_public_addresses_of_the_s3_store():
    """An S3-compatible store (django-storages): the address is computed, no request is made."""
    kind, address = _in_a_fresh_process(
        IMAGE_ADDRESS,
        MEDIA_S3_BUCKET="sendethic-media",
        MEDIA_S3_ENDPOINT_URL="https://s3.fr-par.scw.cloud",
        MEDIA_S3_REGION="fr-par",
        AWS_ACCESS_KEY_ID="id",
        AWS_SECRET_ACCESS_KEY="secret",
    ).split()
    assert kind == "S3Storage"
    # Public and unsigned: a mail client opens it months later, without credentials.
    assert address == "https://s3.fr-par.scw.cloud/sendethic-media/media/editor/1/abc.png"


def test_the_smpp_backend_is_configured_from_the_environment():
    """An operator sets SMPP_* in .env (docker-compose passes it whole): the backend reads them."""
    code = (
        "from sms.backends.smpp import SmsBackend\n"
        "b = SmsBackend()\n"
        "print(b.host, b.port, b.system_id, b.password, b.system_type, b.timeout)"
    )
    printed = _in_a_fresh_process(
        code,
        SMS_BACKEND="sms.backends.smpp.SmsBackend",
        SMPP_HOST="smsc.example.net",
        SMPP_SYSTEM_ID="sendethic",
        SMPP_PASSWORD="s3cret",
        SMPP_SYSTEM_TYPE="CMT",
        SMPP_TIMEOUT="20",
    )
    assert printed == "smsc.example.net 2775 sendethic s3cret CMT 20"


def test_twilio_status_callbacks_can_be_turned_off_from_the_environment():
    code = (
        "from sms.backends.twilio import SmsBackend\n"
        "print(SmsBackend(account_sid='AC1', auth_token='t').status_callback)"
    )
    assert _in_a_fresh_process(code).endswith("/sms/hooks/twilio/status/")
    assert _in_a_fresh_process(code, TWILIO_STATUS_CALLBACKS="false") == "None"
