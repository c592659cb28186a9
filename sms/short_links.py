"""Short links in SMS: with the campaign's option on, every web link of its text becomes a
signed `/t/s/<token>` redirect on the platform's public address, one per message, so a click
is counted for the recipient who made it.

The token is the message's id and the link's index, with a truncated HMAC (keyed by
SECRET_KEY): 48 bits is plenty against guessing, since a good guess still only reaches a link
stored for that campaign (SmsLink), never an address taken from the request — no open redirect.
It is short on purpose: an SMS is billed by the character, and the short link counts in the
length at its real length (the engine counts each message as rendered).
"""

import re

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

# Web links as written in an SMS; a link holding a merge tag is personal and left as written.
URL = re.compile(r"https?://[^\s<>\"{}]+", re.IGNORECASE)
# Closing punctuation after a link belongs to the sentence ("… sur https://x.fr/soldes.").
TRAILING = ".,;:!?)»'’"
MAX_LINKS = 10  # one digit of index in the token
SIGNATURE_LENGTH = 8
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# What stands for link i in a prepared text until each message gets its own token: letters and
# digits only, which neither merge tags nor the GSM-7 counter treat specially.
PLACEHOLDER = re.compile(r"SMSSHORTLINK(\d)X")


class InvalidToken(Exception):
    pass


def _base62(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 62)
        digits = ALPHABET[rest] + digits
        if not number:
            return digits


def _from_base62(text: str) -> int:
    number = 0
    for character in text:
        number = number * 62 + ALPHABET.index(character)
    return number


def _signature(message_id: int, index: int) -> str:
    digest = salted_hmac("sms.short_link", f"{message_id}.{index}", algorithm="sha256").digest()
    return _base62(int.from_bytes(digest[:8]))[-SIGNATURE_LENGTH:].rjust(SIGNATURE_LENGTH, "0")


def token(message_id: int, index: int) -> str:
    return f"{_base62(message_id)}{index}{_signature(message_id, index)}"


def read_token(value: str) -> tuple[int, int]:
    """(message id, link index) of a token; InvalidToken if tampered or malformed."""
    if not (SIGNATURE_LENGTH + 2 <= len(value) <= SIGNATURE_LENGTH + 12) or any(
        character not in ALPHABET for character in value
    ):
        raise InvalidToken(value)
    head, signature = value[:-SIGNATURE_LENGTH], value[-SIGNATURE_LENGTH:]
    if not head[-1].isdigit():
        raise InvalidToken(value)
    message_id, index = _from_base62(head[:-1]), int(head[-1])
    if not constant_time_compare(signature, _signature(message_id, index)):
        raise InvalidToken(value)
    return message_id, index


def short_url(message_id: int, index: int) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/t/s/{token(message_id, index)}"


def _matches(text: str):
    for match in URL.finditer(text):
        url = match.group().rstrip(TRAILING)
        if len(url) > url.index("://") + 3:  # a host after the scheme
            yield match.start(), match.start() + len(url), url


def links_of(text: str) -> list[str]:
    """The links of `text` a campaign shortens, in order (at most MAX_LINKS)."""
    return [url for _start, _end, url in _matches(text)][:MAX_LINKS]


def with_placeholders(text: str) -> str:
    """`text` with its first MAX_LINKS links replaced by numbered placeholders."""
    pieces, position = [], 0
    for index, (start, end, _url) in enumerate(_matches(text)):
        if index == MAX_LINKS:
            break
        pieces += [text[position:start], f"SMSSHORTLINK{index}X"]
        position = end
    return "".join(pieces) + text[position:]


def fill_in(text: str, message_id: int) -> str:
    """The placeholders of a prepared text as this message's own short links."""
    return PLACEHOLDER.sub(lambda match: short_url(message_id, int(match.group(1))), text)


def fill_in_with(text: str, urls: list[str]) -> str:
    """The placeholders back to the links as written (a test send: no message to count on)."""
    return PLACEHOLDER.sub(lambda match: urls[int(match.group(1))], text)
