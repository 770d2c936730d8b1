"""The staff audit trail finds a person's audit contexts by the user the middleware recorded in
them (`metadata->>'user'`): an index on it, with the context's creation time (a context is
written before its first event, so the trail's period bounds it). The context table is
django-pghistory's; no model of ours declares it, hence SQL."""

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY: the audit triggers keep writing meanwhile

    dependencies = [
        ("reports", "0001_initial"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS pghistory_context_user_created_idx "
            "ON pghistory_context ((metadata ->> 'user'), created_at)",
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS pghistory_context_user_created_idx",
        ),
    ]
