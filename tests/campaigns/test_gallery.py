import logging
import re
import socket

import premailer
import pytest

from campaigns.gallery import (
    GALLERY_DIR,
    OBJECTIVES,
    UNIVERSES,
    MjmlError,
    gallery,
    gallery_template,
    render_mjml,
    template_source,
)

SLUGS = [template.slug for template in gallery()]
ALLOWED_TAGS = {
    "contact_ref",
    "first_name",
    "last_name",
    "email",
    "salutation",
    "city",
    "company",
    "account.name",
    "account.postal_address",
    "preheader",
    "unsubscribe_url",
    "view_in_browser_url",
}
TAG_LIKE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
MERGE_TAG = re.compile(r'\{\{ (?P<name>[a-z_][a-z0-9_.]*)(?: \| default:"[^"]*")? \}\}')
MOBILE_QUERY = "@media only screen and (max-width: 480px)"
DESKTOP_QUERY = "@media only screen and (min-width: 481px)"


def _premailer(html):
    return premailer.Premailer(
        html,
        allow_network=False,
        keep_style_tags=True,
        remove_classes=False,
        cssutils_logging_level=logging.CRITICAL,
    ).transform()


def test_gallery_covers_every_universe_and_objective():
    templates = gallery()

    assert len(templates) >= 8
    assert {t.universe for t in templates} == set(UNIVERSES)
    assert {t.objective for t in templates} == set(OBJECTIVES)


def test_gallery_lists_exactly_the_template_files():
    files = {path.stem for path in GALLERY_DIR.glob("*.mjml")}

    assert set(SLUGS) == files
    assert len(SLUGS) == len(files)


def test_gallery_is_sorted_by_universe_then_objective():
    order = [
        (list(UNIVERSES).index(t.universe), list(OBJECTIVES).index(t.objective)) for t in gallery()
    ]

    assert order == sorted(order)


@pytest.mark.parametrize("slug", SLUGS)
def test_gallery_template_describes_its_file(slug):
    template = gallery_template(slug)

    assert template.slug == f"{template.universe}-{template.objective}"
    assert template.name == f"{OBJECTIVES[template.objective]} — {UNIVERSES[template.universe]}"
    assert template.description.endswith(".")


@pytest.mark.parametrize("slug", ["inconnu", "commerce-soldes", "../../sendethic/settings"])
def test_unknown_slug_raises_key_error(slug):
    with pytest.raises(KeyError):
        gallery_template(slug)
    with pytest.raises(KeyError):
        template_source(slug)


@pytest.mark.parametrize("slug", SLUGS)
def test_template_uses_only_project_merge_tags(slug):
    source = template_source(slug)

    for piece in TAG_LIKE.findall(source):
        match = MERGE_TAG.fullmatch(piece)
        assert match, f"not a merge tag of the project's syntax: {piece}"
        assert match["name"] in ALLOWED_TAGS, piece
    assert "<mj-font" not in source
    assert "<mj-include" not in source


@pytest.mark.parametrize("slug", SLUGS)
def test_template_renders_without_warnings(slug, caplog):
    with caplog.at_level(logging.WARNING, logger="campaigns.gallery"):
        html = render_mjml(template_source(slug))

    assert html.startswith("<!doctype html>")
    assert caplog.records == []


def test_mjml_warnings_are_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="campaigns.gallery"):
        render_mjml('<mjml unknown="1"><mj-body></mj-body></mjml>')

    assert [record.getMessage() for record in caplog.records] == [
        "MJML unexpected-attribute at characters 6-17"
    ]


@pytest.mark.parametrize("slug", SLUGS)
def test_rendered_template_has_every_required_part(slug):
    html = render_mjml(template_source(slug))

    assert '<html lang="fr"' in html
    assert re.search(r'<div style="display:none;[^"]*">\{\{ preheader \}\}</div>', html)
    assert "{{ account.name }}" in html
    assert 'href="{{ unsubscribe_url }}"' in html
    assert 'href="{{ view_in_browser_url }}"' in html
    assert "{{ account.postal_address }}" in html
    # pictures served by the platform (tests/campaigns/test_gallery_assets.py checks them all)
    assert re.search(r'<img [^>]*src="http[^"]+/static/emails/gallery/[\w-]+\.jpg"', html)
    assert '{{ first_name | default:"' in html
    assert '<a href="https://' in html
    for network in ("facebook", "linkedin", "instagram"):
        assert re.search(rf'href="https://www\.{network}\.com/[^"]*"', html)
    assert 'class="hide-on-mobile"' in html
    assert 'class="hide-on-desktop"' in html
    assert MOBILE_QUERY in html
    assert DESKTOP_QUERY in html


