"""What SMPP 3.4 carries of an SMS: the bytes of each part (GSM 03.38 septets or UCS-2, a
concatenation header when the text is split), and the text of what comes back (deliver_sm: a
delivery receipt's fields, an inbound message).

GSM-7 goes on the wire unpacked, one septet per octet, with data_coding 0 ("SMSC default
alphabet"): that is what SMPP 3.4 SMSCs expect (§5.2.19); the SMSC packs septets for the air
interface. The parts are cut where sms.encoding counts them (153 septets, 67 UTF-16 units, never
inside an escape or a surrogate pair), so what is billed is what is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sms.encoding import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    PART_GSM7,
    PART_UCS2,
    SINGLE_GSM7,
    SINGLE_UCS2,
    Encoding,
    count,
)

DATA_CODING_GSM7 = 0x00
DATA_CODING_IA5 = 0x01
DATA_CODING_LATIN1 = 0x03
DATA_CODING_UCS2 = 0x08
ESM_CLASS_UDHI = 0x40
# esm_class bits 2-5 of a deliver_sm: 0x04 SMSC delivery receipt, 0x08/0x10/0x20 other
# acknowledgements; 0 an ordinary (mobile-originated) message.
ESM_CLASS_TYPE_MASK = 0x3C
ESM_CLASS_RECEIPT = 0x04

_SEPTET_OF = {character: index for index, character in enumerate(GSM7_BASIC)}
_EXTENSION_SEPTETS = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
assert set(_EXTENSION_SEPTETS) == set(GSM7_EXTENSION)
_CHARACTER_OF = {septet: character for character, septet in _SEPTET_OF.items()}
_EXTENSION_OF = {septet: character for character, septet in _EXTENSION_SEPTETS.items()}


def gsm7_septets(character: str) -> bytes:
    if character in _EXTENSION_SEPTETS:
        return bytes((0x1B, _EXTENSION_SEPTETS[character]))
    return bytes((_SEPTET_OF[character],))


def gsm7_decode(data: bytes) -> str:
    text, escaped = [], False
    for septet in data:
        if escaped:
            text.append(_EXTENSION_OF.get(septet, _CHARACTER_OF.get(septet, "")))
            escaped = False
        elif septet == 0x1B:
            escaped = True
        else:
            text.append(_CHARACTER_OF.get(septet & 0x7F, ""))
    return "".join(text)


@dataclass(frozen=True)
class Part:
    short_message: bytes
    data_coding: int
    esm_class: int


def _chunks(units: list[bytes], single: int, part: int, unit_size: int) -> list[bytes]:
    """Characters (already encoded) gathered into one SMS, or into parts of `part` units that
    never cut a character: the same cut as sms.encoding._split."""
    total = sum(len(unit) for unit in units) // unit_size
    if total <= single:
        return [b"".join(units)]
    chunks, current, used = [], [], 0
    for unit in units:
        size = len(unit) // unit_size
        if used + size > part:
            chunks.append(b"".join(current))
            current, used = [], 0
        current.append(unit)
        used += size
    chunks.append(b"".join(current))
    return chunks


def parts_of(text: str, reference: int) -> list[Part]:
    """The submit_sm payloads of one SMS. A text over one SMS gets, in each part, the 8-bit
    concatenation header (IEI 0x00: reference, total, number) and esm_class UDHI; `reference`
    is the same for every try of the same message, so a phone holding parts of an earlier try
    completes the text instead of showing two."""
    if count(text).encoding == Encoding.GSM7:
        units = [gsm7_septets(character) for character in text]
        chunks = _chunks(units, SINGLE_GSM7, PART_GSM7, 1)
        data_coding = DATA_CODING_GSM7
    else:
        units = [character.encode("utf-16-be") for character in text]
        chunks = _chunks(units, SINGLE_UCS2, PART_UCS2, 2)
        data_coding = DATA_CODING_UCS2
    if len(chunks) == 1:
        return [Part(chunks[0], data_coding, 0)]
    total = len(chunks)
    return [
        Part(bytes((5, 0, 3, reference % 256, total, number)) + chunk, data_coding, ESM_CLASS_UDHI)
        for number, chunk in enumerate(chunks, 1)
    ]


def split_udh(short_message: bytes, esm_class: int) -> tuple[bytes, bytes]:
    """(user data header, user data) of a message whose esm_class says it has a header."""
    if not esm_class & ESM_CLASS_UDHI or not short_message:
        return b"", short_message
    length = short_message[0]
    return short_message[: length + 1], short_message[length + 1 :]


@dataclass(frozen=True)
class Concatenation:
    """Which part of a long SMS a user data header says this is (3GPP TS 23.040 §9.2.3.24.1)."""

    reference: int
    total: int
    number: int


def concatenation(udh: bytes) -> Concatenation | None:
    """The concatenation element of a user data header (IEI 0x00, 8-bit reference, or 0x08,
    16-bit reference), or None: no header, no such element, or one that makes no sense."""
    if not udh:
        return None
    body, position = udh[1 : 1 + udh[0]], 0
    while position + 2 <= len(body):
        iei, length = body[position], body[position + 1]
        data = body[position + 2 : position + 2 + length]
        position += 2 + length
        if len(data) < length:
            return None
        if iei == 0x00 and length == 3:
            reference, total, number = data
        elif iei == 0x08 and length == 4:
            reference, total, number = int.from_bytes(data[:2]), data[2], data[3]
        else:
            continue
        return Concatenation(reference, total, number) if 1 <= number <= total else None
    return None


def decode_text(data: bytes, data_coding: int) -> str:
    if data_coding == DATA_CODING_UCS2:
        return data.decode("utf-16-be", errors="replace")
    if data_coding == DATA_CODING_LATIN1:
        return data.decode("latin-1")
    if data_coding == DATA_CODING_IA5:
        return data.decode("ascii", errors="replace")
    return gsm7_decode(data)


@dataclass(frozen=True)
class ReceiptText:
    provider_id: str
    stat: str
    err: str


# SMPP 3.4 Appendix B: "id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done
# date:YYMMDDhhmm stat:DDDDDDD err:E text:…". Keys are matched case-insensitively: SMSCs vary.
_RECEIPT_FIELD = re.compile(r"(id|sub|dlvrd|submit date|done date|stat|err):(\S*)", re.IGNORECASE)


def parse_receipt_text(text: str) -> ReceiptText | None:
    fields = {}
    for key, value in _RECEIPT_FIELD.findall(text.split("text:", 1)[0].split("Text:", 1)[0]):
        fields.setdefault(key.lower(), value)
    if not fields.get("id") or not fields.get("stat"):
        return None
    return ReceiptText(fields["id"], fields["stat"].upper(), fields.get("err", ""))


# The message_state TLV (SMPP 3.4 §5.2.28), named as in the receipt text.
MESSAGE_STATES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
FINAL_DELIVERED = {"DELIVRD"}
FINAL_FAILED = {"EXPIRED", "DELETED", "UNDELIV", "REJECTD", "UNKNOWN"}
STAT_REASONS = {
    "EXPIRED": "validity period expired before delivery",
    "DELETED": "deleted by the operator",
    "UNDELIV": "undeliverable",
    "REJECTD": "rejected by the network",
    "UNKNOWN": "in an unknown state at the operator",
}
