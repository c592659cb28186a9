"""The GSM-7 / UCS-2 counter: every character of both GSM-7 tables, the boundaries of one and
of several segments, and worked examples from providers' public documentation."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms.encoding import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    Encoding,
    count,
    is_gsm7,
    replacement_for,
    suggest_replacements,
)

BASIC = [ch for ch in GSM7_BASIC if ch != "\x1b"]
EXTENSION = list(GSM7_EXTENSION)


def test_the_tables_have_the_sizes_of_the_standard():
    assert len(GSM7_BASIC) == 128
    assert len(set(GSM7_BASIC)) == 128
    assert set(GSM7_EXTENSION) == set("\f^{}\\[~]|€")


@pytest.mark.parametrize("character", BASIC)
def test_every_basic_character_is_one_septet(character):
    result = count(character * 160)

    assert result.encoding == Encoding.GSM7
    assert result.units == 160
    assert result.segments == 1
    assert count(character * 161).segments == 2


@pytest.mark.parametrize("character", EXTENSION)
def test_every_extension_character_is_two_septets(character):
    assert count(character * 80).units == 160
    assert count(character * 80).segments == 1
    assert count(character * 80).encoding == Encoding.GSM7
    assert count(character * 81).segments == 2


@pytest.mark.parametrize("character", EXTENSION)
def test_an_extension_character_is_never_cut_between_two_parts(character):
    # 152 septets, then an escape sequence that would straddle the 153rd: it opens part two.
    text = "a" * 152 + character + "a" * 10

    assert count(text).units == 164
    assert count(text).segments == 2
    # 152 + 2 + 151 = 305 septets still need a third part, since the first holds only 152.
    assert count("a" * 152 + character + "a" * 152).segments == 3


def test_french_letters_of_the_gsm7_table_keep_gsm7():
    text = "é è ù ì ò Ç Ø ø Å å Ä Ö Ñ Ü § ¿ ä ö ñ ü à É Æ æ ß"

    assert count(text).encoding == Encoding.GSM7


@pytest.mark.parametrize("character", list("çêâîôûëïœ’ÀÈÊÙ«»…"))
def test_french_traps_force_ucs2(character):
    result = count(f"Bonjour {character} !")

    assert result.encoding == Encoding.UCS2
    assert result.ucs2_characters == (character,)


def test_every_character_outside_both_tables_forces_ucs2():
    gsm = set(BASIC) | set(EXTENSION)
    for code_point in range(0x10000):
        character = chr(code_point)
        if 0xD800 <= code_point <= 0xDFFF:
            continue
        assert is_gsm7(character) == (character in gsm), repr(character)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(0, 0), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_boundaries(length, segments):
    assert count("a" * length).segments == segments


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_boundaries(length, segments):
    assert count("ê" * length).segments == segments


def test_per_segment_capacity_follows_the_number_of_parts():
    assert count("a" * 160).per_segment == 160
    assert count("a" * 161).per_segment == 153
    assert count("ê" * 70).per_segment == 70
    assert count("ê" * 71).per_segment == 67
    assert count("a" * 150).remaining == 10
    assert count("a" * 200).remaining == 106


def test_an_emoji_is_two_ucs2_units_and_never_cut():
    assert count("😀").units == 2
    assert count("😀").characters == 1
    assert count("😀" * 35).segments == 1
    assert count("😀" * 35 + "a").segments == 2
    # 66 units, then a surrogate pair that would straddle the 67th: it opens part two.
    assert count("a" * 66 + "😀" + "a" * 10).segments == 2
    assert count("a" * 66 + "😀" + "a" * 66).segments == 3


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        # Salsa Labs' help centre: "a message containing 200 standard characters" counts 2.
        ("x" * 200, Encoding.GSM7, 200, 2),
        # Twilio's glossary ("What is the SMS character limit?"): UCS-2 messages over 70
        # characters are split into 67-character segments.
        ("Ж" * 90, Encoding.UCS2, 90, 2),
        # One emoji turns a short text into UCS-2, and counts two code units.
        ("Hello 👋", Encoding.UCS2, 8, 1),
        # Extension characters keep GSM-7 but count twice: € 10 = 5 septets + 1.
        ("€10 {promo}", Encoding.GSM7, 14, 1),
    ],
)
def test_worked_examples_from_provider_documentation(text, encoding, units, segments):
    result = count(text)

    assert (result.encoding, result.units, result.segments) == (encoding, units, segments)


def test_suggestion_replaces_french_traps_and_says_the_saving():
    text = "Aujourd’hui, fête à ne pas manquer : « −20 % » sur tout… " * 2

    suggestion = suggest_replacements(text)

    assert suggestion.before.encoding == Encoding.UCS2
    assert suggestion.after.encoding == Encoding.GSM7
    assert suggestion.replacements == {
        "’": "'",
        "ê": "e",
        "«": '"',
        "−": "-",
        "»": '"',
        "…": "...",
    }
    assert suggestion.text.startswith('Aujourd\'hui, fete à ne pas manquer : " -20 % " sur tout...')
    assert suggestion.before.segments == 2
    assert suggestion.after.segments == 1
    assert suggestion.segments_saved == 1
    assert suggestion.remaining == ()


def test_suggestion_keeps_what_has_no_look_alike():
    suggestion = suggest_replacements("Cœur ç 🎉")

    assert suggestion.text == "Coeur c 🎉"
    assert suggestion.remaining == ("🎉",)
    assert suggestion.after.encoding == Encoding.UCS2


@pytest.mark.parametrize(
    ("character", "replacement"),
    [
        ("ç", "c"),
        ("ê", "e"),
        ("Ê", "E"),
        ("ô", "o"),
        ("œ", "oe"),
        ("’", "'"),
        ("é", "é"),
        ("Ç", "Ç"),
    ],
)
def test_replacements(character, replacement):
    assert replacement_for(character) == replacement


@given(st.text())
def test_replacements_only_ever_shorten_or_keep_the_segments_of_text_they_make_gsm7(text):
    suggestion = suggest_replacements(text)

    assert all(is_gsm7(ch) for ch in suggestion.text if ch not in suggestion.remaining)
    if not suggestion.remaining:
        assert suggestion.after.encoding == Encoding.GSM7
    assert suggestion.after.characters >= 0


@given(st.text(alphabet=st.sampled_from(BASIC + EXTENSION), max_size=700))
def test_gsm7_segments_are_at_least_the_septets_over_153(text):
    result = count(text)

    assert result.encoding == Encoding.GSM7
    assert result.units == sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
    if result.units <= 160:
        assert result.segments == (1 if text else 0)
    else:
        assert -(-result.units // 153) <= result.segments <= -(-result.units // 152)
