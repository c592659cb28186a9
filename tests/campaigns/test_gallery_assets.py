"""The starter templates show the platform's own pictures and icons (never hot-linked), and each
has an up-to-date thumbnail drawn from it."""

import re

import pytest

from campaigns.gallery import gallery, raw_template_source, render_mjml, template_source
from campaigns.thumbnails import STATIC_DIR, read_manifest, source_digest

IMAGE_URL = re.compile(r'(?:src|background)="([^"]+)"|url\(\'?([^\')]+)\'?\)')
SLUGS = [template.slug for template in gallery()]


@pytest.mark.parametrize("slug", SLUGS)
def test_pictures_and_icons_are_served_by_the_platform(slug, settings):
    settings.PUBLIC_BASE_URL = "https://app.sendethic.example"
    html = render_mjml(template_source(slug))
    images = {a or b for a, b in IMAGE_URL.findall(html)}
    images = {url for url in images if url.endswith((".jpg", ".png", ".gif", ".svg", ".webp"))}
    assert images, "a template with no picture at all?"
    base = "https://app.sendethic.example/static/"
    assert {url for url in images if not url.startswith(base)} == set()
    for url in images:  # each one is a file the platform serves
        assert (STATIC_DIR / url.removeprefix(base)).is_file(), url
    # the social icons too, not mjml's default icons on a third-party host
    assert "/emails/social/" in html
    assert "mailjet.com" not in html and "images.example.com" not in html


def test_an_absolute_static_url_is_used_as_it_is(settings):
    settings.STATIC_URL = "https://cdn.sendethic.example/static/"
    assert "https://cdn.sendethic.example/static/emails/gallery/" in template_source(
        "commerce-promotion"
    )


@pytest.mark.parametrize("slug", SLUGS)
def test_each_thumbnail_was_drawn_from_the_current_template(slug):
    entry = read_manifest()[slug]
    assert (STATIC_DIR / entry["file"]).is_file()
    # A template or one of its pictures changed since: run `manage.py gallery_thumbnails`.
    assert entry["source_sha256"] == source_digest(slug)


def test_the_digest_follows_the_template_and_its_pictures(monkeypatch):
    before = source_digest("commerce-promotion")
    source = raw_template_source("commerce-promotion")
    monkeypatch.setattr(
        "campaigns.thumbnails.raw_template_source",
        lambda slug: source.replace("-30&nbsp;%", "-40&nbsp;%"),
    )
    assert source_digest("commerce-promotion") != before
