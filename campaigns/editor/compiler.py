"""A design (campaigns/editor/design.py) as MJML, then HTML with mrml like the gallery's.

Hiding per device is two classes and two media queries (MJML's breakpoint, 480 px): a section's
`css-class` lands on its outer div, a block's on the cell that holds it. Outlook on Windows reads
no media query, so a block hidden on desktop also carries `mso-hide: all`, which premailer inlines
at send time. The stylesheet stays in the <head> (premailer keeps style tags).
"""

from html import escape

from campaigns.gallery import render_mjml

HIDE_ON_MOBILE = "se-hide-mobile"
HIDE_ON_DESKTOP = "se-hide-desktop"
OUTLOOK_HIDE = "se-mso-hide"
MOBILE_BREAKPOINT = 480

VISIBILITY_CSS = f"""
      .{OUTLOOK_HIDE} {{ mso-hide: all; }}
      @media only screen and (max-width: {MOBILE_BREAKPOINT}px) {{
        .{HIDE_ON_MOBILE} {{ display: none !important; max-height: 0 !important; overflow: hidden !important; }}
      }}
      @media only screen and (min-width: {MOBILE_BREAKPOINT + 1}px) {{
        .{HIDE_ON_DESKTOP} {{ display: none !important; max-height: 0 !important; overflow: hidden !important; }}
      }}"""

SOCIAL_LABELS = {
    "facebook": "Facebook", "instagram": "Instagram", "linkedin": "LinkedIn", "twitter": "X",
    "youtube": "YouTube", "pinterest": "Pinterest", "tumblr": "Tumblr", "vimeo": "Vimeo",
    "github": "GitHub", "medium": "Medium", "snapchat": "Snapchat", "xing": "Xing",
    "dribbble": "Dribbble", "soundcloud": "SoundCloud",
}  # fmt: skip


def _attributes(values: dict[str, object]) -> str:
    return "".join(
        f' {name}="{escape(str(value), quote=True)}"'
        for name, value in values.items()
        if value not in ("", None)
    )


def visibility_classes(item: dict) -> str:
    classes = []
    if item.get("hide_on_mobile"):
        classes.append(HIDE_ON_MOBILE)
    if item.get("hide_on_desktop"):
        classes += [HIDE_ON_DESKTOP, OUTLOOK_HIDE]
    return " ".join(classes)


def _px(value) -> str:
    return f"{value}px" if value not in ("", None) else ""


def _padding(value: str) -> str:
    return " ".join(
        part if part.endswith("px") or part == "0" else f"{part}px" for part in value.split()
    )


def _block(block: dict, styles: dict) -> str:
    kind = block["type"]
    css_class = visibility_classes(block)
    if kind == "text":
        attributes = {
            "css-class": css_class,
            "font-family": block["font_family"],
            "font-size": _px(block["font_size"]),
            "line-height": block["line_height"],
            "color": block["color"] or styles["text_color"],
            "align": block["align"],
            "font-weight": "bold" if block["font_weight"] == "bold" else "",
            "letter-spacing": _px(block["letter_spacing"]) if block["letter_spacing"] else "",
            "padding": _padding(block["padding"]),
        }
        return f"<mj-text{_attributes(attributes)}>{block['html']}</mj-text>"
    if kind == "image":
        attributes = {
            "css-class": css_class,
            "src": block["src"],
            "alt": block["alt"],
            "href": block["href"],
            "width": _px(block["width"]),
            "align": block["align"],
            "padding": _padding(block["padding"]),
        }
        return f"<mj-image{_attributes(attributes)} />"
    if kind == "button":
        attributes = {
            "css-class": css_class,
            "href": block["href"],
            "background-color": block["background_color"],
            "color": block["color"],
            "border-radius": _px(block["border_radius"]),
            "font-family": block["font_family"],
            "font-size": _px(block["font_size"]),
            "font-weight": block["font_weight"],
            "align": block["align"],
            "padding": _padding(block["padding"]),
            "inner-padding": _padding(block["inner_padding"]),
        }
        return f"<mj-button{_attributes(attributes)}>{escape(block['label'])}</mj-button>"
    if kind == "divider":
        attributes = {
            "css-class": css_class,
            "border-color": block["color"],
            "border-width": _px(block["thickness"]),
            "padding": _padding(block["padding"]),
        }
        return f"<mj-divider{_attributes(attributes)} />"
    if kind == "spacer":
        return (
            f"<mj-spacer{_attributes({'css-class': css_class, 'height': _px(block['height'])})} />"
        )
    if kind == "social":
        elements = "".join(
            "<mj-social-element{}>{}</mj-social-element>".format(
                _attributes(
                    {
                        # "-noshare": the link is the marketer's page, not a share dialog.
                        "name": f"{item['network']}-noshare",
                        "href": item["href"],
                        "background-color": block["icon_color"],
                        "alt": SOCIAL_LABELS[item["network"]],
                    }
                ),
                "",
            )
            for item in block["items"]
        )
        attributes = {
            "css-class": css_class,
            "mode": "horizontal",
            "icon-size": _px(block["icon_size"]),
            "align": block["align"],
            "padding": _padding(block["padding"]),
        }
        return f"<mj-social{_attributes(attributes)}>{elements}</mj-social>"
    if kind == "cart":
        return _cart(block, styles, css_class)
    if kind == "html":
        # mj-raw takes no class: a wrapper carries the visibility.
        html = block["html"]
        if css_class:
            html = f'<div class="{css_class}">{html}</div>'
        return f"<mj-raw>{html}</mj-raw>"
    raise ValueError(kind)


