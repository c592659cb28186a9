"""The text an SMS campaign sends: its merge tags rendered, and for marketing the opt-out
mention, which counts in the length like any other character."""

import unicodedata

# The French operators' common STOP number (the account's own mention comes later).
DEFAULT_OPT_OUT = "STOP au 36180"


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def has_opt_out(text: str, mention: str = DEFAULT_OPT_OUT) -> bool:
    """Whether `text` already carries the mention (case, accents and spacing ignored)."""
    return _folded(mention) in _folded(text)


def with_opt_out(text: str, mention: str = DEFAULT_OPT_OUT) -> str:
    """`text` ending with the opt-out mention, added on its own line when missing."""
    if has_opt_out(text, mention):
        return text
    return f"{text.rstrip()}\n{mention}"


def campaign_text(text: str, *, marketing: bool, opt_out: str = DEFAULT_OPT_OUT) -> str:
    """What every message of a campaign starts from, before its merge tags are rendered."""
    return with_opt_out(text, opt_out) if marketing else text
