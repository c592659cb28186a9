"""DKIM keys: generated per sending domain, private part encrypted at rest, used to sign the
exact bytes the SMTP backend sends (campaigns/backends.py)."""

import base64
import hashlib
import re

import dkim
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.errors import ConflictError, ServiceError
from accounts.models import Account
from campaigns.models import DkimKey

KEY_BITS = 2048
SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"list-unsubscribe",
                  b"list-unsubscribe-post", b"mime-version", b"content-type", b"reply-to"]  # fmt: skip


# A DNS label (RFC 1035, letters-digits-hyphens): 1 to 63 characters, no hyphen at either end.
LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# The API schema publishes these patterns (campaigns/api/senders.py): the ASCII form of what is accepted.
# A domain is two labels or more; a final dot (the DNS root) is allowed.
DOMAIN_PATTERN = rf"^(?:{LABEL}\.)+{LABEL}\.?$"
SELECTOR_PATTERN = rf"^{LABEL}$"
DOMAIN_MAX_LENGTH = 253


def _ascii_label(label: str) -> str | None:
    """`label` as it goes in DNS (IDNA for a Unicode one), or None if it cannot be one."""
    if not label.isascii():
        try:
            label = label.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return label if re.fullmatch(LABEL, label) else None


def check_domain(domain: str) -> str:
    """The domain, lowercased and without its final dot; a ServiceError on `domain` if it is
    not a host name: labels of letters, digits and hyphens (Unicode ones through IDNA), at least
    one dot, 253 characters at most."""
    name = domain.lower().removesuffix(".")
    labels = name.split(".")
    ascii_labels = [_ascii_label(label) for label in labels]
    if (
        len(domain) > DOMAIN_MAX_LENGTH
        or len(labels) < 2
        or None in ascii_labels
        or len(".".join(ascii_labels)) > DOMAIN_MAX_LENGTH
    ):
        raise ServiceError({"domain": _("Give a domain name, e.g. shop.example.")})
    return name


def check_selector(selector: str) -> str:
    if not re.fullmatch(SELECTOR_PATTERN, selector):
        raise ServiceError(
            {
                "selector": "Give a DNS label: 1 to 63 letters, digits or hyphens, "
                "not starting or ending with a hyphen."
            }
        )
    return selector


class DkimError(ConflictError):
    """A second key for the same domain."""

    code = "dkim_key_exists"


def _fernet() -> Fernet:
    # A dedicated key may be set; otherwise one is derived from SECRET_KEY (rotating SECRET_KEY
    # then means creating the DKIM keys anew).
    secret = settings.DKIM_ENCRYPTION_KEY or settings.SECRET_KEY
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


@transaction.atomic
def dkim_key_create(*, account: Account, domain: str, selector: str = "sendethic") -> DkimKey:
    domain = check_domain(domain)
    selector = check_selector(selector)
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public_der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        with transaction.atomic():
            return DkimKey.objects.create(
                account=account,
                domain=domain,
                selector=selector,
                private_key_encrypted=_fernet().encrypt(private_pem),
                public_key=base64.b64encode(public_der).decode(),
            )
    except IntegrityError as error:
        raise DkimError(f"A DKIM key already exists for {domain}.") from error


def private_key_pem(key: DkimKey) -> bytes:
    return _fernet().decrypt(bytes(key.private_key_encrypted))


def signing_key_for(account_id: int, from_address: str) -> DkimKey | None:
    domain = from_address.rsplit("@", 1)[-1].strip(">").lower()
    return DkimKey.objects.filter(account_id=account_id, domain=domain).first()


def sign(message: bytes, key: DkimKey) -> bytes:
    """The message with its DKIM-Signature header prepended."""
    signature = dkim.sign(
        message,
        selector=key.selector.encode(),
        domain=key.domain.encode(),
        privkey=private_key_pem(key),
        include_headers=SIGNED_HEADERS,
    )
    return signature + message
