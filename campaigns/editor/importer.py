"""MJML (the gallery's, an account's MJML template) or HTML as an editor design.

MJML is XML once its HTML entities are numeric, so lxml reads it. Each element's attributes are
resolved as MJML does (mj-all, then the tag's defaults, then its mj-class, then its own), then kept
where the design has a field for them; a value the design cannot hold (an unknown font, a
`line-height` in px) falls back to the field's default rather than refusing the template.
What has no block (mj-hero, mj-table) becomes a raw HTML block with what mrml renders for it,
so nothing of the template is lost. HTML templates open as one raw HTML block.
"""

import html
import re
from html.entities import name2codepoint
from pathlib import PurePosixPath
from urllib.parse import urlparse

from lxml import etree

from campaigns.editor import design as schema
from campaigns.editor.richtext import sanitise_text_html
from campaigns.gallery import MjmlError, render_mjml

NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S | re.I)
HIDE_ON_MOBILE_CLASSES = {"hide-on-mobile", "se-hide-mobile"}
HIDE_ON_DESKTOP_CLASSES = {"hide-on-desktop", "se-hide-desktop"}


class MjmlImportError(MjmlError):
    """The source cannot be read as MJML."""


def _numeric_entities(source: str) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name in XML_ENTITIES or name not in name2codepoint:
            return match.group(0)
        return f"&#{name2codepoint[name]};"

    return NAMED_ENTITY.sub(replace, source)


def _inner_html(element) -> str:
    parts = [html.escape(element.text or "", quote=False)]
    for child in element:
        parts.append(etree.tostring(child, encoding="unicode", method="xml", with_tail=True))
    return "".join(parts).strip()


def _px(value: str | None) -> int | None:
    match = re.fullmatch(r"\s*(\d+)(?:px)?\s*", value or "")
    return int(match.group(1)) if match else None


def _font(value: str | None) -> str:
    if not value:
        return ""
    if value in schema.WEB_SAFE_FONTS:
        return value
    first = value.split(",")[0].strip().strip("'\"").lower()
    for stack, label in schema.WEB_SAFE_FONTS.items():
        if label.lower() == first:
            return stack
    return ""


def _weight(value: str | None) -> str:
    return "bold" if value in {"bold", "bolder", "600", "700", "800", "900"} else "normal"


def _visibility(attributes: dict) -> dict:
    classes = set((attributes.get("css-class") or "").split())
    return {
        "hide_on_mobile": bool(classes & HIDE_ON_MOBILE_CLASSES),
        "hide_on_desktop": bool(classes & HIDE_ON_DESKTOP_CLASSES),
    }


def _keep_valid(kind_schema: dict, values: dict) -> dict:
    """The values the schema accepts; the others are left to their defaults."""
    kept = {}
    for key, value in values.items():
        if value is None or key not in kind_schema or kind_schema[key][0] is None:
            continue
        try:
            kind_schema[key][0](value)
        except ValueError:
            continue
        kept[key] = value
    return kept


