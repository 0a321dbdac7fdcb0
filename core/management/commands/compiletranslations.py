from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Compile the project's .po files to .mo with Babel, so setup needs no GNU gettext. "
        "Fuzzy entries are left out, as msgfmt does."
    )

    def handle(self, *args, **options):
        compiled = 0
        for locale_dir in map(Path, settings.LOCALE_PATHS):
            for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                try:
                    with po_path.open("rb") as po_file:
                        catalog = read_po(
                            po_file, locale=po_path.parent.parent.name, abort_invalid=True
                        )
                except (OSError, ValueError, PoFileError) as error:
                    raise CommandError(f"{po_path}: {error}", returncode=2) from None
                with mo_path.open("wb") as mo_file:
                    write_mo(mo_file, catalog, use_fuzzy=False)
                compiled += 1
        self.stdout.write(f"Compiled {compiled} message catalogue(s).")
