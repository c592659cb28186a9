"""VERP return paths: `<local>+<token>@<domain>` built from settings.BOUNCE_ADDRESS, so a bounce
names its message even when the remote server quotes nothing of it (DESIGN §6).

Made by the email channel for each message it sends; the bounce parser (stats/bounces.py) reads
the token back.
"""

import re

from django.conf import settings
from django.core import signing

from campaigns.tokens import InvalidToken

# Kept from when stats made these: bounces of messages already sent must still verify.
VERP_SALT = "stats.verp"


def verp_token(message_id: int) -> str:
    """For the local part of a VERP return path: lower case only (some MTAs fold the case of
    local parts), so a base-16 id and a truncated hex HMAC."""
    signature = signing.Signer(salt=VERP_SALT, algorithm="sha256").signature(str(message_id))
    digest = signing.b64_decode(signature.encode()).hex()[:16]
    return f"{message_id:x}-{digest}"


def read_verp_token(token: str) -> int:
    head, _sep, digest = token.lower().partition("-")
    try:
        message_id = int(head, 16)
    except ValueError as error:
        raise InvalidToken(token) from error
    if not digest or verp_token(message_id) != f"{head}-{digest}":
        raise InvalidToken(token)
    return message_id


def verp_address(message_id: int) -> str:
    """The return path of one message, or "" when no bounce address is configured."""
    local, _at, domain = settings.BOUNCE_ADDRESS.rpartition("@")
    if not local or not domain:
        return ""
    return f"{local}+{verp_token(message_id)}@{domain}"


def verp_pattern() -> re.Pattern | None:
    """What a VERP return path of ours looks like (group 1: the token), or None when no bounce
    address is configured."""
    local, _at, domain = settings.BOUNCE_ADDRESS.rpartition("@")
    if not local or not domain:
        return None
    return re.compile(
        rf"(?<![\w.+-]){re.escape(local)}\+([0-9a-f]+-[0-9a-f]+)@{re.escape(domain)}",
        re.IGNORECASE,
    )
