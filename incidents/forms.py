"""incidents' forms (thin: the services decide). The report form asks the facts of one type."""

import datetime
from decimal import Decimal

from django import forms
from django.utils import timezone

from core import forms as core_forms
from meds.models import Prescription

from . import rules
from .rules import FACTS, BodySite, Injury, NotifyMethod

YES_NO = [("", "—"), ("yes", "Yes"), ("no", "No")]


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock time at the facility, kept naive: rules.local_instant places it. (Django
    would read it in the facility's zone and refuse 01:30 on the night the clocks go back as
    ambiguous; it is a time people type.)"""

    widget = forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"})

    def to_python(self, value):
        with timezone.override(datetime.UTC):
            value = super().to_python(value)
        return value.replace(tzinfo=None) if value else value


def _choices(choices) -> list[tuple[str, str]]:
    return [("", "—"), *choices.choices]


def _fact_field(name: str) -> forms.Field:
    fact = FACTS[name]
    messages = {"required": rules.MISSING[fact.kind]}
    required = fact.required
    if fact.kind == "yes_no":
        return forms.ChoiceField(
            choices=YES_NO, label=fact.label, required=required, error_messages=messages
        )
    if fact.kind == "choice":
        return forms.ChoiceField(
            choices=_choices(fact.choices),
            label=fact.label,
            required=required,
            error_messages={**messages, "invalid_choice": "Choose one from the list."},
        )
    if fact.kind == "score":
        return forms.IntegerField(
            min_value=0, max_value=10, label=fact.label, required=required, error_messages=messages
        )
    if fact.kind == "size":
        return forms.DecimalField(
            max_digits=3,
            decimal_places=1,
            min_value=Decimal("0.1"),
            label=fact.label,
            required=required,
            error_messages=messages,
        )
    if fact.kind == "instant":
        return LocalDateTimeField(
            label=f"{fact.label} (facility time)", required=required, error_messages=messages
        )
    return forms.CharField(
        max_length=rules.TEXT_MAX[name],
        label=fact.label,
        required=required,
        error_messages=messages,
        widget=forms.Textarea(attrs={"rows": 4}) if name == "description" else None,
    )


class IncidentReportForm(core_forms.Form):
    """The facts of one incident type (`kind`), then a fall's injuries by body site and a
    medication error's order (the resident's orders) and the record it was raised from."""

    def __init__(self, *args, kind: str, orders=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["kind"] = forms.CharField(widget=forms.HiddenInput, max_length=20)
        for name in rules.facts_for(kind):
            self.fields[name] = _fact_field(name)
        if kind == rules.IncidentKind.FALL:
            for site in BodySite:
                self.fields[f"injury_{site}"] = forms.ChoiceField(
                    choices=[("", "No injury"), *Injury.choices],
                    required=False,
                    label=site.label,
                    error_messages={"invalid_choice": "Choose the injury from the list."},
                )
        if kind == rules.IncidentKind.MEDICATION_ERROR:
            self.fields["prescription"] = forms.ModelChoiceField(
                queryset=orders if orders is not None else Prescription.objects.none(),
                label="Medication",
                required=False,
                empty_label="—",
                error_messages={"invalid_choice": "Choose one of this resident's medications."},
            )
            self.fields["administration"] = forms.CharField(
                widget=forms.HiddenInput, required=False, max_length=20
            )
            self.fields["dose"] = forms.CharField(
                widget=forms.HiddenInput, required=False, max_length=20
            )

    def fact_names(self) -> list[str]:
        return rules.facts_for(self.kind)

    def injury_fields(self):
        return [self[f"injury_{site}"] for site in BodySite if f"injury_{site}" in self.fields]

    def facts(self, tz) -> dict:
        """The type's facts as the service takes them (yes/no as booleans, local times as UTC
        instants)."""
        found = {}
        for name in rules.facts_for(self.kind):
            value = self.cleaned_data.get(name)
            kind = FACTS[name].kind
            if kind == "yes_no":
                value = {"yes": True, "no": False}.get(value)
            elif kind == "instant" and value is not None:
                value = rules.local_instant(value, tz)
            found[name] = value
        return found

    def injuries(self) -> dict[str, str]:
        return {
            site.value: self.cleaned_data.get(f"injury_{site}") or ""
            for site in BodySite
            if self.cleaned_data.get(f"injury_{site}")
        }


class AmendForm(core_forms.Form):
    field = forms.ChoiceField(label="What to correct")
    value = forms.CharField(
        max_length=2000,
        required=False,
        label="It should read",
        help_text="Yes or no; a choice in its words; a time as 2026-03-08 14:30.",
    )
    reason = forms.CharField(max_length=300, label="Why")

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [
            ("", "—"),
            *((name, FACTS[name].label) for name in rules.facts_for(kind)),
        ]
        self.fields["field"].error_messages["invalid_choice"] = "Choose one from the list."


class FollowUpDoneForm(core_forms.Form):
    """A notification's how, whom, when and answer; any follow-up's note."""

    method = forms.ChoiceField(choices=_choices(NotifyMethod), required=False, label="How")
    reached = forms.CharField(max_length=120, required=False, label="Who was reached")
    reached_at = LocalDateTimeField(required=False, label="When (facility time)")
    response = forms.CharField(max_length=300, required=False, label="Their response")
    note = forms.CharField(max_length=500, required=False, label="Note")

    def __init__(self, *args, notification: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not notification:
            for name in ("method", "reached", "reached_at", "response"):
                del self.fields[name]
            self.fields["note"].label = "What was done"


class FollowUpDeclineForm(core_forms.Form):
    reason = forms.CharField(max_length=300, label="Why it is declined")


class CloseForm(core_forms.Form):
    note = forms.CharField(max_length=500, required=False, label="Closing note")
