from django import forms

from core import forms as core_forms

from .models import AmendmentKind, NoteCategory

_STALE_FORM = {
    "required": "This form is out of date: reload the page and write the note again.",
    "invalid": "This form is out of date: reload the page and write the note again.",
}


class NoteForm(core_forms.Form):
    """A handoff note about one of the unit's present residents."""

    key = forms.UUIDField(widget=forms.HiddenInput, error_messages=_STALE_FORM)
    resident = forms.TypedChoiceField(
        coerce=int,
        label="Resident",
        error_messages={
            "required": "Choose the resident.",
            "invalid_choice": "Choose a resident of this unit.",
        },
    )
    category = forms.ChoiceField(
        choices=[("", "Choose …"), *NoteCategory.choices],
        label="About",
        error_messages={
            "required": "Choose what the note is about.",
            "invalid_choice": "Choose what the note is about.",
        },
    )
    text = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Note",
        error_messages={"required": "Write the note."},
    )

    def __init__(self, *args, residents: list[tuple[int, str]] = (), **kwargs):
        """`residents`: (id, words) of those a note may be about."""
        super().__init__(*args, **kwargs)
        self.fields["resident"].choices = [("", "Choose …"), *residents]


class NoteAmendForm(core_forms.Form):
    kind = forms.ChoiceField(
        choices=AmendmentKind.choices,
        widget=forms.RadioSelect,
        label="Amendment",
        error_messages={"required": "Choose a correction or entered in error."},
    )
    text = forms.CharField(
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Corrected note",
        help_text="For a correction: what the note should read.",
    )
    reason = forms.CharField(max_length=300, error_messages={"required": "Say why."})


class AcknowledgeForm(core_forms.Form):
    """The incoming staff member's sign-off, typed at this workstation."""

    incoming_username = forms.CharField(max_length=150, label="Incoming username")
    incoming_secret = forms.CharField(
        max_length=128, widget=forms.PasswordInput, label="Incoming password or PIN"
    )
