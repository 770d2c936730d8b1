from django import forms

from core import forms as core_forms
from core.validators import finite_number
from meds.barcodes import MAX_LENGTH
from meds.models import VitalSign

from .models import AdminStatus, AmendmentKind, FollowUpResult


class _VitalsMixin:
    """Optional vital-sign inputs named vital_<kind>; `vitals()` returns the filled ones."""

    def add_vital_fields(self) -> None:
        for kind, label in VitalSign.choices:
            self.fields[f"vital_{kind}"] = forms.CharField(
                required=False, max_length=10, label=label, validators=[finite_number]
            )

    def vitals(self) -> dict[str, str]:
        return {
            kind: self.cleaned_data.get(f"vital_{kind}", "")
            for kind in VitalSign.values
            if self.cleaned_data.get(f"vital_{kind}")
        }


class DoseRecordForm(_VitalsMixin, core_forms.Form):
    key = forms.UUIDField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=AdminStatus.choices)
    reason = forms.CharField(required=False, max_length=300)
    late_reason = forms.CharField(required=False, max_length=300)
    early_reason = forms.CharField(required=False, max_length=300)
    spacing_override_reason = forms.CharField(required=False, max_length=300)
    other_code = forms.CharField(required=False, max_length=40)
    notes = forms.CharField(required=False, max_length=500)
    witness_username = forms.CharField(required=False, max_length=150)
    witness_secret = forms.CharField(required=False, max_length=128, widget=forms.PasswordInput)
    # The lot of the package scanned for this dose, carried from the scan (GS1 AI 10).
    lot = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_vital_fields()


class PrnGiveForm(_VitalsMixin, core_forms.Form):
    key = forms.UUIDField(widget=forms.HiddenInput)
    prn_reason = forms.CharField(required=False, max_length=300)
    notes = forms.CharField(required=False, max_length=500)
    witness_username = forms.CharField(required=False, max_length=150)
    witness_secret = forms.CharField(required=False, max_length=128, widget=forms.PasswordInput)
    approver_username = forms.CharField(required=False, max_length=150)
    approver_secret = forms.CharField(required=False, max_length=128, widget=forms.PasswordInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_vital_fields()


class FollowUpForm(core_forms.Form):
    result = forms.ChoiceField(choices=FollowUpResult.choices, widget=forms.RadioSelect)
    note = forms.CharField(required=False, max_length=300)


class AmendmentForm(core_forms.Form):
    kind = forms.ChoiceField(choices=AmendmentKind.choices)
    reason = forms.CharField(max_length=300)
    status = forms.ChoiceField(
        choices=[("", "— unchanged —"), *AdminStatus.choices],
        required=False,
        label="Corrected status",
    )
    administered_at = forms.DateTimeField(
        required=False,
        label="Corrected time given (facility time)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    note = forms.CharField(required=False, max_length=500, label="Corrected note")


class AlertResolveForm(core_forms.Form):
    note = forms.CharField(required=False, max_length=300, label="What was done")


class ScanForm(core_forms.Form):
    # What a scanner types, GS1 separators (ASCII 29) included: `meds.barcodes.parse_scan` reads
    # it and refuses, in words, what is too long or holds other control characters.
    code = forms.CharField(required=False, strip=False, label="Scan")
    code.raw_input = True
    code.validators = []  # not even Django's NUL check: the parser names what it cannot read
    code.widget.attrs["maxlength"] = str(MAX_LENGTH)


class OtherCodeForm(core_forms.Form):
    code = forms.CharField(
        max_length=40,
        help_text="A short key kept on each record, e.g. dialysis (lowercase, no spaces).",
    )
    label = forms.CharField(
        max_length=80, help_text="What med techs read when they choose it, e.g. At dialysis."
    )
