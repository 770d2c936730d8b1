"""appointments' forms (thin: the services decide). Times are typed in facility time and placed
by `local_instant` (a time in the spring-forward gap lands after it, a repeated one is its first
occurrence), as every time people type in this product."""

import datetime
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from core import forms as core_forms
from meds.models import Medication, Route

from .models import Seen, Transport


def local_instant(local: datetime.datetime | None, tz: ZoneInfo) -> datetime.datetime | None:
    """The UTC instant of a wall-clock time typed at the facility (fold 0: DESIGN.md's rule)."""
    if local is None:
        return None
    return local.replace(tzinfo=None, fold=0).replace(tzinfo=tz).astimezone(datetime.UTC)


def local_input(moment: datetime.datetime | None, tz: ZoneInfo) -> datetime.datetime | None:
    """An instant as the facility's wall clock, naive, for a form's initial value."""
    return moment.astimezone(tz).replace(tzinfo=None) if moment else None


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock time at the facility, kept naive (Django would refuse 01:30 on the night the
    clocks go back as ambiguous; local_instant places it)."""

    widget = forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"})

    def to_python(self, value):
        with timezone.override(datetime.UTC):
            value = super().to_python(value)
        return value.replace(tzinfo=None) if value else value


class VersionForm(core_forms.Form):
    """The version of the appointment the page was read at (a change made meanwhile is refused)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


class AppointmentForm(core_forms.Form):
    # Empty when booking; the version read when correcting.
    version = forms.IntegerField(
        widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1, required=False
    )
    provider_name = forms.CharField(label="Provider (doctor or clinic)", max_length=120)
    provider_specialty = forms.CharField(label="Specialty", max_length=80, required=False)
    provider_address = forms.CharField(label="Address", max_length=300, required=False)
    provider_phone = forms.CharField(label="Phone", max_length=40, required=False)
    starts_at = LocalDateTimeField(label="Appointment at (facility time)")
    expected_return_at = LocalDateTimeField(label="Expected back (facility time)")
    purpose = forms.CharField(max_length=300)
    transport = forms.ChoiceField(choices=[("", "—"), *Transport.choices])
    transport_booker = forms.CharField(
        label="Who books the transport", max_length=120, required=False
    )
    pickup_at = LocalDateTimeField(label="Pick-up (facility time)", required=False)
    escort = forms.CharField(max_length=120, required=False)
    bring_medication_list = forms.BooleanField(label="Bring the medication list", required=False)
    bring_insurance_card = forms.BooleanField(label="Bring the insurance card", required=False)
    bring_mar = forms.BooleanField(label="Bring the MAR", required=False)
    fasting = forms.BooleanField(label="Fasting before the appointment", required=False)
    instructions = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def details(self, tz: ZoneInfo) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        for name in ("starts_at", "expected_return_at", "pickup_at"):
            data[name] = local_instant(data.get(name), tz)
        return data


class TransportForm(VersionForm):
    pickup_at = LocalDateTimeField(label="Pick-up (facility time)")
    note = forms.CharField(label="Booking reference", max_length=200, required=False)


class HoldForm(core_forms.Form):
    prescription = forms.ModelChoiceField(
        queryset=None, label="Medication to hold", empty_label="—"
    )
    starts_at = LocalDateTimeField(label="Hold from (facility time)")
    ends_at = LocalDateTimeField(label="Hold until (facility time)")
    reason = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, orders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prescription"].queryset = orders


class MoveForm(VersionForm):
    """Leaving or coming back: when (empty: now)."""

    at = LocalDateTimeField(label="When (facility time; empty: now)", required=False)


class CancelForm(VersionForm):
    reason = forms.CharField(max_length=300)


class HoldDecisionForm(core_forms.Form):
    reason = forms.CharField(max_length=300, required=False)


TIMES_HELP = "Dose times, e.g. 08:00, 20:00 (every day)."


class OutcomeForm(VersionForm):
    seen = forms.ChoiceField(choices=[("", "—"), *Seen.choices], label="Was the resident seen?")
    notes = forms.CharField(
        label="What the provider said (or why not seen)",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    order = forms.ChoiceField(
        label="Orders from the appointment",
        choices=[
            ("none", "No new or changed order"),
            ("new", "A new order"),
            ("change", "A changed order"),
        ],
        initial="none",
        required=False,
    )
    replaces = forms.ModelChoiceField(
        queryset=None, required=False, label="The order it changes", empty_label="—"
    )
    medication = forms.ModelChoiceField(
        queryset=Medication.objects.order_by("name", "strength"),
        required=False,
        empty_label="—",
    )
    dose_amount = forms.DecimalField(
        required=False, max_digits=8, decimal_places=3, min_value=Decimal("0.001")
    )
    dose_unit = forms.CharField(max_length=20, required=False, initial="tablet")
    route = forms.ChoiceField(choices=[("", "—"), *Route.choices], required=False)
    times = forms.CharField(
        label="Dose times", max_length=100, required=False, help_text=TIMES_HELP
    )
    prescriber = forms.CharField(max_length=120, required=False)
    instructions = forms.CharField(max_length=300, required=False)
    allergy_override_reason = forms.CharField(
        label="Allergy override reason (only if warned)", max_length=300, required=False
    )

    def __init__(self, *args, orders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["replaces"].queryset = orders

    def clean(self):
        data = super().clean()
        choice = data.get("order") or "none"
        if choice == "none":
            return data
        for name, message in (
            ("medication", "Choose the medication."),
            ("dose_amount", "Enter the dose."),
            ("route", "Choose the route."),
            ("prescriber", "Enter the prescriber."),
        ):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, message)
        if choice == "change" and not data.get("replaces") and "replaces" not in self.errors:
            self.add_error("replaces", "Choose the order it changes.")
        raw = data.get("times") or ""
        times = []
        for part in filter(None, re.split(r"[,\s]+", raw)):
            try:
                times.append(datetime.time.fromisoformat(part) if len(part) == 5 else None)
                if times[-1] is None:
                    raise ValueError
            except ValueError:
                self.add_error("times", f"“{part}” is not a time. {TIMES_HELP}")
                break
        else:
            if not times:
                self.add_error("times", TIMES_HELP)
        data["times_parsed"] = times
        return data
