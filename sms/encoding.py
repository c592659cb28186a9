"""How an SMS text is encoded and how many segments it is billed as (3GPP TS 23.038, ex GSM 03.38).

A text made only of the GSM 7-bit default alphabet travels as GSM-7: 160 septets in one SMS, 153
per part once it is split (the concatenation header takes the rest), and each character of the
extension table costs two septets (an escape, then the character). One character outside both
tables turns the whole text into UCS-2: 70 UTF-16 code units in one SMS, 67 per part; a
character outside the Basic Multilingual Plane (most emoji) is two code units.

French text has traps: `é è à ù` are GSM-7, `ê â î ô û ç ë ï œ` and the typographic apostrophe are
not, so one `’` pasted from a word processor halves what a segment holds. `suggest_replacements`
offers the GSM-7 look-alikes and what they save.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

# The default alphabet, in table order (0x00–0x7F); 0x1B is the escape to the extension table.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# The extension table (escape + one septet): form feed, ^ { } \ [ ~ ] | €.
GSM7_EXTENSION = "\f^{}\\[~]|€"

_BASIC = frozenset(GSM7_BASIC) - {"\x1b"}
_EXTENSION = frozenset(GSM7_EXTENSION)
# The same sets as regular expressions: `count` runs for every SMS sent (billing), and a scan in
# C is some fifty times faster than a Python loop over the characters (bench.sms_send).
_NOT_GSM7 = re.compile("[^" + re.escape("".join(sorted(_BASIC | _EXTENSION))) + "]")
_TWO_SEPTETS = re.compile("[" + re.escape(GSM7_EXTENSION) + "]")
_TWO_UTF16_UNITS = re.compile("[\U00010000-\U0010ffff]")

SINGLE_GSM7, PART_GSM7 = 160, 153
SINGLE_UCS2, PART_UCS2 = 70, 67

# GSM-7 look-alikes of the characters that most often force UCS-2 in French (and Western
# European) text. Letters not listed fall back to their base letter when that one is GSM-7.
REPLACEMENTS = {
    "’": "'",
    "‘": "'",
    "‚": "'",
    "ʼ": "'",
    "′": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "…": "...",
    "–": "-",
    "—": "-",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "\u00a0": " ",  # no-break space, typed before ; : ! ? in French
    "\u202f": " ",  # narrow no-break space, same use
    "\u2009": " ",
    "\t": " ",
    "œ": "oe",
    "Œ": "OE",
    "ç": "c",
    "•": "-",
    "·": ".",
    "×": "x",
    "÷": "/",
    "`": "'",
    "´": "'",
    "°": "o",
    "²": "2",
    "³": "3",
    "½": "1/2",
    "¼": "1/4",
    "¾": "3/4",
    "©": "(c)",
    "®": "(R)",
    "™": "TM",
}


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


def is_gsm7(character: str) -> bool:
    return character in _BASIC or character in _EXTENSION


def septets(character: str) -> int:
    """What one GSM-7 character costs: 1, 2 for the extension table."""
    return 2 if character in _EXTENSION else 1


def _utf16_units(character: str) -> int:
    return 2 if ord(character) > 0xFFFF else 1


@dataclass(frozen=True)
class SmsCount:
    encoding: Encoding
    # Characters as a person counts them (code points).
    characters: int
    # What the network counts: septets for GSM-7, UTF-16 code units for UCS-2.
    units: int
    segments: int
    # What one part holds with this encoding and this number of parts.
    per_segment: int
    # The characters that force UCS-2, each once, in order of appearance.
    ucs2_characters: tuple[str, ...]

    @property
    def remaining(self) -> int:
        """Units still free in the last segment."""
        if self.segments <= 1:
            return self.per_segment - self.units
        return self.per_segment * self.segments - self.units


def _split(costs: list[int], single: int, part: int) -> int:
    """Segments for characters of these costs: one if they all fit in a single SMS, else parts
    of `part` units, never cutting a character (an escape and its septet, a surrogate pair)
    across two parts, as the networks split them."""
    total = sum(costs)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments += 1
            used = 0
        used += cost
    return segments


def count(text: str) -> SmsCount:
    forcing = tuple(dict.fromkeys(_NOT_GSM7.findall(text)))
    if not forcing:
        wide, cost = _TWO_SEPTETS, septets
        single, part, encoding = SINGLE_GSM7, PART_GSM7, Encoding.GSM7
    else:
        wide, cost = _TWO_UTF16_UNITS, _utf16_units
        single, part, encoding = SINGLE_UCS2, PART_UCS2, Encoding.UCS2
    units = len(text) + len(wide.findall(text))
    # Only a text longer than one SMS is split character by character.
    segments = min(units, 1) if units <= single else _split([cost(ch) for ch in text], single, part)
    return SmsCount(
        encoding=encoding,
        characters=len(text),
        units=units,
        segments=segments,
        per_segment=single if segments <= 1 else part,
        ucs2_characters=forcing,
    )


def replacement_for(character: str) -> str | None:
    """A GSM-7 look-alike of `character`, or None when there is none (emoji, other scripts)."""
    if is_gsm7(character):
        return character
    if character in REPLACEMENTS:
        return REPLACEMENTS[character]
    # ê → e, Â → A, ÿ → y: the base letter once the accent is taken off, when it is GSM-7.
    base = "".join(
        ch for ch in unicodedata.normalize("NFD", character) if not unicodedata.combining(ch)
    )
    if base and base != character and all(is_gsm7(ch) for ch in base):
        return base
    return None


@dataclass(frozen=True)
class Suggestion:
    text: str
    # Each replaced character and what replaces it.
    replacements: dict[str, str]
    # Characters that still force UCS-2 (no look-alike).
    remaining: tuple[str, ...]
    before: SmsCount
    after: SmsCount

    @property
    def segments_saved(self) -> int:
        return self.before.segments - self.after.segments


def suggest_replacements(text: str) -> Suggestion:
    """The text with every UCS-2-forcing character that has a GSM-7 look-alike replaced."""
    before = count(text)
    replacements = {}
    for character in before.ucs2_characters:
        replacement = replacement_for(character)
        if replacement is not None:
            replacements[character] = replacement
    replaced = "".join(replacements.get(ch, ch) for ch in text)
    after = count(replaced)
    return Suggestion(
        text=replaced,
        replacements=replacements,
        remaining=after.ucs2_characters,
        before=before,
        after=after,
    )