class _Reader:
    def __init__(self, root):
        self.defaults: dict[str, dict] = {}
        self.classes: dict[str, dict] = {}
        for node in root.iterfind("mj-head/mj-attributes/*"):
            attributes = dict(node.attrib)
            if node.tag == "mj-class":
                self.classes[attributes.pop("name", "")] = attributes
            else:
                self.defaults[node.tag] = attributes
        self.head_css = "\n".join(node.text or "" for node in root.iterfind("mj-head/mj-style"))

    def attributes(self, element) -> dict:
        resolved = {**self.defaults.get("mj-all", {}), **self.defaults.get(element.tag, {})}
        for name in (element.get("mj-class") or "").split():
            resolved.update(self.classes.get(name, {}))
        resolved.update(element.attrib)
        return resolved

    def block(self, element) -> dict | None:
        attributes = self.attributes(element)
        kind_by_tag = {
            "mj-text": "text", "mj-image": "image", "mj-button": "button",
            "mj-divider": "divider", "mj-spacer": "spacer", "mj-social": "social",
            "mj-raw": "html", "mj-table": "html",
        }  # fmt: skip
        kind = kind_by_tag.get(element.tag)
        if kind is None:
            return self.rendered(element)
        values: dict = {"type": kind, **_visibility(attributes)}
        if kind == "text":
            line_height = attributes.get("line-height", "")
            values.update(
                html=sanitise_text_html(_inner_html(element)),
                font_family=_font(attributes.get("font-family")),
                font_size=_px(attributes.get("font-size")),
                color=attributes.get("color"),
                align=attributes.get("align"),
                padding=attributes.get("padding"),
                line_height=float(line_height)
                if re.fullmatch(r"\d+(\.\d+)?", line_height)
                else None,
                font_weight=_weight(attributes.get("font-weight")),
                letter_spacing=_px(attributes.get("letter-spacing")),
            )
        elif kind == "image":
            src = attributes.get("src", "")
            values.update(
                src=src,
                alt=attributes.get("alt") or PurePosixPath(urlparse(src).path).stem or "image",
                href=attributes.get("href"),
                width=_px(attributes.get("width")),
                align=attributes.get("align"),
                padding=attributes.get("padding"),
            )
        elif kind == "button":
            values.update(
                label=" ".join("".join(element.itertext()).split()),
                href=attributes.get("href"),
                background_color=attributes.get("background-color"),
                color=attributes.get("color"),
                border_radius=_px(attributes.get("border-radius")),
                font_family=_font(attributes.get("font-family")),
                font_size=_px(attributes.get("font-size")),
                font_weight=_weight(attributes.get("font-weight")),
                align=attributes.get("align"),
                padding=attributes.get("padding"),
                inner_padding=attributes.get("inner-padding"),
            )
        elif kind == "divider":
            values.update(
                color=attributes.get("border-color"),
                thickness=_px(attributes.get("border-width")),
                padding=attributes.get("padding"),
            )
        elif kind == "spacer":
            values.update(height=_px(attributes.get("height")))
        elif kind == "social":
            items = []
            for child in element.iterfind("mj-social-element"):
                network = (child.get("name") or "").removesuffix("-noshare")
                if network in schema.SOCIAL_NETWORKS and child.get("href"):
                    items.append({"network": network, "href": child.get("href")})
                    values.setdefault("icon_color", self.attributes(child).get("background-color"))
            if not items:
                return None
            values.update(
                items=items,
                icon_size=_px(attributes.get("icon-size")),
                align=attributes.get("align"),
                padding=attributes.get("padding"),
            )
        elif element.tag == "mj-table":
            table_attributes = {
                key: attributes[key]
                for key in ("width", "cellpadding", "cellspacing")
                if key in attributes
            }
            values["html"] = (
                f'<div style="padding:{html.escape(attributes.get("padding", "10px 25px"))}">'
                f"<table{_html_attributes(table_attributes)}"
                f' style="width:100%;border-collapse:collapse">{_inner_html(element)}</table></div>'
            )
        else:
            values["html"] = _inner_html(element)
        return {
            "type": kind,
            **_keep_valid(schema.BLOCK_SCHEMAS[kind], values),
            **({"items": values["items"]} if kind == "social" else {}),
        }

    def rendered(self, element) -> dict:
        """What mrml renders for an element the editor has no block for, as raw HTML."""
        head = etree.Element("mj-head")
        attributes = etree.SubElement(head, "mj-attributes")
        for tag, defaults in self.defaults.items():
            etree.SubElement(attributes, tag, defaults)
        for name, defaults in self.classes.items():
            etree.SubElement(attributes, "mj-class", {"name": name, **defaults})
        wrapped = element
        if element.tag not in {"mj-section", "mj-wrapper", "mj-hero"}:
            wrapped = etree.Element("mj-section", {"padding": "0"})
            etree.SubElement(wrapped, "mj-column").append(_copy(element))
        document = (
            "<mjml>" + etree.tostring(head, encoding="unicode") + "<mj-body>"
            + etree.tostring(_copy(wrapped), encoding="unicode", with_tail=False)
            + "</mj-body></mjml>"
        )  # fmt: skip
        match = BODY.search(render_mjml(document))
        return {"type": "html", "html": match.group(1).strip() if match else ""}

    def section(self, element) -> dict:
        attributes = self.attributes(element)
        if element.tag != "mj-section":
            block = self.rendered(element)
            return {"padding": "0", "columns": [{"blocks": [block]}]}
        columns = []
        for child in element:
            if not isinstance(child.tag, str):
                continue
            for column in [child] if child.tag == "mj-column" else child.iterfind("mj-column"):
                column_attributes = self.attributes(column)
                values = {
                    "width": column_attributes.get("width"),
                    "padding": column_attributes.get("padding"),
                    "background_color": column_attributes.get("background-color"),
                }
                blocks = [
                    block
                    for node in column
                    if isinstance(node.tag, str) and (block := self.block(node)) is not None
                ]
                columns.append({**_keep_valid(schema.COLUMN_SCHEMA, values), "blocks": blocks})
        if not columns:
            columns = [{"blocks": []}]
        values = {
            "background_color": attributes.get("background-color"),
            "padding": attributes.get("padding"),
            **_visibility(attributes),
        }
        return {
            **_keep_valid(schema.SECTION_SCHEMA, values),
            "columns": columns[: schema.MAX_COLUMNS],
        }


def _html_attributes(values: dict[str, str]) -> str:
    return "".join(f' {key}="{html.escape(value)}"' for key, value in values.items())


def _copy(element):
    return etree.fromstring(etree.tostring(element, with_tail=False))


def design_from_mjml(source: str) -> dict:
    """A normalised design for an MJML source; MjmlImportError if it cannot be read."""
    try:
        root = etree.fromstring(
            _numeric_entities(source).encode(),
            etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True),
        )
    except etree.XMLSyntaxError as error:
        raise MjmlImportError(str(error)) from error
    if root.tag != "mjml":
        raise MjmlImportError("not an MJML document")
    reader = _Reader(root)
    body = root.find("mj-body")
    body_attributes = reader.attributes(body) if body is not None else {}
    all_defaults = reader.defaults.get("mj-all", {})
    text_defaults = reader.defaults.get("mj-text", {})
    styles = _keep_valid(
        schema.STYLES_SCHEMA,
        {
            "font_family": _font(all_defaults.get("font-family")) or None,
            "text_color": text_defaults.get("color"),
            "background_color": body_attributes.get("background-color"),
            "width": _px(body_attributes.get("width")),
        },
    )
    sections = [
        reader.section(element)
        for element in (body if body is not None else [])
        if isinstance(element.tag, str)
    ]
    return schema.design_normalise({"styles": styles, "sections": sections[: schema.MAX_SECTIONS]})


def design_from_html(source: str) -> dict:
    """An HTML email as one raw block (its body: a body inside a body is not HTML)."""
    match = BODY.search(source)
    return schema.design_normalise(
        {
            "sections": [
                {
                    "padding": "0",
                    "columns": [
                        {
                            "blocks": [
                                {
                                    "type": "html",
                                    "html": (match.group(1) if match else source).strip(),
                                }
                            ]
                        }
                    ],
                }
            ]
        }
    )
