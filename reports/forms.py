"""The one form of `reports`: which unit's monthly MAR PDF to build."""

from django import forms

from accounts.models import Unit
from core import forms as core_forms

from . import params


class MarPdfJobForm(core_forms.Form):
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.none(),
        empty_label="Choose a unit",
        error_messages={"invalid_choice": "Choose one of this facility's units."},
    )
    month = forms.CharField(
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-01"}),
        help_text="Year and month, like 2026-01.",
    )

    def __init__(self, *args, facility, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(facility=facility).order_by("name")

    def clean_month(self) -> tuple[int, int]:
        raw = self.cleaned_data["month"]
        month = params.parse_month(raw)
        if month is None:
            raise forms.ValidationError(f"“{raw}” is not a month like 2026-01.")
        return month
