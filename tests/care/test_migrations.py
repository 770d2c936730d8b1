"""A facility made before the care app gets the starting care level table on upgrade."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from care.catalog import CARE_LEVELS
from care.models import CareLevel

BEFORE = [("care", "0003_autovacuum_open_rows")]


@pytest.mark.django_db(transaction=True)
def test_an_upgrade_gives_older_facilities_the_starting_levels_and_leaves_edited_ones():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Facility = old.get_model("accounts", "Facility")
    OldLevel = old.get_model("care", "CareLevel")
    older = Facility.objects.create(name="Older House", timezone="America/Chicago")
    edited = Facility.objects.create(name="Edited House", timezone="America/Chicago")
    OldLevel.objects.create(facility=edited, lowest_score=0, name="Everyone")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert list(
        CareLevel.objects.filter(facility_id=older.pk).values_list("lowest_score", "name")
    ) == [tuple(level) for level in CARE_LEVELS]
    assert list(CareLevel.objects.filter(facility_id=edited.pk).values_list("name", flat=True)) == [
        "Everyone"
    ]
