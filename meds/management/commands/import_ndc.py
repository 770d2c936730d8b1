"""manage.py import_ndc FILE [FILE]: the FDA NDC directory into the medication catalog."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from meds.ndc_import import DirectoryFileError, ndc_directory_import


class Command(BaseCommand):
    help = (
        "Load the FDA NDC directory (product.txt and package.txt, or the ndctext.zip holding "
        "them) into the medication catalog. Safe to run again: unchanged rows stay as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "files", nargs="+", type=Path, help="product.txt, package.txt, or ndctext.zip"
        )

    def handle(self, *args, files, **options):
        try:
            report = ndc_directory_import(paths=files)
        except DirectoryFileError as error:
            raise CommandError(f"{error} Nothing was imported.") from None
        for line in report.lines():
            self.stdout.write(line)
