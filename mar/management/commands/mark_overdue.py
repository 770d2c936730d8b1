from django.core.management.base import BaseCommand

from mar.services import doses_mark_overdue


class Command(BaseCommand):
    help = "Move doses past their window to overdue / missed and raise alerts (beat: every min)."

    def handle(self, *args, **options):
        counts = doses_mark_overdue()
        self.stdout.write(
            self.style.SUCCESS(f"{counts['overdue']} now overdue, {counts['missed']} now missed.")
        )
