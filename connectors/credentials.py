"""Shop credentials at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from settings.

`CONNECTOR_ENCRYPTION_KEY` may be set apart from SECRET_KEY, so that rotating one does not
lose the other; without it the key is derived from SECRET_KEY (rotating it then means entering
the shop credentials again). Decrypted values live only in memory, in the shop client; they are
never rendered back in a form, returned by the API, or logged (ShopCredentials' repr hides them).
"""

import base64
import hashlib
import json
from dataclasses import dataclass, fields

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    secret = getattr(settings, "CONNECTOR_ENCRYPTION_KEY", "") or settings.SECRET_KEY
    digest = hashlib.sha256(b"sendethic.connectors:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@dataclass(frozen=True)
class ShopCredentials:
    """What a shop client needs to authenticate. Magento: OAuth 1.0a integration keys, or a
    bearer access token alone (when the shop allows tokens as standalone bearer tokens)."""

    consumer_key: str = ""
    consumer_secret: str = ""
    access_token: str = ""
    access_token_secret: str = ""

    def __repr__(self) -> str:
        given = [f.name for f in fields(self) if getattr(self, f.name)]
        return f"ShopCredentials(<hidden: {', '.join(given) or 'none'}>)"

    __str__ = __repr__

    @property
    def is_oauth(self) -> bool:
        return bool(self.consumer_key and self.consumer_secret and self.access_token_secret)


class CredentialsUnreadable(Exception):
    """The stored credentials were encrypted with another key (SECRET_KEY rotated)."""


def encrypt_credentials(credentials: ShopCredentials) -> str:
    payload = {f.name: getattr(credentials, f.name) for f in fields(credentials)}
    return _fernet().encrypt(json.dumps(payload).encode()).decode()


def decrypt_credentials(token: str) -> ShopCredentials:
    if not token:
        return ShopCredentials()
    try:
        payload = json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as error:
        raise CredentialsUnreadable("credentials encrypted with another key") from error
    return ShopCredentials(**payload)


def encrypt_secret(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise CredentialsUnreadable("secret encrypted with another key") from error
