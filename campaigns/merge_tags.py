"""Merge tags: a small, sandboxed syntax for personalising subjects and bodies.

    {{ first_name }}   {{ fields.points }}   {{ first_name | default:"cher client" }}

Only the names below (and the account's custom fields) exist: a template can read a contact's
values and a few campaign links, nothing else — never the Django template language on user
content. Unknown tags are refused when the campaign is saved.

Namespaced tags (`{{ cart.total }}`) come from the merge contexts other apps register
(campaigns/merge_context.py): loaded only when a message uses them, defaults when the contact
has nothing. Their rows repeat through one fixed construct, `<!--sendethic:repeat cart.items
limit=3-->…{{ item.name }}…<!--/sendethic:repeat-->`, and a value can gate a part,
`<!--sendethic:if cart.url-->…<!--/sendethic:if-->` (or `unless`; they nest) (expand_blocks):
no other logic.

`{{ contact_ref }}` is an opaque, stable reference to the contact, meant for links to other
sites (`https://shop.example/promo?ref={{ contact_ref }}`): a keyed hash, so the shop can tell
one visitor from another without the platform handing it a personal address.
"""

import html
import re
from dataclasses import dataclass

from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from campaigns import merge_context

CONTACT_TAGS = ("first_name", "last_name", "email", "salutation", "city", "company", "zip_code")
# The contact's columns contact_values() reads: what the send engine loads with each message.
CONTACT_COLUMNS = ("account", *CONTACT_TAGS, "fields")
SYSTEM_TAGS = (
    "contact_ref",
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


REPEAT = re.compile(
    r"<!--\s*sendethic:repeat\s+(?P<name>[a-z][a-z0-9_.]*)\s+limit=(?P<limit>\d{1,2})\s*-->"
    r"(?P<body>.*?)<!--\s*/sendethic:repeat\s*-->",
    re.DOTALL,
)
# Innermost first (a body holds no other opening), repeated until none is left: conditions nest.
CONDITION = re.compile(
    r"<!--\s*sendethic:(?P<kind>if|unless)\s+(?P<name>[a-z][a-z0-9_.]*)\s*-->"
    r"(?P<body>(?:(?!<!--\s*sendethic:(?:if|unless)\s).)*?)"
    r"<!--\s*/sendethic:(?P=kind)\s*-->",
    re.DOTALL,
)
MAX_NESTING = 10
BLOCK_MARK = re.compile(r"<!--\s*/?sendethic:[^>]*?-->")
ROW_PREFIX = "item."
MAX_REPEAT = 20


def validate(text: str, custom_keys: set[str]) -> list[TagError]:
    """Every tag-like piece of `text` that is not a known, well-formed merge tag."""
    return _validate(text or "", custom_keys, row_fields=())


def _validate(text: str, custom_keys: set[str], *, row_fields: tuple[str, ...]) -> list[TagError]:
    errors = []
    context_tags = merge_context.known_tags()

    def repeat(match: re.Match) -> str:
        fields = merge_context.list_fields(match.group("name"))
        if fields is None:
            errors.append(
                TagError(match.group(0)[:60], _("unknown list: %(name)s") % match.groupdict())
            )
        elif not 1 <= int(match.group("limit")) <= MAX_REPEAT:
            errors.append(
                TagError(
                    match.group(0)[:60],
                    _("a list shows between 1 and %(n)d rows") % {"n": MAX_REPEAT},
                )
            )
        else:
            errors.extend(_validate(match.group("body"), custom_keys, row_fields=fields))
        return ""

    def condition(match: re.Match) -> str:
        name = match.group("name")
        if not _known(name, custom_keys, context_tags, row_fields):
            errors.append(
                TagError(match.group(0)[:60], _("unknown merge tag: %(name)s") % {"name": name})
            )
        errors.extend(_validate(match.group("body"), custom_keys, row_fields=row_fields))
        return ""

    text = _innermost_first(condition, REPEAT.sub(repeat, text))
    for match in BLOCK_MARK.finditer(text):
        errors.append(TagError(match.group(0)[:60], _("unpaired or misplaced block marker")))
    for match in TAG_LIKE.finditer(text):
        piece = match.group(0)
        parsed = TAG.fullmatch(piece)
        if parsed is None:
            errors.append(TagError(piece, _("malformed merge tag")))
            continue
        name = parsed.group("name")
        if not _known(name, custom_keys, context_tags, row_fields):
            errors.append(TagError(piece, _("unknown merge tag: %(name)s") % {"name": name}))
    errors.extend(_unclosed(text))
    return errors


def _known(name: str, custom_keys, context_tags, row_fields) -> bool:
    return (
        name in CONTACT_TAGS
        or name in SYSTEM_TAGS
        or name in context_tags
        or (name.startswith("fields.") and name.removeprefix("fields.") in custom_keys)
        or (name.startswith(ROW_PREFIX) and name.removeprefix(ROW_PREFIX) in row_fields)
    )


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


class MergeValues(dict):
    """A contact's values; a registered context's (`cart.*`) and `contact_ref` are read on
    their first lookup, once, so a message that names none of them costs no query or hash."""

    def __init__(self, data=(), *, contact=None, account=None, loaded=None):
        super().__init__(data)
        self.contact = contact
        self.account = account
        self.loaded = set() if loaded is None else loaded

    def _load(self, name: str) -> None:
        if name == "contact_ref":
            # A keyed hash: computed for the messages that show it, not for every message.
            if self.contact is not None:
                self[name] = contact_reference(self.contact)
            return
        namespace = merge_context.namespace_of(name)
        if namespace is None or namespace in self.loaded or self.contact is None:
            return
        self.loaded.add(namespace)
        self.update(merge_context.values_for(namespace, self.account, self.contact))

    def get(self, name, default=None):
        if name not in self:
            self._load(name)
        return super().get(name, default)

    def __missing__(self, name):
        self._load(name)
        if name in self:
            return super().__getitem__(name)
        raise KeyError(name)

    def extended(self, extra: dict[str, str]) -> "MergeValues":
        """A copy with `extra` added, keeping what was loaded and the means to load more."""
        return MergeValues(
            {**self, **extra}, contact=self.contact, account=self.account, loaded=set(self.loaded)
        )


def contact_values(contact, account) -> MergeValues:
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
    # One line: the footer prints it after the name, and HTML would join the lines anyway.
    values["account.postal_address"] = ", ".join(
        line.strip() for line in (account.postal_address or "").splitlines() if line.strip()
    )
    return MergeValues(values, contact=contact, account=account)


CONTACT_REF_SALT = "campaigns.contact-ref"


def contact_reference(contact) -> str:
    """20 hex characters of an HMAC (keyed by SECRET_KEY) of the contact's ids: stable for one
    contact, unguessable, and meaningless outside the platform. Empty for a contact not saved
    (a preview without values)."""
    if contact.pk is None:
        return ""
    return salted_hmac(
        CONTACT_REF_SALT, f"{contact.account_id}.{contact.pk}", algorithm="sha256"
    ).hexdigest()[:20]


def expand_blocks(text: str, values: dict[str, str]) -> str:
    """Repeat blocks unrolled for the rows the values hold (their `{{ item.x }}` renamed to the
    row's flattened tag), then condition blocks kept or dropped. Nothing is evaluated: a row
    count and a value's emptiness are the only decisions."""
    if "sendethic:" not in text:
        return text

    def repeat(match: re.Match) -> str:
        name, body = match.group("name"), match.group("body")
        try:
            count = int(values.get(f"{name}.count") or 0)
        except ValueError:
            count = 0
        rows = []
        for index in range(min(count, int(match.group("limit")), MAX_REPEAT)):
            row_name = f"{name}.{index}."

            def renamed(tag: re.Match, row_name=row_name) -> str:
                return tag.group(0).replace(ROW_PREFIX, row_name, 1)

            rows.append(ROW_TAG.sub(renamed, body))
        return "".join(rows)

    return _conditions(REPEAT.sub(repeat, text), values)


# One marker of a condition, opening or closing: the render pass reads them in one scan.
CONDITION_MARK = re.compile(
    r"<!--\s*(?P<close>/)?sendethic:(?P<kind>if|unless)(?:\s+(?P<name>[a-z][a-z0-9_.]*))?\s*-->"
)


def _conditions(text: str, values: dict[str, str]) -> str:
    """Conditions kept or dropped in one pass with a stack (they nest). Pairing was checked
    at save; a stray closing marker is dropped, an unclosed opening runs to the end."""
    if "sendethic:" not in text:
        return text
    pieces: list[str] = []
    open_kinds: list[str] = []
    hidden_from = None  # depth at which a dropped condition began
    position = 0
    for mark in CONDITION_MARK.finditer(text):
        if hidden_from is None:
            pieces.append(text[position : mark.start()])
        position = mark.end()
        kind = mark.group("kind")
        if mark.group("close"):
            if not open_kinds or open_kinds[-1] != kind:
                continue
            open_kinds.pop()
            if hidden_from is not None and len(open_kinds) < hidden_from:
                hidden_from = None
            continue
        open_kinds.append(kind)
        if hidden_from is None:
            present = (values.get(mark.group("name") or "") or "") not in ("", "0")
            if present != (kind == "if"):
                hidden_from = len(open_kinds)
    if hidden_from is None:
        pieces.append(text[position:])
    return "".join(pieces)


def _innermost_first(replace, text: str) -> str:
    for _level in range(MAX_NESTING):
        text, count = CONDITION.subn(replace, text)
        if not count:
            break
    return text


# A row's tag, or a condition on a row's value: `{{ item.name }}`, `sendethic:if item.url`.
ROW_TAG = re.compile(r"(?:\{\{\s*|sendethic:(?:if|unless)\s+)item\.")


def render(text: str, values: dict[str, str], *, escape: bool) -> str:
    """Substitute tags; `escape` for HTML bodies (values never inject markup)."""
    text = expand_blocks(text or "", values)

    def substitute(match: re.Match) -> str:
        value = values.get(match.group("name")) or match.group("default") or ""
        return html.escape(value, quote=True) if escape else value

    return TAG.sub(substitute, text)


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
