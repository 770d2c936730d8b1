import datetime

from django import forms

from core import forms as core_forms
from core.validators import finite_number
from meds.barcodes import MAX_LENGTH
from vitals.models import HOLD_VITAL_CHOICES

from .models import AdminStatus, AmendmentKind, FollowUpResult
from .services.offline import Resolution


class _VitalsMixin:
    """Optional vital-sign inputs named vital_<kind>; `vitals()` returns the filled ones."""

    def add_vital_fields(self) -> None:
        # The signs a hold parameter may name: the cart asks for no others.
        for kind, label in HOLD_VITAL_CHOICES:
            self.fields[f"vital_{kind}"] = forms.CharField(
                required=False, max_length=10, label=label, validators=[finite_number]
            )

    def vitals(self) -> dict[str, str]:
        return {
            kind: self.cleaned_data.get(f"vital_{kind}", "")
            for kind, _label in HOLD_VITAL_CHOICES
            if self.cleaned_data.get(f"vital_{kind}")
        }


_STALE_FORM = {
    "required": "This form is out of date: reload the page and document again.",
    "invalid": "This form is out of date: reload the page and document again.",
}


class DoseRecordForm(_VitalsMixin, core_forms.Form):
    key = forms.UUIDField(widget=forms.HiddenInput, error_messages=_STALE_FORM)
    status = forms.ChoiceField(
        choices=AdminStatus.choices,
        error_messages={
            "required": "Choose what happened: given, refused, held, …",
            "invalid_choice": "Choose what happened: given, refused, held, …",
        },
    )
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


class DoseAwayForm(core_forms.Form):
    """A dose due while the resident is away at an appointment: what happened to it."""

    key = forms.UUIDField(widget=forms.HiddenInput, error_messages=_STALE_FORM)
    choice = forms.ChoiceField(
        choices=[
            ("given_before", "Given before leaving"),
            ("sent", "Sent with the resident"),
            ("not_given", "Not given (out at the appointment)"),
        ],
        error_messages={
            "required": "Choose what happened to the dose.",
            "invalid_choice": "Choose what happened to the dose.",
        },
    )


class PrnGiveForm(_VitalsMixin, core_forms.Form):
    key = forms.UUIDField(widget=forms.HiddenInput, error_messages=_STALE_FORM)
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
    result = forms.ChoiceField(
        choices=FollowUpResult.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose effective, partly effective or not effective.",
            "invalid_choice": "Choose effective, partly effective or not effective.",
        },
    )
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


class PassingForm(core_forms.Form):
    """What the med pass covers: "mine", "all", "unit:<pk>" or "cart:<pk>" (the picker's
    choices, built by the view from the facility's units and carts)."""

    passing = forms.ChoiceField(label="What are you passing?", widget=forms.RadioSelect)

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["passing"].choices = list(choices)


class CartForm(core_forms.Form):
    name = forms.CharField(max_length=60, label="Cart name", help_text="e.g. North Wing cart 1")
    residents = forms.MultipleChoiceField(
        required=False, label="Residents it serves", widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, residents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["residents"].choices = [(str(r.pk), str(r)) for r in residents]


class AssignmentForm(core_forms.Form):
    """Residents for one med tech and one shift: ticked, or a whole unit or cart taken."""

    shift = forms.ChoiceField(label="Shift")
    med_tech = forms.ChoiceField(label="Med tech", required=False)
    residents = forms.MultipleChoiceField(
        required=False, label="Residents", widget=forms.CheckboxSelectMultiple
    )
    take = forms.ChoiceField(required=False)

    def __init__(self, *args, shifts=(), med_techs=(), residents=(), groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shift"].choices = [(s.key, str(s)) for s in shifts]
        self.fields["med_tech"].choices = [(str(u.pk), str(u)) for u in med_techs]
        self.fields["residents"].choices = [(str(r.pk), str(r)) for r in residents]
        self.fields["take"].choices = [("", ""), *((key, key) for key in groups)]


class OfflineRecordForm(core_forms.Form):
    """One record a cart sends from its offline queue (JSON, static/js/offline.js)."""

    key = forms.UUIDField()
    kind = forms.ChoiceField(choices=[("dose", "dose"), ("prn", "PRN")])
    target = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    device_at = forms.DateTimeField(input_formats=["iso-8601"])
    snapshot_at = forms.DateTimeField(required=False, input_formats=["iso-8601"])
    status = forms.ChoiceField(choices=AdminStatus.choices, required=False)
    reason = forms.CharField(required=False, max_length=300)
    late_reason = forms.CharField(required=False, max_length=300)
    other_code = forms.CharField(required=False, max_length=40)
    prn_reason = forms.CharField(required=False, max_length=300)
    notes = forms.CharField(required=False, max_length=500)

    def __init__(self, data, *args, **kwargs):
        # Vitals come as an object {kind: value}; they are checked as the cart's inputs are.
        vitals = data.get("vitals") if isinstance(data, dict) else None
        self.vitals_given = vitals if isinstance(vitals, dict) else {}
        # Form fields read text: a number sent where text belongs is read as its text.
        flat = {
            name: str(value)
            for name, value in (data.items() if isinstance(data, dict) else ())
            if isinstance(value, str | int | float) and not isinstance(value, bool)
        }
        super().__init__(flat, *args, **kwargs)

    def clean_device_at(self):
        # Django reads a time without an offset in the server's zone; a cart always sends one.
        value = self.cleaned_data["device_at"]
        try:
            sent = datetime.datetime.fromisoformat(str(self.data.get("device_at")))
        except ValueError:
            sent = None
        if sent is None or sent.tzinfo is None:
            raise forms.ValidationError("The device's time has no offset.")
        return value

    def clean(self):
        data = super().clean()
        vitals = {}
        for kind, raw in self.vitals_given.items():
            if kind not in dict(HOLD_VITAL_CHOICES) or not isinstance(raw, str | int | float):
                self.add_error(None, f"Unknown vital sign {kind!s:.20}.")
                continue
            try:
                finite_number(str(raw))
            except forms.ValidationError as error:
                self.add_error(None, error)
                continue
            vitals[kind] = str(raw)[:10]
        data["vitals"] = vitals
        if not data.get("status"):
            data["status"] = AdminStatus.GIVEN
        return data


class ReconciliationForm(core_forms.Form):
    action = forms.ChoiceField(
        choices=Resolution.CHOICES,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose keep, amend or void.",
            "invalid_choice": "Choose keep, amend or void.",
        },
    )
    reason = forms.CharField(max_length=300, label="Reason for your decision")
    status = forms.ChoiceField(
        choices=[("", "— as recorded —"), *AdminStatus.choices],
        required=False,
        label="Amended status",
    )
    administered_at = forms.DateTimeField(
        required=False,
        label="Amended time (facility time)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
