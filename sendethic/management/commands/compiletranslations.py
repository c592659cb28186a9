from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


def compile_catalogs(locale_dirs) -> list[Path]:
    """Write a .mo next to every .po (pure Python: no GNU gettext needed on the machine)."""
    written = []
    for locale_dir in locale_dirs:
        for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
            mo_path = po_path.with_suffix(".mo")
            polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
            written.append(mo_path)
    return written


class Command(BaseCommand):
    help = "Compile the .po translation catalogs to .mo files with polib."

    def handle(self, *args, **options):
        for mo_path in compile_catalogs(settings.LOCALE_PATHS):
            self.stdout.write(f"compiled {mo_path}")
