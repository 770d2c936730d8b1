"""vitals' forms (thin: the services decide; the reading form checks each value with the same
rule the service applies, so every wrong value gets its message beside it at once)."""

from django import forms

from core.errors import DomainError

from .models import VITAL_UNITS, VitalSign
from .services import NOTE_MAX, reading_value

# The flowsheet form's order: the way a set of vitals is usually taken.
FORM_ORDER = (
    VitalSign.TEMPERATURE,
    VitalSign.PULSE,
    VitalSign.RESPIRATIONS,
    VitalSign.SYSTOLIC_BP,
    VitalSign.DIASTOLIC_BP,
    VitalSign.SPO2,
    VitalSign.BLOOD_GLUCOSE,
    VitalSign.PAIN,
    VitalSign.WEIGHT,
)
LABELS = {
    VitalSign.SYSTOLIC_BP: "BP systolic (top)",
    VitalSign.DIASTOLIC_BP: "BP diastolic (bottom)",
}
# Signs whose unit says nothing more than the label (pain: a score from 0 to 10).
PLAIN = {VitalSign.PAIN: "Pain (0–10)"}


def _reading_field(sign: VitalSign) -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=8,
        label=PLAIN.get(sign) or f"{LABELS.get(sign, sign.label)} ({VITAL_UNITS[sign]})",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 6}),
    )


class ReadingsForm(forms.Form):
    """Any of the vitals, each optional; at least one unless `optional` (vitals taken with
    something else: a nurse's evaluation)."""

    def __init__(self, *args, optional: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.optional = optional
        for sign in FORM_ORDER:
            self.fields[sign.value] = _reading_field(sign)

    def clean(self):
        data = super().clean()
        for sign in FORM_ORDER:
            raw = (self.data.get(self.add_prefix(sign.value)) or "").strip() if self.data else ""
            if raw and sign.value not in self.errors:
                try:
                    data[sign.value] = reading_value(sign.value, raw)
                except DomainError as error:
                    self.add_error(sign.value, error.message)
        systolic, diastolic = VitalSign.SYSTOLIC_BP.value, VitalSign.DIASTOLIC_BP.value
        if bool(data.get(systolic)) != bool(data.get(diastolic)) and not (
            {systolic, diastolic} & set(self.errors)
        ):
            missing = diastolic if data.get(systolic) else systolic
            self.add_error(missing, "Enter both numbers of the blood pressure.")
        if (
            not self.optional
            and not self.errors
            and not any(data.get(sign.value) not in (None, "") for sign in FORM_ORDER)
        ):
            raise forms.ValidationError("Enter at least one reading.")
        return data

    def values(self) -> dict:
        return {sign.value: self.cleaned_data.get(sign.value) for sign in FORM_ORDER}


class RangeForm(forms.Form):
    low = forms.CharField(required=False, max_length=8, label="Low end", help_text="Empty: none.")
    high = forms.CharField(required=False, max_length=8, label="High end", help_text="Empty: none.")


class ResidentRangeForm(RangeForm):
    kind = forms.ChoiceField(choices=VitalSign.choices, label="Vital sign")
    note = forms.CharField(
        max_length=NOTE_MAX,
        label="Why this resident's range differs",
        help_text="e.g. usual SpO2 90% (COPD)",
    )

    field_order = ["kind", "low", "high", "note"]


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        max_length=NOTE_MAX,
        label="What you did or will do",
        error_messages={"required": "Write what you did or will do about this reading."},
    )
