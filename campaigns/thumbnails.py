"""Thumbnails of the starter templates, rendered from the templates themselves.

Made at build time (`manage.py gallery_thumbnails`, headless Chromium) and committed under
`static/emails/thumbnails/`, rather than rendered at the first request: the web container then
needs no browser, the gallery page costs nothing more than a static image, and every server shows
the same pictures. What keeps them honest is the manifest: for each template it records a digest
of what the thumbnail was drawn from (the MJML file and the pictures it shows), and a test fails
as soon as a template or picture changes without its thumbnail being drawn again.
"""

import hashlib
import json
import re
import tempfile
from pathlib import Path

from django.conf import settings

from campaigns import merge_tags
from campaigns.gallery import STATIC_PLACEHOLDER, gallery, raw_template_source, render_mjml

STATIC_DIR = Path(settings.BASE_DIR) / "static"
THUMBNAILS_DIR = STATIC_DIR / "emails" / "thumbnails"
MANIFEST = THUMBNAILS_DIR / "manifest.json"
# The top of a 600 px email, drawn at half size: what a reader sees first.
VIEWPORT = {"width": 600, "height": 800}
SCALE = 0.5
CHROMIUM = "/usr/bin/chromium"
# Merge tags shown as a reader would see them: a brand, and each tag's own default wording.
SAMPLE_VALUES = {
    "account.name": "Votre marque",
    "account.postal_address": "12 rue des Lilas, 69001 Lyon",
}
STATIC_REFERENCE = re.compile(re.escape(STATIC_PLACEHOLDER) + r"/([\w./-]+)")


def source_digest(slug: str) -> str:
    """SHA-256 of the template's file and of every picture it shows."""
    source = raw_template_source(slug)
    digest = hashlib.sha256(source.encode())
    for name in sorted(set(STATIC_REFERENCE.findall(source))):
        digest.update(name.encode())
        digest.update((STATIC_DIR / name).read_bytes())
    return digest.hexdigest()


def read_manifest() -> dict:
    return json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}


def render_thumbnails(
    sources: dict[str, str], output_dir: Path, *, browser=None, chromium: str = CHROMIUM
) -> dict[str, Path]:
    """Draw each MJML source ({name: source}) as `<name>.jpg` in `output_dir`, pictures read
    from static/ on disk; returns the files written. `browser`: a Playwright browser already
    running (else Chromium is started for the job)."""
    if browser is None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                return render_thumbnails(sources, output_dir, browser=browser)
            finally:
                browser.close()

    output_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=SCALE)
    # Nothing leaves the machine: pictures come from disk, anything else is refused.
    context.route("**/*", _local_only)
    page = context.new_page()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for name, source in sources.items():
                html = render_mjml(source.replace(STATIC_PLACEHOLDER, STATIC_DIR.as_uri()))
                html = merge_tags.render(html, SAMPLE_VALUES, escape=True)
                document = Path(scratch) / f"{name}.html"
                document.write_text(html, encoding="utf-8")
                page.goto(document.as_uri(), wait_until="load")
                target = output_dir / f"{name}.jpg"
                page.screenshot(path=str(target), type="jpeg", quality=80)
                written[name] = target
    finally:
        context.close()
    return written


def _local_only(route):
    if route.request.url.startswith("file://"):
        route.continue_()
    else:
        route.abort()


def build_gallery_thumbnails(*, chromium: str = CHROMIUM) -> dict[str, Path]:
    """Draw every template's thumbnail into static/ and write the manifest."""
    templates = gallery()
    written = render_thumbnails(
        {t.slug: raw_template_source(t.slug) for t in templates}, THUMBNAILS_DIR, chromium=chromium
    )
    manifest = {
        t.slug: {"file": t.thumbnail, "source_sha256": source_digest(t.slug)} for t in templates
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return written