@pytest.mark.parametrize("slug", SLUGS)
def test_rendered_template_loads_no_remote_css_or_font(slug):
    html = render_mjml(template_source(slug))

    assert "fonts.googleapis" not in html
    assert "<link" not in html
    assert "@import" not in html
    assert "@font-face" not in html
    # mrml's default font would be Ubuntu: each template sets its own web-safe stack.
    assert "Ubuntu" not in html


@pytest.mark.parametrize("slug", SLUGS)
def test_merge_tags_in_hrefs_survive_rendering_byte_for_byte(slug):
    source = template_source(slug)
    hrefs = {href for href in re.findall(r'href="([^"]*)"', source) if "{{" in href}

    html = render_mjml(source)

    assert {"{{ unsubscribe_url }}", "{{ view_in_browser_url }}"} <= hrefs
    for href in hrefs:
        assert f'href="{href}"' in html
    assert "%7B" not in html
    assert "%20" not in html


@pytest.mark.parametrize(
    "source",
    [
        "",
        "pas du mjml",
        "<mjml><mj-body><mj-section><mj-column></mj-section></mj-body></mjml>",
        "<mjml><mj-body><mj-section><mj-column><mj-text>a</mj-column></mj-section></mj-body>",
        '<mjml><mj-body><mj-button href="x?a="{{ email }}"">a</mj-button></mj-body></mjml>',
        "<mjml><mj-head><mj-inconnu /></mj-head><mj-body></mj-body></mjml>",
    ],
)
def test_invalid_mjml_raises_mjml_error(source):
    with pytest.raises(MjmlError) as raised:
        render_mjml(source)

    assert isinstance(raised.value, ValueError)
    assert str(raised.value)


def test_mj_include_is_never_loaded(tmp_path):
    included = tmp_path / "part.mjml"
    included.write_text("<mj-section><mj-column><mj-text>secret</mj-text></mj-column></mj-section>")

    with pytest.raises(MjmlError, match="unable to load included template"):
        render_mjml(f'<mjml><mj-body><mj-include path="{included}" /></mj-body></mjml>')
    with pytest.raises(MjmlError, match="unable to load included template"):
        render_mjml(
            '<mjml><mj-body><mj-include path="https://example.com/a.mjml" /></mj-body></mjml>'
        )


def test_rendering_makes_no_network_access(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("rendering tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)

    for slug in SLUGS:
        _premailer(render_mjml(template_source(slug)))


def test_premailer_url_encodes_the_spaces_of_merge_tags_in_hrefs():
    # Documents premailer as it is (DESIGN §5): lxml's serializer escapes the spaces of href and
    # src values, so `{{ email }}` becomes `{{%20email%20}}`; braces and text nodes are untouched.
    # The send pipeline protects merge tags before inlining rather than relying on this.
    html = render_mjml(template_source("commerce-promotion"))

    inlined = _premailer(html)

    assert 'href="{{%20unsubscribe_url%20}}"' in inlined
    assert 'href="{{%20view_in_browser_url%20}}"' in inlined
    assert 'href="https://shop.example.com/ventes-privees?ref={{%20contact_ref%20}}"' in inlined
    assert 'href="{{ unsubscribe_url }}"' not in inlined
    assert "{{ account.postal_address }}" in inlined
    assert 'Bonjour {{ first_name | default:"cher client" }},' in inlined


@pytest.mark.parametrize("slug", SLUGS)
def test_visibility_classes_survive_premailer(slug):
    # premailer inlines plain rules and strips !important from the style tags it keeps: hiding
    # rules that live only in media queries stay where they are and keep working.
    inlined = _premailer(render_mjml(template_source(slug)))

    assert MOBILE_QUERY in inlined
    assert DESKTOP_QUERY in inlined
    for tag in re.findall(r'<div class="hide-on-(?:mobile|desktop)"[^>]*>', inlined):
        assert "display:none" not in tag.replace(" ", "")


@pytest.mark.e2e
@pytest.mark.parametrize("inline_css", [False, True], ids=["mjml", "premailer"])
def test_blocks_are_hidden_on_mobile_or_on_desktop(browser, inline_css):
    context = browser.new_context()
    context.route("**/*", lambda route: route.abort())
    page = context.new_page()
    try:
        for slug in SLUGS:
            html = render_mjml(template_source(slug))
            if inline_css:
                html = _premailer(html)
            page.set_content(html)
            for width, hidden, shown in [
                (700, ".hide-on-desktop", ".hide-on-mobile"),
                (375, ".hide-on-mobile", ".hide-on-desktop"),
            ]:
                page.set_viewport_size({"width": width, "height": 900})
                assert page.locator(hidden).count() >= 1, slug
                assert page.locator(shown).count() >= 1, slug
                for block in page.locator(hidden).all():
                    assert block.is_hidden(), f"{slug} at {width}px: {hidden}"
                for block in page.locator(shown).all():
                    assert block.is_visible(), f"{slug} at {width}px: {shown}"
    finally:
        context.close()
