import datetime
import re
from decimal import Decimal

from django import forms

from core import forms as core_forms
from vitals.models import HOLD_VITAL_CHOICES

from .models import (
    Comparator,
    ControlledSchedule,
    Form,
    HighAlert,
    Medication,
    Recurrence,
    Route,
)
from .services import HoldRule

DATE = forms.DateInput(attrs={"type": "date"})
WEEKDAY_CHOICES = [
    (1, "Mon"),
    (2, "Tue"),
    (3, "Wed"),
    (4, "Thu"),
    (5, "Fri"),
    (6, "Sat"),
    (7, "Sun"),
]
HOLD_ROWS = 2


def parse_times(text: str) -> list[datetime.time]:
    """'8:00, 20:00' or '0800 2000' or '8am, 8pm' -> times; ValueError with a plain message."""
    times = []
    for token in re.split(r"[,\s;]+(?![ap]m)", text.strip().lower()):
        if not token:
            continue
        match = re.fullmatch(r"(\d{1,2})(?::?(\d{2}))?\s*([ap]m)?", token)
        if not match:
            raise ValueError(f"“{token}” is not a time; write times like 08:00, 20:00.")
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if match.group(3):
            if not 1 <= hour <= 12:
                raise ValueError(f"“{token}” is not a time.")
            hour = hour % 12 + (12 if match.group(3) == "pm" else 0)
        if hour > 23 or minute > 59:
            raise ValueError(f"“{token}” is not a time of day.")
        times.append(datetime.time(hour, minute))
    return sorted(set(times))


def parse_month_days(text: str) -> list[int]:
    days = []
    for token in re.split(r"[,\s;]+", text.strip()):
        if not token:
            continue
        if not token.isdigit() or not 1 <= int(token) <= 31:
            raise ValueError(f"“{token}” is not a day of the month (1–31).")
        days.append(int(token))
    return sorted(set(days))


class MedicationChoice(forms.ModelChoiceField):
    """The medication of an order, posted as the id of the entry chosen among the search
    results (templates/meds/_medication_results.html renders the choices: a catalog of
    100,000 entries is never listed whole)."""

    widget = forms.HiddenInput
    default_error_messages = {
        "required": "Find the medication: type part of its name, strength or NDC, then "
        "choose it in the list.",
        "invalid_choice": "That medication is not in the catalog; search again and choose it "
        "in the list.",
    }


