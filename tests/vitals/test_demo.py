"""The demo's vital signs: 35 days through the flowsheet's service, a few out of range (the
older acknowledged), one resident losing weight with "re-weigh and review" open; once."""

import datetime

import pytest
from django.utils import timezone

from demo import build
from demo.vitals import seed_vitals
from mar.models import Alert, AlertKind, AlertState
from vitals.models import ExceptionAcknowledgement, VitalException, VitalReading

pytestmark = pytest.mark.django_db


def test_the_demo_has_35_days_of_vitals_with_exceptions_and_a_weight_loss():
    facilities = build.ensure_facilities()
    staff = build.ensure_staff(facilities, "demo-pass-for-tests")
    build.admit_residents(facilities, staff)
    build.add_medications()
    build.write_orders(facilities, staff)
    now = timezone.now()

    made = seed_vitals(facilities, staff)

    readings = VitalReading.objects.filter(source="flowsheet")
    assert made == readings.count() > 1000
    assert readings.order_by("taken_at").first().taken_at <= now - datetime.timedelta(days=34)
    assert {"weight", "systolic_bp", "pulse", "temperature", "blood_glucose"} <= set(
        readings.values_list("kind", flat=True)
    )
    exceptions = VitalException.objects.all()
    acknowledged = ExceptionAcknowledgement.objects.count()
    assert 0 < acknowledged < exceptions.count() < 40
    alerts = Alert.objects.filter(kind=AlertKind.VITAL_EXCEPTION)
    assert alerts.count() == exceptions.count()
    assert alerts.filter(state=AlertState.RESOLVED).count() == acknowledged
    losing = Alert.objects.get(kind=AlertKind.WEIGHT_LOSS)
    assert losing.state == AlertState.OPEN and "weight loss in 30 days" in losing.message
    assert seed_vitals(facilities, staff) == 0  # a second run adds nothing
