"""The design of an email built in the block editor, and its validation.

    {"version": 1,
     "styles": {"font_family", "text_color", "link_color", "background_color",
                "content_background", "width"},
     "sections": [{"id", "background_color", "padding", "hide_on_mobile", "hide_on_desktop",
                   "columns": [{"width", "padding", "background_color",
                                "blocks": [{"id", "type", "hide_on_mobile", "hide_on_desktop", …}]}]}]}

`design_normalise` is the only way in: it checks every value against the schema below, fills the
defaults, sanitises rich text with nh3, and answers a clean copy — or raises DesignInvalid with a
message per path (`sections[0].columns[1].blocks[2].alt`), so the editor can point at the block.
Text HTML is sanitised here because the editor shows it in the app's own page (contenteditable);
raw HTML blocks are email content the app only ever shows in a sandboxed iframe.
"""

import inspect
import re
import secrets
from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.errors import ServiceError
from campaigns.editor.richtext import sanitise_text_html

DESIGN_VERSION = 1
MAX_SECTIONS = 60
MAX_COLUMNS = 4
MAX_BLOCKS_PER_COLUMN = 40
MAX_TEXT_HTML = 50_000
MAX_RAW_HTML = 100_000
MAX_URL = 2_000

# Fonts every mail client has: a web font would need the network at render time (DESIGN §5).
WEB_SAFE_FONTS: dict[str, str] = {
    "Arial, Helvetica, sans-serif": "Arial",
    "'Helvetica Neue', Helvetica, Arial, sans-serif": "Helvetica",
    "Verdana, Geneva, Tahoma, sans-serif": "Verdana",
    "Tahoma, Geneva, sans-serif": "Tahoma",
    "'Trebuchet MS', 'Lucida Grande', 'Lucida Sans Unicode', Arial, sans-serif": "Trebuchet MS",
    "'Segoe UI', 'Helvetica Neue', Helvetica, Arial, sans-serif": "Segoe UI",
    "'Gill Sans', 'Gill Sans MT', Calibri, 'Trebuchet MS', sans-serif": "Gill Sans",
    "'Arial Black', 'Helvetica Neue', Helvetica, Arial, sans-serif": "Arial Black",
    "Georgia, 'Times New Roman', Times, serif": "Georgia",
    "'Times New Roman', Times, serif": "Times New Roman",
    "'Palatino Linotype', Palatino, 'Book Antiqua', Georgia, serif": "Palatino",
    "Didot, 'Bodoni 72', 'Bodoni MT', Georgia, 'Times New Roman', serif": "Didot",
    "'Courier New', Courier, monospace": "Courier New",
}
DEFAULT_FONT = "Arial, Helvetica, sans-serif"
ALIGNMENTS = ("left", "center", "right")
TEXT_ALIGNMENTS = (*ALIGNMENTS, "justify")
SOCIAL_NETWORKS = (
    "facebook", "instagram", "linkedin", "twitter", "youtube", "pinterest", "tumblr", "vimeo",
    "github", "medium", "snapchat", "xing", "dribbble", "soundcloud",
)  # fmt: skip
BLOCK_TYPES = ("text", "image", "button", "divider", "spacer", "social", "cart", "html")
MAX_CART_ITEMS = 10
BLOCK_LABELS = {
    "text": gettext_lazy("Text"),
    "image": gettext_lazy("Image"),
    "button": gettext_lazy("Button"),
    "divider": gettext_lazy("Divider"),
    "spacer": gettext_lazy("Spacer"),
    "social": gettext_lazy("Social links"),
    "cart": gettext_lazy("Cart"),
    "html": gettext_lazy("Raw HTML"),
}

COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
PADDING = re.compile(r"[0-9]{1,3}(?:px)?(?: [0-9]{1,3}(?:px)?){0,3}")
ID = re.compile(r"[A-Za-z0-9_-]{1,40}")
PERCENT = re.compile(r"(?:[1-9][0-9]?|100)%")
MERGE_TAG_ONLY = re.compile(r"\{\{\s*[a-zA-Z_][a-zA-Z0-9_.]*\s*\}\}")
# A link target: a web or mail address (merge tags allowed inside), or a lone merge tag such
# as {{ unsubscribe_url }}. Nothing that could close the attribute or start markup.
# Written without `\"` so that the pattern reads the same in the OpenAPI document (ECMAScript).
URL_PIECE = r"(?:[^\s" + '"' + r"'<>{}\x00]|\{\{[^{}" + '"' + r"'<>\x00]*\}\})"
LINK = re.compile(
    rf"(?:(?:https?://|mailto:|tel:){URL_PIECE}+|\{{\{{\s*[a-zA-Z_][a-zA-Z0-9_.]*\s*\}}\}})"
)
IMAGE_URL = re.compile(r"https?://[^\s" + '"' + r"'<>\x00]+")


class DesignInvalid(ServiceError):
    """The design breaks the schema: one message per path (400)."""

    code = "invalid_design"
    default_message = gettext_lazy("The design is invalid.")


class _Errors:
    def __init__(self):
        self.by_path: dict[str, str] = {}

    def add(self, path: str, message: str) -> None:
        self.by_path.setdefault(path, message)


def new_id() -> str:
    return secrets.token_hex(6)


# A field checker answers the clean value or raises ValueError with the reason.
Checker = Callable[[object], object]


def _text(value) -> str:
    # NUL cannot be stored in a PostgreSQL text or jsonb value, and has no place in an email.
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError(_("Expected a text."))
    return value


def _described(schema: dict):
    """Attach the JSON schema of what a checker accepts (for the API's OpenAPI document)."""

    def attach(check):
        check.json_schema = schema
        return check

    return attach


# What str.strip() removes, in both regex languages (Python's \s and ECMAScript's agree on it for
# the characters a client sends; NUL is neither and is refused everywhere).
NO_NUL = r"[^\x00]*"


def _string(max_length: int, *, pattern: re.Pattern | None = None, blank: bool = True) -> Checker:
    # Surrounding white space is stripped before the checks: the schema's pattern allows it.
    if pattern is not None:
        inner = f"(?:{pattern.pattern})"
        regex = rf"^\s*{inner}{'?' if blank else ''}\s*$"
    else:
        regex = f"^{NO_NUL}$" if blank else rf"^{NO_NUL}[^\s\x00]{NO_NUL}$"
    schema = {"type": "string", "pattern": regex}
    if pattern is None:
        schema["maxLength"] = max_length

    @_described(schema)
    def check(value):
        value = _text(value)
        value = value.strip()
        if not value:
            if blank:
                return ""
            raise ValueError(_("This field is required."))
        if len(value) > max_length:
            raise ValueError(_("At most %(n)d characters.") % {"n": max_length})
        if pattern is not None and not pattern.fullmatch(value):
            raise ValueError(_("Invalid value."))
        return value

    return check


_color = _string(7, pattern=COLOR)


def _literal(text: str) -> str:
    # re.escape also escapes spaces and hyphens, which ECMAScript's unicode mode refuses.
    return re.sub(r"([\\^$.*+?()\[\]{}|/])", r"\\\1", text)


def _choice(choices) -> Checker:
    # A pattern, not an enum: drf-spectacular's enum post-processing would merge the enums of
    # same-named fields (`align` with and without "justify") into one.
    @_described({"type": "string", "pattern": "^(?:" + "|".join(map(_literal, choices)) + ")$"})
    def check(value):
        if value not in choices:
            raise ValueError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)})
        return value

    return check


def _integer(low: int, high: int, *, blank: bool = False) -> Checker:
    schema = {"type": "integer", "minimum": low, "maximum": high}
    if blank:
        schema["nullable"] = True

    @_described(schema)
    def check(value):
        if value is None and blank:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(_("Expected a whole number."))
        if not low <= value <= high:
            raise ValueError(_("Between %(low)d and %(high)d.") % {"low": low, "high": high})
        return value

    return check


def _number(low: float, high: float) -> Checker:
    @_described({"type": "number", "minimum": low, "maximum": high})
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(_("Expected a number."))
        if not low <= value <= high:
            raise ValueError(_("Between %(low)s and %(high)s.") % {"low": low, "high": high})
        return value

    return check


