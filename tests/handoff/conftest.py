import datetime
import uuid

import pytest

from accounts.models import Role
from handoff import services
from tests.factories import member

# 10:00 in New York on a winter Wednesday: the day shift (07-15) is running.
NOW = datetime.datetime(2026, 3, 4, 15, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def med_tech(facility):
    return member(facility, Role.MED_TECH, username="daytech")


@pytest.fixture
def evening_tech(facility):
    return member(facility, Role.MED_TECH, username="eveningtech")


@pytest.fixture
def nurse(facility):
    return member(facility, Role.NURSE, username="nurse9")


def note(resident, actor, text="Ate little at lunch; offer a snack.", *, at=NOW, category="care"):
    return services.handoff_note_add(
        actor=actor, resident=resident, category=category, text=text, key=uuid.uuid4(), now=at
    )
