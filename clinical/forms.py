"""clinical's forms (thin: the services decide)."""

from django import forms

from .rules import ConditionChange
from .services import NOTE_MAX


class ConditionReportForm(forms.Form):
    changes = forms.MultipleChoiceField(
        choices=ConditionChange.choices,
        widget=forms.CheckboxSelectMultiple,
        label="What has changed?",
        error_messages={"required": "Tick at least one change you noticed."},
    )
    note = forms.CharField(
        max_length=NOTE_MAX,
        required=False,
        label="What you saw (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
