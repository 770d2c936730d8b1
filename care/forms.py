"""The care pages' forms (thin: the services decide)."""

from dataclasses import dataclass

from django import forms

from core.lookups import NO_REFUSAL
from core.shifts import DEFAULT_SHIFTS

from . import rules
from .models import (
    TASK_DOCUMENTABLE,
    AdlCategory,
    AssessmentReason,
    CareAmendmentKind,
    CareStatus,
)

WEEKDAYS = list(enumerate(rules.WEEKDAY_NAMES, start=1))


class AssessmentForm(forms.Form):
    reason = forms.ChoiceField(choices=AssessmentReason.choices, initial=AssessmentReason.ROUTINE)
    note = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, template, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(template.questions.prefetch_related("choices"))
        for question in self.questions:
            self.fields[f"q{question.pk}"] = forms.TypedChoiceField(
                label=f"{question.get_category_display()}: {question.text}",
                choices=[(c.pk, f"{c.label} ({c.score})") for c in question.choices.all()],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": "Answer this question."},
            )
        self.order_fields([*(f"q{q.pk}" for q in self.questions), "reason", "note"])

    def answers(self) -> dict[int, int]:
        return {q.pk: self.cleaned_data[f"q{q.pk}"] for q in self.questions}


class CareItemForm(forms.Form):
    category = forms.ChoiceField(choices=AdlCategory.choices, label="Care")
    instructions = forms.CharField(max_length=500, label="What care, in plain words")
    planned_code = forms.ChoiceField(choices=rules.GG_PERFORMANCE, label="Expected level of help")
    staff_count = forms.IntegerField(min_value=1, max_value=4, initial=1, label="Staff needed")
    shifts = forms.MultipleChoiceField(
        choices=[(name, label) for name, label, _ in DEFAULT_SHIFTS],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one shift."},
    )
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Days (none: every day)",
    )
    minutes = forms.IntegerField(min_value=1, max_value=240, initial=10)


class CareRecordForm(forms.Form):
    status = forms.ChoiceField(
        choices=CareStatus.choices, initial=CareStatus.DONE, widget=forms.RadioSelect
    )
    performance_code = forms.ChoiceField(
        choices=[("", "—"), *rules.GG_PERFORMANCE], required=False, label="Help given"
    )
    reason = forms.CharField(max_length=300, required=False)
    note = forms.CharField(max_length=1000, required=False)


class CareAmendForm(forms.Form):
    kind = forms.ChoiceField(
        choices=CareAmendmentKind.choices,
        widget=forms.RadioSelect,
        initial=CareAmendmentKind.CORRECTION,
        label="Amendment",
    )
    status = forms.ChoiceField(
        choices=[("", "Unchanged"), *CareStatus.choices], required=False, label="Should read"
    )
    performance_code = forms.ChoiceField(
        choices=[("", "Unchanged"), *rules.GG_CODES], required=False, label="Level of help"
    )
    reason = forms.CharField(max_length=300, label="Why")


class CareLevelForm(forms.Form):
    name = forms.CharField(max_length=60, label="Care level")
    lowest_score = forms.IntegerField(
        min_value=0, max_value=200, label="From score", help_text="Up to the next level's score."
    )


@dataclass(frozen=True)
class RecordLine:
    """What the one line that documents a task offers (CareRecordForm's choices; "done" first,
    checked): the same for every task, so one is shared by all."""

    statuses: tuple = tuple(CareRecordForm.base_fields["status"].choices)
    codes: tuple = tuple(CareRecordForm.base_fields["performance_code"].choices)


RECORD_LINE = RecordLine()


STATE_BADGES = {"done": "ok", "due": "warn"}  # any other state: "bad"


@dataclass(frozen=True)
class TaskLine:
    """What a task's line reads, in words made once (a page lists many tasks, and the template
    engine costs far more per lookup, choice label and number than this does)."""

    id: str
    category: str
    shift: str
    state: str
    state_class: str
    plan: str
    status_stem: str  # the status radios' ids: "<stem>_0", "<stem>_1", ...

    @classmethod
    def of(cls, task) -> "TaskLine":
        item = task.item
        staff = f", {item.staff_count} staff" if item.staff_count > 1 else ""
        return cls(
            id=str(task.pk),
            status_stem=f"t{task.pk}-status",
            category=item.get_category_display(),
            shift=task.get_shift_name_display(),
            state=task.get_state_display(),
            state_class=STATE_BADGES.get(task.state, "bad"),
            plan=f"{item.instructions} — planned help: {item.get_planned_code_display()}"
            f"{staff}, about {item.minutes} minutes.",
        )


def with_record_forms(tasks) -> list:
    """Each task gets its line's words and, while still to document, its one-line form
    (`care/_task.html` makes its ids unique on the page)."""
    for task in tasks:
        task.line = TaskLine.of(task)
        documentable = task.state in TASK_DOCUMENTABLE and task.record is None
        task.record_form = RECORD_LINE if documentable else None
        task.refusal = NO_REFUSAL  # a refused line's view replaces it
    return tasks


class MonitoringCheckForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("done", "Checked"), ("not_done", "Not done")],
        initial="done",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(max_length=1000, label="What you saw")


class MonitoringEndForm(forms.Form):
    note = forms.CharField(
        max_length=1000,
        label="Why monitoring ends early",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
