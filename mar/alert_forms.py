"""The inbox's forms: one note for several alerts."""

from django import forms

from core import forms as core_forms
from core.validators import parse_id


class IdListField(forms.Field):
    """Ticked boxes: each value an id, or a group's ids joined by commas. Whatever cannot be an
    id is dropped (the service then says that nothing was ticked)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        values = value if isinstance(value, list | tuple) else [value] if value else []
        ids = {parse_id(part) for raw in values for part in str(raw).split(",")}
        return sorted(i for i in ids if i is not None)


class AlertBulkAcknowledgeForm(core_forms.Form):
    alerts = IdListField(required=False)
    note = forms.CharField(
        required=False,
        max_length=300,
        label="One note for every ticked alert",
        help_text="What you did or will do; saved with each alert, with your name and the time.",
    )
