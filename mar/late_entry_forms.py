"""The forms of the downtime MAR typed in (mar/late_entry_views.py): the period, and one form
with a line of inputs per dose and per PRN line, named "<row>-<input>" (the service's fields)."""

import datetime
import re
import uuid

from django import forms

from core import forms as core_forms

from .models import AdminStatus
from .services.late_entry import MAX_HOURS, PAPER_STATUSES, REASON_LENGTH, LateEntry, PaperTime

DEFAULT_HOURS = 8
# How far back a period may start: the dose engine's catch-up (7 days).
OLDEST_START = datetime.timedelta(days=7)
_CLOCK = re.compile(r"^\s*(\d{1,2}):?(\d{2})(?:\s*([A-Za-z]{2,5}))?\s*$")


class PeriodForm(core_forms.Form):
    """From when (the facility's wall clock) and for how many hours, as the downtime MAR."""

    start = forms.CharField(
        required=False,
        max_length=25,
        label="From (facility time)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    hours = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_HOURS,
        label="Hours",
        error_messages={
            "min_value": f"Choose 1 to {MAX_HOURS} hours.",
            "max_value": f"Choose 1 to {MAX_HOURS} hours.",
            "invalid": f"Choose 1 to {MAX_HOURS} hours.",
        },
    )

    def __init__(self, *args, tz, now: datetime.datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz, self.now = tz, now

    def clean_start(self) -> datetime.datetime:
        raw = (self.cleaned_data.get("start") or "").strip()
        default = (self.now - datetime.timedelta(hours=DEFAULT_HOURS)).replace(
            second=0, microsecond=0
        )
        if not raw:
            return default
        try:
            # The page's own link and hidden input carry the offset ("…T01:30-05:00", exact
            # in the hour the clocks repeat); a time typed in is the facility's wall clock,
            # read as the schedule reads it (fold 0).
            typed = datetime.datetime.fromisoformat(raw)
            if typed.tzinfo is None:
                typed = typed.replace(tzinfo=self.tz)
            start = typed.astimezone(datetime.UTC).replace(second=0, microsecond=0)
        except (ValueError, OverflowError):
            raise forms.ValidationError("Enter a date and time, e.g. 2026-03-08 07:00.") from None
        if start > self.now or start < self.now - OLDEST_START:
            raise forms.ValidationError("Choose a start within the last 7 days.")
        return start

    def clean_hours(self) -> int:
        return self.cleaned_data.get("hours") or DEFAULT_HOURS

    def period(self) -> tuple[datetime.datetime, int]:
        """(start, hours): the valid ones typed, else the defaults."""
        data = getattr(self, "cleaned_data", {})
        start = data.get("start")
        if not isinstance(start, datetime.datetime):
            start = (self.now - datetime.timedelta(hours=DEFAULT_HOURS)).replace(
                second=0, microsecond=0
            )
        return start, data.get("hours") or DEFAULT_HOURS


class PaperTimeField(forms.CharField):
    """ "08:30", "0830" or "8:30", with the zone when the clock went back ("01:30 EST")."""

    def __init__(self, **kwargs):
        super().__init__(max_length=12, **kwargs)
        self.widget.attrs.update(size="8", placeholder="HH:MM", autocomplete="off")

    def clean(self, value):
        value = super().clean(value)  # the text's own checks (length, control characters)
        if not value:
            return None
        match = _CLOCK.match(value)
        if match is None:
            raise forms.ValidationError("Write the time as HH:MM, e.g. 08:30.")
        hour, minute, zone = int(match[1]), int(match[2]), match[3] or ""
        if hour > 23 or minute > 59:
            raise forms.ValidationError("Write the time as HH:MM, e.g. 08:30.")
        return PaperTime(datetime.time(hour, minute), zone.upper())


def _staff_choices(staff) -> list[tuple[str, str]]:
    return [("", "—"), *((str(u.pk), f"{u} ({u.initials})") for u in staff)]


class LateEntriesForm(core_forms.Form):
    """One line per dose ("dose-<pk>-…") and `lines` per PRN order ("prn-<pk>-<n>-…")."""

    start = forms.CharField(required=False, widget=forms.HiddenInput)
    hours = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, sheet, staff, lines: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows: dict[str, dict] = {}  # row -> {"dose" | "order": …}
        choices = _staff_choices(staff)
        for sheet_resident in sheet:
            for dose in sheet_resident.doses:
                row = f"dose-{dose.pk}"
                self._add_row(row, choices, status=True, witness=dose.prescription.is_controlled)
                self.rows[row] = {"dose": dose}
            for order in sheet_resident.prn:
                for n in range(1, lines + 1):
                    row = f"prn-{order.pk}-{n}"
                    self._add_row(row, choices, status=False, witness=order.is_controlled)
                    self.rows[row] = {"order": order}

    def _add_row(self, row: str, choices, *, status: bool, witness: bool) -> None:
        fields = self.fields
        if status:
            fields[f"{row}-status"] = forms.ChoiceField(
                required=False,
                label="What happened",
                choices=[("", "—"), *((s.value, s.label) for s in PAPER_STATUSES)],
                error_messages={"invalid_choice": "Choose given, refused, held or not available."},
            )
        fields[f"{row}-time"] = PaperTimeField(required=False, label="Time")
        fields[f"{row}-by"] = forms.ChoiceField(
            required=False,
            label="Initials",
            choices=choices,
            error_messages={"invalid_choice": "Choose who initialled it from the list."},
        )
        fields[f"{row}-reason"] = forms.CharField(
            required=False, max_length=REASON_LENGTH, label="Reason"
        )
        if witness:
            fields[f"{row}-witness"] = forms.ChoiceField(
                required=False,
                label="Witness",
                choices=choices,
                error_messages={"invalid_choice": "Choose the witness from the list."},
            )
        # The line's one-time key, made when the page is shown: sent twice, it saves once.
        fields[f"{row}-key"] = forms.UUIDField(
            required=False, widget=forms.HiddenInput, initial=uuid.uuid4
        )

    def row_fields(self, row: str) -> dict:
        """The row's bound fields by input name (status, time, by, reason, witness, key)."""
        prefix = f"{row}-"
        return {
            name.removeprefix(prefix): self[name] for name in self.fields if name.startswith(prefix)
        }

    def entries(self) -> list[LateEntry]:
        """The lines something was typed into (a blank line is nothing to save)."""
        data = self.cleaned_data
        found = []
        for row, what in self.rows.items():
            typed = {
                name: data.get(f"{row}-{name}")
                for name in ("status", "time", "by", "reason", "witness")
            }
            if not any(typed.values()):
                continue
            dose = what.get("dose")
            found.append(
                LateEntry(
                    row=row,
                    key=data.get(f"{row}-key"),
                    dose_id=dose.pk if dose is not None else None,
                    prescription_id=what["order"].pk if dose is None else dose.prescription_id,
                    status=typed["status"] or ("" if dose is not None else AdminStatus.GIVEN),
                    time=typed["time"],
                    by_id=int(typed["by"]) if typed["by"] else None,
                    reason=typed["reason"] or "",
                    witness_id=int(typed["witness"]) if typed["witness"] else None,
                )
            )
        return found
