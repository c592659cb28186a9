"""Rich text of the editor's text blocks: what it may hold, and the sanitiser that enforces it
(nh3) every time a design comes in — it is shown in the app's own page, contenteditable."""

import nh3

# What rich text may hold: the toolbar's formats (bold, italic, underline, link, lists,
# alignment, colour) and what the gallery's texts use.
TEXT_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "s", "a", "ul", "ol", "li", "span", "div", "h1",
    "h2", "h3", "h4", "sup", "sub", "small",
}  # fmt: skip
TEXT_ATTRIBUTES = {"a": {"href", "title", "style"}, "*": {"style"}}
TEXT_STYLE_PROPERTIES = {
    "color", "background-color", "font-weight", "font-style", "font-size", "text-decoration",
    "text-align", "letter-spacing", "line-height",
}  # fmt: skip
URL_SCHEMES = {"http", "https", "mailto", "tel"}


def sanitise_text_html(html: str) -> str:
    """Rich text as the editor and the email may hold it: formats and links, no script, no
    event handler, no other URL scheme; merge tags pass through untouched."""
    return nh3.clean(
        html,
        tags=TEXT_TAGS,
        attributes=TEXT_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        filter_style_properties=TEXT_STYLE_PROPERTIES,
        link_rel=None,
        strip_comments=True,
    ).strip()