@_described({"type": "boolean"})
def _boolean(value):
    if not isinstance(value, bool):
        raise ValueError(_("Expected true or false."))
    return value


_padding = _string(40, pattern=PADDING)


_link = _string(MAX_URL, pattern=LINK)


_font = _choice(("", *WEB_SAFE_FONTS))


@_described({"type": "string", "maxLength": MAX_TEXT_HTML, "pattern": f"^{NO_NUL}$"})
def _text_html(value):
    value = _text(value)
    if len(value) > MAX_TEXT_HTML:
        raise ValueError(_("At most %(n)d characters.") % {"n": MAX_TEXT_HTML})
    return sanitise_text_html(value)


@_described(
    {
        "type": "string",
        "maxLength": MAX_RAW_HTML,
        # No MJML tag (any case): a negative lookahead both regex languages read alike.
        "pattern": r"^(?![\s\S]*<\/?[mM][jJ]-)[^\x00]*$",
    }
)
def _raw_html(value):
    value = _text(value)
    if len(value) > MAX_RAW_HTML:
        raise ValueError(_("At most %(n)d characters.") % {"n": MAX_RAW_HTML})
    if re.search(r"</?mj-", value, re.IGNORECASE):
        raise ValueError(_("MJML tags are not allowed in raw HTML."))
    return value


REQUIRED = object()

# field -> (checker, default). A missing field takes its default; an unknown one is refused.
STYLES_SCHEMA: dict[str, tuple[Checker, object]] = {
    "font_family": (_choice(tuple(WEB_SAFE_FONTS)), DEFAULT_FONT),
    "text_color": (_color, "#222222"),
    "link_color": (_color, "#1a5fb4"),
    "background_color": (_color, "#f4f4f4"),
    "content_background": (_color, "#ffffff"),
    "width": (_integer(480, 800), 600),
}
VISIBILITY = {"hide_on_mobile": (_boolean, False), "hide_on_desktop": (_boolean, False)}
SECTION_SCHEMA = {
    "background_color": (_color, ""),
    "padding": (_padding, "20px 0"),
    **VISIBILITY,
}
COLUMN_SCHEMA = {
    "width": (_string(4, pattern=PERCENT), ""),
    "padding": (_padding, ""),
    "background_color": (_color, ""),
}
TYPOGRAPHY = {
    "font_family": (_font, ""),
    "font_size": (_integer(8, 72), 16),
    "color": (_color, ""),
    "align": (_choice(TEXT_ALIGNMENTS), "left"),
    "padding": (_padding, "10px 25px"),
}
BLOCK_SCHEMAS: dict[str, dict[str, tuple[Checker, object]]] = {
    "text": {
        "html": (_text_html, ""),
        **TYPOGRAPHY,
        "line_height": (_number(1, 3), 1.5),
        "font_weight": (_choice(("normal", "bold")), "normal"),
        "letter_spacing": (_integer(0, 20), 0),
        **VISIBILITY,
    },
    "image": {
        "src": (_string(MAX_URL, pattern=IMAGE_URL, blank=False), REQUIRED),
        "alt": (_string(300, blank=False), REQUIRED),
        "href": (_link, ""),
        "width": (_integer(16, 800, blank=True), None),
        "align": (_choice(ALIGNMENTS), "center"),
        "padding": (_padding, "10px 25px"),
        **VISIBILITY,
    },
    "button": {
        "label": (_string(200, blank=False), REQUIRED),
        "href": (_string(MAX_URL, pattern=LINK, blank=False), REQUIRED),
        "background_color": (_color, "#1a5fb4"),
        "color": (_color, "#ffffff"),
        "border_radius": (_integer(0, 50), 4),
        "font_family": (_font, ""),
        "font_size": (_integer(8, 40), 16),
        "font_weight": (_choice(("normal", "bold")), "bold"),
        "align": (_choice(ALIGNMENTS), "center"),
        "padding": (_padding, "10px 25px"),
        "inner_padding": (_padding, "12px 28px"),
        **VISIBILITY,
    },
    "divider": {
        "color": (_color, "#dddddd"),
        "thickness": (_integer(1, 10), 1),
        "padding": (_padding, "10px 25px"),
        **VISIBILITY,
    },
    "spacer": {"height": (_integer(4, 200), 20), **VISIBILITY},
    "social": {
        "items": (None, None),  # checked by _social_items
        "icon_size": (_integer(16, 64), 24),
        "icon_color": (_color, ""),
        "align": (_choice(ALIGNMENTS), "center"),
        "padding": (_padding, "10px 25px"),
        **VISIBILITY,
    },
    # The contact's abandoned cart (the `cart` merge context): rows expanded per message.
    "cart": {
        "max_items": (_integer(1, MAX_CART_ITEMS), 3),
        "show_images": (_boolean, True),
        "total_label": (_string(100), ""),  # empty: no total row
        "label": (_string(200), ""),  # the button to the cart; empty: no button
        "button_color": (_color, "#1a5fb4"),
        "button_text_color": (_color, "#ffffff"),
        "empty_text": (_string(500), ""),  # shown instead when the contact has no cart
        "font_family": (_font, ""),
        "font_size": (_integer(8, 40), 14),
        "color": (_color, ""),
        "padding": (_padding, "10px 25px"),
        **VISIBILITY,
    },
    "html": {"html": (_raw_html, ""), **VISIBILITY},
}


