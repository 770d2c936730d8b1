"""Build the demo facilities, staff and residents. Safe to run again: fills in what is missing."""

import os

import pghistory
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo import build
from demo.appointments import seed_appointments
from demo.care import seed_care
from demo.conditions import seed_conditions
from demo.handoff import seed_handoff
from demo.history import record_history
from demo.incidents import seed_incidents
from demo.people import login_lines
from demo.pharmacy import seed_pharmacy
from demo.vitals import seed_vitals
from mar.models import DoseState, ScheduledDose
from mar.services import alerts_raise_followups, doses_generate, doses_mark_overdue


class Command(BaseCommand):
    help = "Create the demo facilities, staff and residents (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG=False (never in production)."
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates demo logins; it refuses with DEBUG=False.")
        password = settings.DEMO_PASSWORD or os.environ.get("DEMO_PASSWORD")
        if not password:
            raise CommandError("Set DEMO_PASSWORD to seed demo logins outside demo mode.")
        self.say("demo: facilities, staff, residents and their orders")
        with transaction.atomic(), pghistory.context(command="seed_demo"):
            facilities = build.ensure_facilities()
            staff = build.ensure_staff(facilities, password)
            created = build.admit_residents(facilities, staff)
            build.add_medications()
            orders = build.write_orders(facilities, staff)
        # The weeks before today first, then today's deliveries and count: the ledgers then read
        # in time order, as a paper count book would.
        history = record_history(facilities, staff, password, report=self.say)
        if history:
            for message, times in history.failures.most_common(5):
                self.stderr.write(f"History: {times} × {message}")
            self.stdout.write(self.style.SUCCESS(history.message()))
        with pghistory.context(command="seed_demo"):
            cared = seed_care(facilities, staff, report=self.say)
        if cared:
            self.stdout.write(self.style.SUCCESS(f"Care: {cared} care tasks documented."))
        self.say("demo: 35 days of vital signs")
        with pghistory.context(command="seed_demo"):
            readings = seed_vitals(facilities, staff)
        if readings:
            self.stdout.write(self.style.SUCCESS(f"Vitals: {readings} readings recorded."))
        with pghistory.context(command="seed_demo"):
            seed_conditions(facilities, staff)
            seed_incidents(facilities, staff)
            seed_appointments(facilities, staff)
            seed_pharmacy(facilities, staff)
        self.say("demo: today's deliveries, doses and alerts")
        with transaction.atomic(), pghistory.context(command="seed_demo"):
            stocked = build.deliver_todays_stock(facilities, staff, password)
            build.ensure_carts(facilities, staff)
        with pghistory.context(command="seed_demo"):
            handed = seed_handoff(facilities, staff, password)
        if handed:
            self.stdout.write(
                self.style.SUCCESS(f"Shift reports: {handed} submitted and acknowledged.")
            )
        # Today's doses, what is overdue now, and the alerts over the whole history.
        doses = doses_generate()
        doses_mark_overdue()
        alerts_raise_followups()
        overdue = ScheduledDose.objects.filter(state=DoseState.OVERDUE).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {len(facilities)} facilities, {len(staff)} staff, "
                f"{created} residents and {orders} orders added, {stocked} supplies stocked; "
                f"{doses} doses scheduled, "
                f"{overdue} doses overdue now."
            )
        )
        for line in login_lines(password):
            self.stdout.write(line)

    def say(self, line: str) -> None:
        """A progress line, out at once (`make run` shows them while the demo is built)."""
        self.stdout.write(line)
        self.stdout.flush()
