"""The vital readings move to the vitals app, keeping their ids and their audit trail.

`vitals.VitalReading` cannot point up at a med pass record, so the link moves here: each
reading's `administration_id` becomes a row of `Administration.readings`. The readings are copied
with the same ids (the new sequence moved past them) and a source (`med_pass` where a record
named them, else `flowsheet`); their audit events are copied to the new event table with the
same `pgh_id`, `pgh_obj_id`, context and time, so the trail keeps them. The copy's INSERT must
not look like a new event: the insert trigger of the table written is told to ignore it
(`pgtrigger.ignore`, which the library's and core.audit_functions' versions both read; ALTER
TABLE ... DISABLE TRIGGER is refused once the INSERT has left foreign-key checks pending).

The old tables are removed by the next migration. Backwards, the readings, their links and
events go back to mar's tables (a reading linked to more than one record keeps the first).
"""

from django.db import migrations, models

FORWARD = """
SELECT set_config('pgtrigger.ignore', '{pgtrigger_insert_insert_c4778}', true);
-- The insert trigger of vitals_vitalreading (vitals 0001) writes no event for the copy.
INSERT INTO vitals_vitalreading (id, resident_id, kind, value, taken_at, taken_by_id, source)
    SELECT id, resident_id, kind, value, taken_at, taken_by_id,
           CASE WHEN administration_id IS NULL THEN 'flowsheet' ELSE 'med_pass' END
    FROM mar_vitalreading ORDER BY id;
SELECT set_config('pgtrigger.ignore', '{}', true);
SELECT setval(
    pg_get_serial_sequence('vitals_vitalreading', 'id'),
    COALESCE((SELECT max(id) FROM vitals_vitalreading), 0) + 1,
    false
);

INSERT INTO mar_administration_readings (administration_id, vitalreading_id)
    SELECT administration_id, id FROM mar_vitalreading
    WHERE administration_id IS NOT NULL ORDER BY id;

INSERT INTO vitals_vitalreadingevent (
    pgh_id, pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id,
    id, resident_id, kind, value, taken_at, taken_by_id, source
)
    SELECT pgh_id, pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id,
           id, resident_id, kind, value, taken_at, taken_by_id,
           CASE WHEN administration_id IS NULL THEN 'flowsheet' ELSE 'med_pass' END
    FROM mar_vitalreadingevent ORDER BY pgh_id;
SELECT setval(
    pg_get_serial_sequence('vitals_vitalreadingevent', 'pgh_id'),
    COALESCE((SELECT max(pgh_id) FROM vitals_vitalreadingevent), 0) + 1,
    false
);
"""

BACKWARD = """
SELECT set_config('pgtrigger.ignore', '{pgtrigger_insert_insert_028fd}', true);
-- The insert trigger of mar_vitalreading (mar 0004) writes no event for the copy.
INSERT INTO mar_vitalreading (id, resident_id, kind, value, taken_at, taken_by_id, administration_id)
    SELECT r.id, r.resident_id, r.kind, r.value, r.taken_at, r.taken_by_id,
           (SELECT min(l.administration_id) FROM mar_administration_readings l
            WHERE l.vitalreading_id = r.id)
    FROM vitals_vitalreading r ORDER BY r.id;
SELECT set_config('pgtrigger.ignore', '{}', true);
SELECT setval(
    pg_get_serial_sequence('mar_vitalreading', 'id'),
    COALESCE((SELECT max(id) FROM mar_vitalreading), 0) + 1,
    false
);

INSERT INTO mar_vitalreadingevent (
    pgh_id, pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id,
    id, resident_id, kind, value, taken_at, taken_by_id, administration_id
)
    SELECT e.pgh_id, e.pgh_created_at, e.pgh_label, e.pgh_obj_id, e.pgh_context_id,
           e.id, e.resident_id, e.kind, e.value, e.taken_at, e.taken_by_id,
           (SELECT min(l.administration_id) FROM mar_administration_readings l
            WHERE l.vitalreading_id = e.id)
    FROM vitals_vitalreadingevent e ORDER BY e.pgh_id;
SELECT setval(
    pg_get_serial_sequence('mar_vitalreadingevent', 'pgh_id'),
    COALESCE((SELECT max(pgh_id) FROM mar_vitalreadingevent), 0) + 1,
    false
);

TRUNCATE mar_administration_readings, vitals_vitalreading, vitals_vitalreadingevent;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("mar", "0015_autovacuum_open_rows"),
        ("vitals", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="administration",
            name="readings",
            field=models.ManyToManyField(blank=True, related_name="+", to="vitals.vitalreading"),
        ),
        migrations.RunSQL(FORWARD, reverse_sql=BACKWARD),
    ]
