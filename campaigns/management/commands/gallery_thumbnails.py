"""Draw the gallery's thumbnails from the templates (headless Chromium); commit the result."""

from django.core.management.base import BaseCommand

from campaigns.thumbnails import CHROMIUM, THUMBNAILS_DIR, build_gallery_thumbnails


class Command(BaseCommand):
    help = "Render each starter template and save its thumbnail under static/emails/thumbnails/."

    def add_arguments(self, parser):
        parser.add_argument("--chromium", default=CHROMIUM, help="the Chromium executable")

    def handle(self, *args, chromium, **options):
        written = build_gallery_thumbnails(chromium=chromium)
        self.stdout.write(f"{len(written)} thumbnails in {THUMBNAILS_DIR}")
