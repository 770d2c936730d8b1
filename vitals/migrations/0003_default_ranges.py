"""Every facility made before the flowsheet gets the starting normal ranges (the ones
vitals.services gives new facilities, frozen here as they were)."""

from decimal import Decimal

from django.db import migrations

STARTING_RANGES = [
    ("systolic_bp", "90", "160"),
    ("diastolic_bp", "50", "100"),
    ("pulse", "50", "110"),
    ("temperature", "96.0", "100.3"),
    ("respirations", "12", "24"),
    ("spo2", "92", "100"),
    ("blood_glucose", "70", "200"),
    ("pain", "0", "4"),
    ("weight", None, None),
]


def add_ranges(apps, schema_editor):
    Facility = apps.get_model("accounts", "Facility")
    VitalRange = apps.get_model("vitals", "VitalRange")
    VitalRange.objects.bulk_create(
        [
            VitalRange(
                facility=facility,
                kind=kind,
                low=Decimal(low) if low else None,
                high=Decimal(high) if high else None,
            )
            for facility in Facility.objects.all()
            for kind, low, high in STARTING_RANGES
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("vitals", "0002_flowsheet")]

    operations = [migrations.RunPython(add_ranges, migrations.RunPython.noop)]
