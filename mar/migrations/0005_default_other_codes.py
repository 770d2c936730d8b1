from django.db import migrations

DEFAULT_OTHER_CODES = [
    ("asleep", "Asleep"),
    ("out", "Out of facility"),
    ("vomited", "Vomited"),
    ("npo", "NPO (nothing by mouth)"),
    ("unable", "Unable to swallow"),
]


def add_defaults(apps, schema_editor):
    Facility = apps.get_model("accounts", "Facility")
    OtherCode = apps.get_model("mar", "OtherCode")
    OtherCode.objects.bulk_create(
        [
            OtherCode(facility=facility, code=code, label=label)
            for facility in Facility.objects.all()
            for code, label in DEFAULT_OTHER_CODES
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("mar", "0004_administration_administrationevent_amendment_and_more")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