CART_IMAGE_WIDTH = 64
CELL = "padding:6px 8px;vertical-align:middle"


def _cart(block: dict, styles: dict, css_class: str) -> str:
    """The cart's rows, repeated per message by merge_tags.expand_blocks from the `cart` merge
    context: only fixed item fields, each escaped at render time, so the block adds no logic
    and no markup of its own to the email. Without a cart, `empty_text` (or nothing) instead."""
    limit = block["max_items"]
    image_cell = (
        f'<td width="{CART_IMAGE_WIDTH + 8}" style="padding:6px 8px 6px 0;vertical-align:middle">'
        "<!--sendethic:if item.image_url-->"
        f'<img src="{{{{ item.image_url }}}}" alt="{{{{ item.name }}}}" width="{CART_IMAGE_WIDTH}"'
        f' style="display:block;width:{CART_IMAGE_WIDTH}px;height:auto;border:0" />'
        "<!--/sendethic:if--></td>"
        if block["show_images"]
        else ""
    )
    row = (
        f"<tr>{image_cell}"
        f'<td style="{CELL}">{{{{ item.name }}}}</td>'
        f'<td style="{CELL};white-space:nowrap">× {{{{ item.quantity }}}}</td>'
        f'<td align="right" style="{CELL};white-space:nowrap;padding-right:0">'
        "{{ item.price }} {{ cart.currency }}</td></tr>"
    )
    rows = f"<!--sendethic:repeat cart.items limit={limit}-->{row}<!--/sendethic:repeat-->"
    if block["total_label"]:
        span = 3 if block["show_images"] else 2
        rows += (
            f'<tr><td colspan="{span}" style="{CELL};border-top:1px solid #dddddd">'
            f"<strong>{escape(block['total_label'])}</strong></td>"
            f'<td align="right" style="{CELL};border-top:1px solid #dddddd;white-space:nowrap;'
            'padding-right:0"><strong>{{ cart.total }} {{ cart.currency }}</strong></td></tr>'
        )
    text_attributes = {
        "css-class": css_class,
        "font-family": block["font_family"],
        "font-size": _px(block["font_size"]),
        "color": block["color"] or styles["text_color"],
        "padding": _padding(block["padding"]),
    }
    parts = [
        "<mj-raw><!--sendethic:if cart.item_count--></mj-raw>",
        f"<mj-table{_attributes(text_attributes)}>{rows}</mj-table>",
    ]
    if block["label"]:
        button = {
            "css-class": css_class,
            "href": "{{ cart.url }}",
            "background-color": block["button_color"],
            "color": block["button_text_color"],
            "font-family": block["font_family"],
            "font-size": _px(block["font_size"]),
            "font-weight": "bold",
            "padding": _padding(block["padding"]),
        }
        parts.append(f"<mj-button{_attributes(button)}>{escape(block['label'])}</mj-button>")
    parts.append("<mj-raw><!--/sendethic:if--></mj-raw>")
    if block["empty_text"]:
        parts += [
            "<mj-raw><!--sendethic:unless cart.item_count--></mj-raw>",
            f"<mj-text{_attributes(text_attributes)}>{escape(block['empty_text'])}</mj-text>",
            "<mj-raw><!--/sendethic:unless--></mj-raw>",
        ]
    return "".join(parts)


def design_to_mjml(design: dict, *, title: str = "") -> str:
    """The MJML of a normalised design."""
    styles = design["styles"]
    sections = []
    for section in design["sections"]:
        columns = []
        for column in section["columns"]:
            attributes = {
                "width": column["width"],
                "padding": _padding(column["padding"]) if column["padding"] else "",
                "background-color": column["background_color"],
            }
            blocks = "\n        ".join(_block(block, styles) for block in column["blocks"])
            columns.append(
                f"<mj-column{_attributes(attributes)}>\n        {blocks}\n      </mj-column>"
            )
        attributes = {
            "css-class": visibility_classes(section),
            "background-color": section["background_color"] or styles["content_background"],
            "padding": _padding(section["padding"]),
        }
        sections.append(
            f"<mj-section{_attributes(attributes)}>\n      "
            + "\n      ".join(columns)
            + "\n    </mj-section>"
        )
    head = f"""  <mj-head>
    <mj-title>{escape(title)}</mj-title>
    <mj-preview>{{{{ preheader }}}}</mj-preview>
    <mj-attributes>
      <mj-all font-family="{escape(styles["font_family"], quote=True)}" />
      <mj-text color="{styles["text_color"]}" />
    </mj-attributes>
    <mj-style>
      a {{ color: {styles["link_color"]}; }}{VISIBILITY_CSS}
    </mj-style>
  </mj-head>"""
    body = "\n    ".join(sections)
    return (
        f'<mjml lang="fr">\n{head}\n  <mj-body background-color="{styles["background_color"]}"'
        f' width="{styles["width"]}px">\n    {body}\n  </mj-body>\n</mjml>\n'
    )


def design_to_html(design: dict, *, title: str = "") -> str:
    """The HTML of a normalised design, through mrml (offline, as the gallery's)."""
    return render_mjml(design_to_mjml(design, title=title))
