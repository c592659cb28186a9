"""Merge tags: a small, sandboxed syntax for personalising subjects and bodies.

    {{ first_name }}   {{ fields.points }}   {{ first_name | default:"cher client" }}

Only the names below (and the account's custom fields) exist: a template can read a contact's
values and a few campaign links, nothing else — never the Django template language on user
content. Unknown tags are refused when the campaign is saved.
"""

import html
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

CONTACT_TAGS = ("first_name", "last_name", "email", "salutation", "city", "company", "zip_code")
SYSTEM_TAGS = (
    "account.name",
    "account.postal_address",
    "preheader",
    "unsubscribe_url",
    "view_in_browser_url",
)
TAG = re.compile(
    r"\{\{\s*(?P<name>[a-zA-Z_][a-zA-Z0-9_.]*)\s*"
    r"(?:\|\s*default\s*:\s*\"(?P<default>[^\"]*)\"\s*)?\}\}"
)
# Anything that looks like a tag, to report malformed ones instead of sending them verbatim.
TAG_LIKE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
# An opening left after every tag-like piece is taken out was never closed: sent as written.
OPENING = re.compile(r"\{\{|\{%")
UNCLOSED_EXCERPT = 30
SALUTATION_LABELS = {"mr": "M.", "mrs": "Mme"}


@dataclass(frozen=True)
class TagError:
    tag: str
    message: str


def validate(text: str, custom_keys: set[str]) -> list[TagError]:
    """Every tag-like piece of `text` that is not a known, well-formed merge tag."""
    errors = []
    for match in TAG_LIKE.finditer(text or ""):
        piece = match.group(0)
        parsed = TAG.fullmatch(piece)
        if parsed is None:
            errors.append(TagError(piece, _("malformed merge tag")))
            continue
        name = parsed.group("name")
        known = (
            name in CONTACT_TAGS
            or name in SYSTEM_TAGS
            or (name.startswith("fields.") and name.removeprefix("fields.") in custom_keys)
        )
        if not known:
            errors.append(TagError(piece, _("unknown merge tag: %(name)s") % {"name": name}))
    errors.extend(_unclosed(text or ""))
    return errors


def _unclosed(text: str) -> list[TagError]:
    """Openings `{{` / `{%` with no closing: named by their text and position (1-based)."""
    blanked = TAG_LIKE.sub(lambda match: " " * len(match.group(0)), text)
    return [
        TagError(
            text[match.start() : match.start() + UNCLOSED_EXCERPT],
            _("unclosed merge tag at character %(position)d") % {"position": match.start() + 1},
        )
        for match in OPENING.finditer(blanked)
    ]


def contact_values(contact, account) -> dict[str, str]:
    """The values a message to `contact` may show: strings only, nothing else reachable."""
    values = {name: str(getattr(contact, name, "") or "") for name in CONTACT_TAGS}
    values["salutation"] = SALUTATION_LABELS.get(contact.salutation, "")
    for key, value in (contact.fields or {}).items():
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        elif isinstance(value, bool):
            value = _("yes") if value else _("no")
        values[f"fields.{key}"] = str(value)
    values["account.name"] = account.name
    values["account.postal_address"] = account.postal_address
    return values


def render(text: str, values: dict[str, str], *, escape: bool) -> str:
    """Substitute tags; `escape` for HTML bodies (values never inject markup)."""

    def substitute(match: re.Match) -> str:
        value = values.get(match.group("name")) or match.group("default") or ""
        return html.escape(value, quote=True) if escape else value

    return TAG.sub(substitute, text or "")


class Protected:
    """Swap merge tags for inert placeholders around a transformation that would mangle them
    (premailer URL-encodes `{{ first_name }}` inside an href), then put them back."""

    def __init__(self, text: str):
        self.tags: list[str] = []

        def stash(match: re.Match) -> str:
            self.tags.append(match.group(0))
            return f"SENDETHICTAG{len(self.tags) - 1}X"

        self.text = TAG.sub(stash, text)

    def restore(self, text: str) -> str:
        return re.sub(r"SENDETHICTAG(\d+)X", lambda m: self.tags[int(m.group(1))], text)
