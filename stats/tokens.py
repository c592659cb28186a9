"""Signed tokens in the links of a message: opens, clicks and the VERP return path.

Each token carries the ids it names and an HMAC (Django's signing, keyed by SECRET_KEY and a salt
per use), so a tampered or invented token is refused before anything is looked up.
"""

from dataclasses import dataclass

from django.core import signing

OPEN_SALT = "stats.open"
CLICK_SALT = "stats.click"
VERP_SALT = "stats.verp"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class TrackedMessage:
    campaign_id: int
    message_id: int


def _signer(salt: str) -> signing.Signer:
    return signing.Signer(salt=salt, algorithm="sha256")


def _ints(value: str, count: int) -> list[int]:
    parts = value.split(".")
    if len(parts) != count or not all(part.isdigit() and len(part) < 19 for part in parts):
        raise InvalidToken(value)
    return [int(part) for part in parts]


def open_token(campaign_id: int, message_id: int) -> str:
    return _signer(OPEN_SALT).sign(f"{campaign_id}.{message_id}")


def read_open_token(token: str) -> TrackedMessage:
    try:
        value = _signer(OPEN_SALT).unsign(token)
    except signing.BadSignature as error:
        raise InvalidToken(token) from error
    campaign_id, message_id = _ints(value, 2)
    return TrackedMessage(campaign_id, message_id)


def click_token(campaign_id: int, message_id: int, link_index: int) -> str:
    return _signer(CLICK_SALT).sign(f"{campaign_id}.{message_id}.{link_index}")


def read_click_token(token: str) -> tuple[TrackedMessage, int]:
    try:
        value = _signer(CLICK_SALT).unsign(token)
    except signing.BadSignature as error:
        raise InvalidToken(token) from error
    campaign_id, message_id, link_index = _ints(value, 3)
    return TrackedMessage(campaign_id, message_id), link_index


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