def _fields(
    data: object, schema: dict, path: str, errors: _Errors, *, ignore: set[str] = frozenset()
) -> dict:
    if not isinstance(data, dict):
        errors.add(path or "design", _("Expected an object."))
        return {}
    clean = {}
    for key in set(data) - set(schema) - ignore:
        errors.add(f"{path}.{key}" if path else key, _("Unknown field."))
    for key, (checker, default) in schema.items():
        if checker is None:
            continue
        where = f"{path}.{key}" if path else key
        if key not in data:
            if default is REQUIRED:
                errors.add(where, _("This field is required."))
            clean[key] = None if default is REQUIRED else default
            continue
        try:
            clean[key] = checker(data[key])
        except ValueError as error:
            errors.add(where, str(error))
    return clean


def _social_items(items: object, path: str, errors: _Errors) -> list[dict]:
    if not isinstance(items, list) or not 1 <= len(items) <= 10:
        errors.add(path, _("Give between 1 and 10 links."))
        return []
    schema = {"network": (_choice(SOCIAL_NETWORKS), REQUIRED), "href": (_link, REQUIRED)}
    return [_fields(item, schema, f"{path}[{i}]", errors) for i, item in enumerate(items)]


def _identified(data: dict, path: str, errors: _Errors) -> str:
    value = data.get("id") if isinstance(data, dict) else None
    if value is None:
        return new_id()
    if not isinstance(value, str) or not ID.fullmatch(value):
        errors.add(f"{path}.id", _("Invalid value."))
        return new_id()
    return value


def _block(data: object, path: str, errors: _Errors) -> dict:
    kind = data.get("type") if isinstance(data, dict) else None
    if not isinstance(kind, str) or kind not in BLOCK_SCHEMAS:  # a JSON object is no type
        errors.add(
            f"{path}.type", _("Choose one of: %(choices)s.") % {"choices": ", ".join(BLOCK_TYPES)}
        )
        return {}
    block = {"id": _identified(data, path, errors), "type": kind}
    block.update(_fields(data, BLOCK_SCHEMAS[kind], path, errors, ignore={"id", "type"}))
    if kind == "social":
        block["items"] = _social_items(data.get("items"), f"{path}.items", errors)
    return block


def _list(data: object, path: str, errors: _Errors, *, low: int, high: int) -> list:
    if not isinstance(data, list):
        errors.add(path, _("Expected a list."))
        return []
    if not low <= len(data) <= high:
        errors.add(path, _("Between %(low)d and %(high)d items.") % {"low": low, "high": high})
    return data[:high]


