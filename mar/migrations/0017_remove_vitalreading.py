"""mar's VitalReading and its event table go: their rows are in the vitals app (0016).

The triggers are removed by name first, so that going back re-creates them, and their functions
are dropped (removing a table drops its triggers but not the functions they ran).
"""

import pgtrigger.migrations
from django.db import migrations

TRIGGERS = [
    ("vitalreading", "vital_append_only", "pgtrigger_vital_append_only_82a5c"),
    ("vitalreading", "insert_insert", "pgtrigger_insert_insert_028fd"),
    ("vitalreading", "update_update", "pgtrigger_update_update_59583"),
    ("vitalreading", "delete_delete", "pgtrigger_delete_delete_3ec29"),
    ("vitalreadingevent", "append_only", "pgtrigger_append_only_0ec41"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("mar", "0016_vital_readings_to_vitals"),
    ]

    operations = [
        *(
            pgtrigger.migrations.RemoveTrigger(model_name=model, name=name)
            for model, name, _pgid in TRIGGERS
        ),
        migrations.RunSQL(
            "".join(f"DROP FUNCTION IF EXISTS {pgid}();" for _model, _name, pgid in TRIGGERS),
            # Going back, RemoveTrigger re-creates each function with its trigger.
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RemoveField(model_name="vitalreadingevent", name="pgh_obj"),
        migrations.RemoveField(model_name="vitalreadingevent", name="administration"),
        migrations.RemoveField(model_name="vitalreadingevent", name="pgh_context"),
        migrations.RemoveField(model_name="vitalreadingevent", name="resident"),
        migrations.RemoveField(model_name="vitalreadingevent", name="taken_by"),
        migrations.DeleteModel(name="VitalReading"),
        migrations.DeleteModel(name="VitalReadingEvent"),
    ]
