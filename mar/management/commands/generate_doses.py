from django.core.management.base import BaseCommand

from mar.services import doses_generate


class Command(BaseCommand):
    help = "Materialize scheduled doses for the next 48 hours (what the beat does every 15 min)."

    def handle(self, *args, **options):
        added = doses_generate()
        self.stdout.write(self.style.SUCCESS(f"{added} doses added."))
