"""Vacuum the care task table after 0.5% of its rows change (see mar 0015): documented tasks
leave the sweep's partial index quickly."""

from django.db import migrations

SETTINGS = "autovacuum_vacuum_scale_factor = 0.005, autovacuum_analyze_scale_factor = 0.01"


class Migration(migrations.Migration):
    dependencies = [("care", "0002_care_record_amendments")]

    operations = [
        migrations.RunSQL(
            f"ALTER TABLE care_caretask SET ({SETTINGS})",
            "ALTER TABLE care_caretask RESET "
            "(autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor)",
        )
    ]