def design_normalise(data: object) -> dict:
    """The design, checked and completed; DesignInvalid naming each wrong path."""
    errors = _Errors()
    if not isinstance(data, dict):
        raise DesignInvalid({"design": _("Expected an object.")})
    version = data.get("version", DESIGN_VERSION)
    if type(version) is not int or version != DESIGN_VERSION:  # JSON true is not 1
        errors.add("version", _("Unsupported version."))
    for key in set(data) - {"version", "styles", "sections"}:
        errors.add(key, _("Unknown field."))
    styles = _fields(data.get("styles", {}), STYLES_SCHEMA, "styles", errors)
    sections = []
    raw_sections = _list(data.get("sections", []), "sections", errors, low=0, high=MAX_SECTIONS)
    for s, raw_section in enumerate(raw_sections):
        path = f"sections[{s}]"
        section = {"id": _identified(raw_section, path, errors)}
        section.update(_fields(raw_section, SECTION_SCHEMA, path, errors, ignore={"id", "columns"}))
        columns = []
        raw_columns = (raw_section or {}).get("columns") if isinstance(raw_section, dict) else None
        for c, raw_column in enumerate(
            _list(raw_columns, f"{path}.columns", errors, low=1, high=MAX_COLUMNS)
        ):
            column_path = f"{path}.columns[{c}]"
            column = _fields(raw_column, COLUMN_SCHEMA, column_path, errors, ignore={"blocks"})
            raw_blocks = raw_column.get("blocks", []) if isinstance(raw_column, dict) else []
            column["blocks"] = [
                _block(raw_block, f"{column_path}.blocks[{b}]", errors)
                for b, raw_block in enumerate(
                    _list(
                        raw_blocks,
                        f"{column_path}.blocks",
                        errors,
                        low=0,
                        high=MAX_BLOCKS_PER_COLUMN,
                    )
                )
            ]
            columns.append(column)
        section["columns"] = columns
        sections.append(section)
    if errors.by_path:
        raise DesignInvalid(errors.by_path)
    return {"version": DESIGN_VERSION, "styles": styles, "sections": sections}


# The JSON schema of a design, from the same tables design_normalise checks with: the API's
# OpenAPI document describes exactly what a PUT of a design may hold (merge tags aside: which are
# known depends on the account's fields).
ID_SCHEMA = {"type": "string", "pattern": f"^{ID.pattern}$", "nullable": True}


def _object_schema(
    schema: dict, *, extra: dict | None = None, required: tuple[str, ...] = ()
) -> dict:
    properties = {
        key: checker.json_schema for key, (checker, _default) in schema.items() if checker
    }
    properties.update(extra or {})
    needed = [key for key, (_checker, default) in schema.items() if default is REQUIRED]
    result = {"type": "object", "properties": properties, "additionalProperties": False}
    if needed or required:
        result["required"] = [*required, *needed]
    return result


def design_json_schema() -> dict:
    social_item = _object_schema(
        {"network": (_choice(SOCIAL_NETWORKS), REQUIRED), "href": (_link, REQUIRED)}
    )
    blocks = []
    for kind in BLOCK_TYPES:
        extra = {"id": ID_SCHEMA, "type": {"type": "string", "pattern": f"^{kind}$"}}
        required = ("type",)
        if kind == "social":
            extra["items"] = {"type": "array", "minItems": 1, "maxItems": 10, "items": social_item}
            required = ("type", "items")
        block = _object_schema(BLOCK_SCHEMAS[kind], extra=extra, required=required)
        block["title"] = f"{kind} block"
        blocks.append(block)
    column = _object_schema(
        COLUMN_SCHEMA,
        extra={
            "blocks": {
                "type": "array",
                "maxItems": MAX_BLOCKS_PER_COLUMN,
                "items": {"oneOf": blocks},
            }
        },
    )
    section = _object_schema(
        SECTION_SCHEMA,
        extra={
            "id": ID_SCHEMA,
            "columns": {"type": "array", "minItems": 1, "maxItems": MAX_COLUMNS, "items": column},
        },
        required=("columns",),
    )
    return {
        "type": "object",
        "description": inspect.cleandoc(__doc__),
        "properties": {
            "version": {"type": "integer", "minimum": DESIGN_VERSION, "maximum": DESIGN_VERSION},
            "styles": _object_schema(STYLES_SCHEMA),
            "sections": {"type": "array", "maxItems": MAX_SECTIONS, "items": section},
        },
        "additionalProperties": False,
    }
