"""Facilities made before the care app have no care level table, so their assessments would
score to no level: give each the starting table (the one care.catalog gives new facilities,
frozen here as it was)."""

from django.db import migrations

STARTING_LEVELS = [
    (0, "Level 1 — independent"),
    (8, "Level 2 — some help"),
    (18, "Level 3 — high"),
]


def add_levels(apps, schema_editor):
    Facility = apps.get_model("accounts", "Facility")
    CareLevel = apps.get_model("care", "CareLevel")
    without = Facility.objects.exclude(pk__in=CareLevel.objects.values("facility_id"))
    CareLevel.objects.bulk_create(
        CareLevel(facility=facility, lowest_score=lowest, name=name)
        for facility in without
        for lowest, name in STARTING_LEVELS
    )


class Migration(migrations.Migration):
    dependencies = [("care", "0003_autovacuum_open_rows")]

    operations = [migrations.RunPython(add_levels, migrations.RunPython.noop)]
