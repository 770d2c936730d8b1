"""clinical's forms (thin: the services decide)."""

from django import forms

from core import forms as core_forms

from .rules import ConditionChange, NotificationMethod, NotificationResponse, NotifiedParty
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


class EvaluationForm(core_forms.Form):
    situation = forms.CharField(
        max_length=2000,
        label="S — Situation: what is happening now",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    background = forms.CharField(
        max_length=4000,
        label="B — Background (from the record; add what matters)",
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    assessment = forms.CharField(
        max_length=2000,
        label="A — Assessment: what you found and think the problem is",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    recommendation = forms.CharField(
        max_length=2000,
        label="R — Recommendation: what you ask for or will do",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    monitor = forms.BooleanField(required=False, initial=True, label="Start monitoring every shift")
    monitor_hours = forms.IntegerField(
        min_value=1, max_value=14 * 24, initial=72, label="Monitor for (hours)"
    )


class NotificationForm(core_forms.Form):
    party = forms.ChoiceField(choices=NotifiedParty.choices, widget=forms.HiddenInput)
    method = forms.ChoiceField(
        choices=[("", "—"), *NotificationMethod.choices], label="How", required=False
    )
    person_reached = forms.CharField(max_length=120, required=False, label="Who was reached")
    reached_at = forms.DateTimeField(
        required=False,
        label="When (facility time)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    response = forms.ChoiceField(
        choices=[("", "—"), *NotificationResponse.choices], label="Response", required=False
    )
    response_note = forms.CharField(max_length=1000, required=False, label="What they said")
    declined_reason = forms.CharField(
        max_length=300,
        required=False,
        label="Or: not notified, because",
    )
