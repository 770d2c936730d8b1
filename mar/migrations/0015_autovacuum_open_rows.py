"""Vacuum the dose and alert tables after 0.5% of their rows change, not PostgreSQL's default
20%: documented doses must leave the partial indexes on open doses quickly, or every sweep and
board reads the dead entries (bench/fleet.py: at 50 million doses the default waits days)."""

from django.db import migrations

TABLES = ("mar_scheduleddose", "mar_alert")
SETTINGS = "autovacuum_vacuum_scale_factor = 0.005, autovacuum_analyze_scale_factor = 0.01"


class Migration(migrations.Migration):
    dependencies = [("mar", "0014_care_alerts")]

    operations = [
        migrations.RunSQL(
            [f"ALTER TABLE {table} SET ({SETTINGS})" for table in TABLES],
            [
                f"ALTER TABLE {table} RESET "
                "(autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor)"
                for table in TABLES
            ],
        )
    ]
