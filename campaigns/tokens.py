"""Signed tokens in the links of a message: opens and clicks.

Each token carries the ids it names and an HMAC (Django's signing, keyed by SECRET_KEY and a salt
per use), so a tampered or invented token is refused before anything is looked up. The channel
that renders a message makes them; the tracking endpoints (stats) read them back.
"""

from dataclasses import dataclass

from django.core import signing

# The salts keep the names they had when stats made these tokens: changing one would break
# every link in the emails already sent.
OPEN_SALT = "stats.open"
CLICK_SALT = "stats.click"


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