class OrderForm(core_forms.Form):
    medication = MedicationChoice(queryset=Medication.objects.all())
    medication_query = forms.CharField(
        label="Medication",
        required=False,
        max_length=200,
        help_text="Type part of the name, the strength or the NDC, then choose below.",
    )
    dose_amount = forms.DecimalField(min_value=Decimal("0.001"), max_digits=8, decimal_places=3)
    dose_unit = forms.CharField(
        max_length=20,
        required=False,
        help_text="Empty: the medication's own unit (tablet, mL, puff, patch …).",
    )
    route = forms.ChoiceField(choices=Route.choices, initial=Route.ORAL)
    instructions = forms.CharField(max_length=300, required=False)
    indication = forms.CharField(max_length=200, required=False, help_text="Required for PRN.")
    prescriber = forms.CharField(max_length=120)
    start_date = forms.DateField(widget=DATE)
    stop_date = forms.DateField(widget=DATE, required=False)
    is_prn = forms.TypedChoiceField(
        label="Kind",
        choices=[("false", "Scheduled"), ("true", "PRN (as needed)")],
        coerce=lambda value: value == "true",
        initial="false",
        widget=forms.RadioSelect,
    )
    times = forms.CharField(
        required=False, label="Dose times", help_text="e.g. 08:00, 20:00", max_length=200
    )
    recurrence = forms.ChoiceField(choices=Recurrence.choices, initial=Recurrence.DAILY)
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAY_CHOICES, coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    every_n_days = forms.IntegerField(
        min_value=2, max_value=90, required=False, label="Every N days"
    )
    month_days = forms.CharField(
        required=False, label="Days of the month", help_text="e.g. 1, 15", max_length=100
    )
    prn_min_hours = forms.DecimalField(
        required=False,
        min_value=Decimal("0.25"),
        max_digits=5,
        decimal_places=2,
        label="PRN: minimum hours between doses",
    )
    prn_max_per_24h = forms.IntegerField(
        required=False, min_value=1, max_value=24, label="PRN: maximum doses in 24 hours"
    )
    window_minutes = forms.IntegerField(
        required=False,
        min_value=5,
        max_value=240,
        help_text="Minutes before and after the due time; empty = facility policy.",
    )
    min_dose_spacing_minutes = forms.IntegerField(
        required=False,
        min_value=15,
        max_value=1440,
        label="Minimum minutes between two doses given",
        help_text="Empty = half the shortest gap between the dose times.",
    )
    allergy_override_reason = forms.CharField(
        required=False,
        max_length=300,
        label="Allergy warning override: reason",
        widget=forms.TextInput(attrs={"size": 60}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for index in range(HOLD_ROWS):
            self.fields[f"hold_{index}_vital"] = forms.ChoiceField(
                choices=[("", "—"), *HOLD_VITAL_CHOICES], required=False, label="Hold if"
            )
            self.fields[f"hold_{index}_comparator"] = forms.ChoiceField(
                choices=[("", "—"), *Comparator.choices], required=False, label="is"
            )
            self.fields[f"hold_{index}_threshold"] = forms.DecimalField(
                required=False, max_digits=6, decimal_places=1, label="value"
            )

    def clean_times(self):
        try:
            return parse_times(self.cleaned_data["times"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_month_days(self):
        try:
            return parse_month_days(self.cleaned_data["month_days"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self):
        data = super().clean()
        if not data.get("dose_unit") and data.get("medication") is not None:
            data["dose_unit"] = data["medication"].dose_unit
        rules = []
        for index in range(HOLD_ROWS):
            vital = data.get(f"hold_{index}_vital")
            comparator = data.get(f"hold_{index}_comparator")
            threshold = data.get(f"hold_{index}_threshold")
            given = [vital, comparator, threshold is not None]
            if any(given) and not all(given):
                self.add_error(
                    f"hold_{index}_vital", "Fill in the vital sign, the comparison and the value."
                )
            elif all(given):
                rules.append(HoldRule(vital=vital, comparator=comparator, threshold=threshold))
        data["hold_rules"] = rules
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "medication": data["medication"],
            "dose_amount": data["dose_amount"],
            "dose_unit": data["dose_unit"],
            "route": data["route"],
            "instructions": data["instructions"],
            "indication": data["indication"],
            "prescriber": data["prescriber"],
            "start_date": data["start_date"],
            "stop_date": data["stop_date"],
            "is_prn": data["is_prn"],
            "times": data["times"],
            "recurrence": data["recurrence"],
            "weekdays": data["weekdays"],
            "every_n_days": data["every_n_days"] or 1,
            "month_days": data["month_days"],
            "window_minutes": data["window_minutes"],
            "prn_min_hours": data["prn_min_hours"],
            "prn_max_per_24h": data["prn_max_per_24h"],
            "min_dose_spacing_minutes": data["min_dose_spacing_minutes"],
            "hold_rules": data["hold_rules"],
            "allergy_override_reason": data["allergy_override_reason"],
        }

    @property
    def hold_rows(self):
        return [
            (
                self[f"hold_{index}_vital"],
                self[f"hold_{index}_comparator"],
                self[f"hold_{index}_threshold"],
            )
            for index in range(HOLD_ROWS)
        ]


def initial_from_order(order, *, today: datetime.date) -> dict:
    """Prefill the change form with the order being replaced."""
    initial = {
        "medication": order.medication_id,
        "dose_amount": order.dose_amount,
        "dose_unit": order.dose_unit,
        "route": order.route,
        "instructions": order.instructions,
        "indication": order.indication,
        "prescriber": order.prescriber,
        "start_date": today,
        "stop_date": order.stop_date,
        "is_prn": "true" if order.is_prn else "false",
        "times": ", ".join(t.strftime("%H:%M") for t in order.times),
        "recurrence": order.recurrence,
        "weekdays": order.weekdays,
        "every_n_days": order.every_n_days if order.every_n_days > 1 else None,
        "month_days": ", ".join(str(d) for d in order.month_days),
        "prn_min_hours": order.prn_min_hours,
        "prn_max_per_24h": order.prn_max_per_24h,
        "window_minutes": order.window_minutes,
        "min_dose_spacing_minutes": order.min_dose_spacing_minutes,
    }
    for index, rule in enumerate(order.hold_parameters.all()[:HOLD_ROWS]):
        initial[f"hold_{index}_vital"] = rule.vital
        initial[f"hold_{index}_comparator"] = rule.comparator
        initial[f"hold_{index}_threshold"] = rule.threshold
    return initial


class ReasonForm(core_forms.Form):
    reason = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"size": 60}))


class MedicationForm(core_forms.Form):
    """A catalog entry. Duplicates and the NDC's shape are the service's to judge."""

    name = forms.CharField(max_length=255, help_text="The name on the label, e.g. Lisinopril.")
    generic_name = forms.CharField(
        max_length=500, required=False, help_text="Used to match residents' allergies."
    )
    strength = forms.CharField(max_length=255, help_text="e.g. 10 mg or 500 mg/5 mL")
    form = forms.ChoiceField(choices=Form.choices)
    default_route = forms.ChoiceField(
        label="Usual route",
        choices=Route.choices,
        initial=Route.ORAL,
        help_text="New orders start with this route.",
    )
    controlled_schedule = forms.ChoiceField(
        label="Controlled substance", choices=ControlledSchedule.choices, required=False
    )
    ndc = forms.CharField(
        label="NDC",
        max_length=20,
        required=False,
        help_text="The National Drug Code on the package, with its dashes, e.g. 0093-1048-01.",
    )
    barcode = forms.CharField(
        max_length=64,
        required=False,
        help_text="Scan the package here, or leave empty.",
    )
    is_time_critical = forms.BooleanField(
        label="Time-critical (new orders get the shorter time window)", required=False
    )
    is_psychotropic = forms.BooleanField(label="Psychotropic", required=False)
    high_alert = forms.ChoiceField(
        label="High-alert class",
        choices=HighAlert.choices,
        required=False,
        help_text="ISMP high-alert medications: a late or missed dose is urgent.",
    )

    @classmethod
    def initial_from(cls, medication: Medication) -> dict:
        return {name: getattr(medication, name) for name in cls.base_fields}
