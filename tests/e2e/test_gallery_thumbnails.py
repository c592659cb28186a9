"""Gallery thumbnails come from the templates themselves: drawing a template again gives the
committed picture, a change to the template shows in its thumbnail, and the gallery page shows
them (loaded, described) at desktop and phone widths."""

import pytest
from PIL import Image, ImageChops, ImageStat

from campaigns.gallery import gallery, raw_template_source
from campaigns.thumbnails import STATIC_DIR, render_thumbnails

pytestmark = pytest.mark.e2e


def difference(a, b) -> float:
    """Mean absolute difference of two pictures, 0 (same) to 255."""
    with Image.open(a) as first, Image.open(b) as second:
        diff = ImageChops.difference(first.convert("RGB"), second.convert("RGB"))
        return sum(ImageStat.Stat(diff).mean) / 3


def share_of(path, colour, tolerance=40) -> float:
    with Image.open(path) as picture:
        data = picture.convert("RGB").tobytes()
    pixels = [tuple(data[i : i + 3]) for i in range(0, len(data), 3)]
    near = [
        p for p in pixels if all(abs(c - t) <= tolerance for c, t in zip(p, colour, strict=True))
    ]
    return len(near) / len(pixels)


@pytest.fixture(scope="module")
def drawn(tmp_path_factory, browser):
    """The real commerce template drawn again, and the same with its accent colour turned green."""
    source = raw_template_source("commerce-promotion")
    assert "#ff5a4e" in source
    return render_thumbnails(
        {"again": source, "green": source.replace("#ff5a4e", "#00c800")},
        tmp_path_factory.mktemp("thumbnails"),
        browser=browser,
    )


def test_drawing_the_template_again_gives_the_committed_thumbnail(drawn):
    committed = STATIC_DIR / "emails/thumbnails/commerce-promotion.jpg"
    other = STATIC_DIR / "emails/thumbnails/tourisme-promotion.jpg"
    assert difference(drawn["again"], committed) < 6  # JPEG and font rendering noise only
    assert difference(committed, other) > 25  # while another template is far away


def test_a_change_to_the_template_shows_in_its_thumbnail(drawn):
    assert share_of(drawn["again"], (0, 200, 0)) < 0.001
    assert share_of(drawn["green"], (0, 200, 0)) > 0.02  # the banner and button turned green
    assert difference(drawn["again"], drawn["green"]) > 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "viewport", [{"width": 1366, "height": 768}, {"width": 390, "height": 844}]
)
def test_gallery_page_shows_every_thumbnail(logged_in_page, viewport):
    page = logged_in_page
    page.set_viewport_size(viewport)
    page.goto("/email/new/")
    cards = page.get_by_test_id("gallery-template")
    assert cards.count() == len(gallery())
    for index in range(cards.count()):
        thumbnail = cards.nth(index).locator("img.gallery-thumbnail")
        thumbnail.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth === 300", arg=thumbnail.element_handle()
        )
        assert thumbnail.get_attribute("alt").startswith("Aperçu du modèle")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
