"""The shop modules (Magento, PrestaShop): PHP that lints, and a request the instant-add
endpoint accepts."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

from connectors.credentials import decrypt_secret
from connectors.services import connection_create
from contacts.models import ConsentStatus, Contact
from tests.connectors.conftest import SIMULATOR_CREDENTIALS

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "connectors/magento/module/Sendethic/NewsletterSync"
PS_MODULE = ROOT / "connectors/prestashop/module/sendethic"
PHP = shutil.which("php")


@pytest.fixture
def php():
    if PHP is None:
        if os.environ.get("CI"):
            pytest.fail("php is missing: CI must install Debian's php-cli")
        pytest.skip("php-cli is not installed")
    return PHP


@pytest.mark.parametrize("module", [MODULE, PS_MODULE], ids=["magento", "prestashop"])
def test_every_php_file_lints(php, module):
    files = sorted(module.rglob("*.php"))
    assert len(files) >= 3
    for path in files:
        result = subprocess.run([php, "-l", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


# Each module builds its signed request in PHP, with its own class and payload shape.
MODULE_REQUESTS = {
    "magento": (
        "magento",
        f"require {json.dumps(str(MODULE / 'Model/SignedRequest.php'))};"
        "$r = new Sendethic\\NewsletterSync\\Model\\SignedRequest("
        "Sendethic\\NewsletterSync\\Model\\SignedRequest::payload("
        "'Gaelle.Cote@Exemple.fr', 'fr_be', 'Gaëlle', 'Côté', '198.51.100.7'), $argv[1]);",
        ("gaelle.cote@exemple.fr", "Gaëlle"),
    ),
    "prestashop": (
        "prestashop",
        f"require {json.dumps(str(PS_MODULE / 'classes/SendethicSignedRequest.php'))};"
        "$r = new SendethicSignedRequest(SendethicSignedRequest::payload("
        "'Gaelle.Cote@Exemple.fr', 2, 'Gaëlle', 'Côté', '198.51.100.9'), $argv[1]);",
        ("gaelle.cote@exemple.fr", "Gaëlle"),
    ),
}


def _post_signed(client, connection, request, body: str):
    return client.post(
        reverse("connectors:newsletter_add", args=[connection.pk]),
        data=body.encode(),
        content_type="application/json",
        HTTP_X_SENDETHIC_TIMESTAMP=request["headers"]["X-Sendethic-Timestamp"],
        HTTP_X_SENDETHIC_SIGNATURE=request["headers"]["X-Sendethic-Signature"],
    )


@pytest.mark.django_db
@pytest.mark.parametrize("module", sorted(MODULE_REQUESTS))
def test_the_modules_request_is_accepted_by_the_endpoint(php, client, account, module):
    platform, build, (key, first_name) = MODULE_REQUESTS[module]
    connection = connection_create(
        account=account, name="Boutique", platform=platform, shop_url="https://b.example",
        credentials=SIMULATOR_CREDENTIALS, newsletter_instant_add=True,
    )  # fmt: skip
    secret = decrypt_secret(connection.webhook_secret_encrypted)
    script = build + "echo json_encode(['body' => $r->body, 'headers' => $r->headers]);"
    # "--": a secret may begin with "-", which php would take for one of its own options.
    output = subprocess.run(
        [php, "-r", script, "--", secret], capture_output=True, text=True, check=True
    ).stdout
    request = json.loads(output)
    assert request["headers"]["Content-Type"] == "application/json"

    response = _post_signed(client, connection, request, request["body"])

    assert response.status_code == 200, response.content
    contact = Contact.objects.get(account=account, key=key)
    assert contact.email_status == ConsentStatus.SUBSCRIBED
    assert contact.first_name == first_name
    # a tampered body is refused
    tampered = request["body"].replace("Ga\\u00eblle", "Eve").replace("Gaëlle", "Eve")
    assert tampered != request["body"]
    assert _post_signed(client, connection, request, tampered).status_code == 401
